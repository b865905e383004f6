package main

import (
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

// stepStats is what one step of one run measured.
type stepStats struct {
	Step    step
	Offered float64 // requests per second the schedule sent

	Sent, OK, Shed, Failed int // requests sent during the step, by outcome

	// Goodput is the 2xx responses that ended during the step, per second:
	// what the server got done, whenever the requests were sent.
	Goodput float64
	// P50 and P99 are of the 2xx responses to requests sent during the
	// step; zero if there were none.
	P50, P99 time.Duration

	// Limit is the median reading during the step, LimitLo and LimitHi the
	// least and most; all zero without readings.
	Limit, LimitLo, LimitHi float64
	// Settle is how long after the step began the limit entered, for good,
	// the band around where it ended the step (see settleTime); Settled
	// is false if there were too few readings to tell.
	Settle  time.Duration
	Settled bool
}

// ShedShare is the fraction of the step's requests answered 503.
func (s stepStats) ShedShare() float64 {
	if s.Sent == 0 {
		return 0
	}
	return float64(s.Shed) / float64(s.Sent)
}

// steps summarises r per step of its schedule.
func (r trial) steps(capacity float64) []stepStats {
	sc := r.Mode.Steps
	out := make([]stepStats, len(sc))
	lat := make([][]time.Duration, len(sc))
	for i, s := range sc {
		out[i].Step = s
		out[i].Offered = s.Rate(capacity)
	}
	for _, s := range r.Samples {
		if i := sc.At(s.Sent); i >= 0 {
			st := &out[i]
			st.Sent++
			switch {
			case s.OK():
				st.OK++
				lat[i] = append(lat[i], s.Latency)
			case s.Code == http.StatusServiceUnavailable:
				st.Shed++
			default:
				st.Failed++
			}
		}
		if i := sc.At(s.Done()); i >= 0 && s.OK() {
			out[i].Goodput++
		}
	}
	for i := range out {
		st := &out[i]
		st.Goodput /= sc[i].Duration.Seconds()
		st.P50 = quantile(lat[i], 0.50)
		st.P99 = quantile(lat[i], 0.99)
		start, end := sc.Start(i), sc.Start(i)+sc[i].Duration
		var in []float64
		var pts []limitPoint
		for _, p := range r.Limits {
			if p.At >= start && p.At < end {
				in = append(in, p.Limit)
				pts = append(pts, limitPoint{At: p.At - start, Limit: p.Limit})
			}
		}
		if len(in) > 0 {
			st.Limit = median(in)
			st.LimitLo, st.LimitHi = slices.Min(in), slices.Max(in)
		}
		st.Settle, st.Settled = settleTime(pts, sc[i].Duration)
	}
	return out
}

// quantile returns the q-quantile of xs by nearest rank (the smallest
// value with at least q of xs at or below it), or 0 for none. It sorts xs.
func quantile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	k := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(k, len(xs)-1))]
}

// median is demorun.Median, for the limit readings.
func median(xs []float64) float64 { return demorun.Median(xs) }

// settleBand is how near its final value a limit must stay to have
// settled: within 15% of it, or 2, whichever is more (a limit of 16 that
// moves between 14 and 18 has settled; one that swings from 10 to 30 has
// not).
func settleBand(final float64) float64 { return math.Max(2, 0.15*final) }

// settleTime returns how long after a step's start the limit entered, for
// good, the band around its final value: the median of the readings in the
// step's last quarter. pts are the step's readings, timed from its start,
// in order. It returns false with fewer than 2 readings in that quarter.
// A limit that never leaves the band settles at 0.
func settleTime(pts []limitPoint, d time.Duration) (time.Duration, bool) {
	var tail []float64
	for _, p := range pts {
		if p.At >= d-d/4 {
			tail = append(tail, p.Limit)
		}
	}
	if len(tail) < 2 {
		return 0, false
	}
	final := median(tail)
	band := settleBand(final)
	settle := time.Duration(0)
	for i, p := range pts {
		if math.Abs(p.Limit-final) > band {
			// Settled no sooner than the next reading after this one.
			if i+1 < len(pts) {
				settle = pts[i+1].At
			} else {
				settle = d
			}
		}
	}
	return settle, true
}

// bucket is one slice of a run's time, for the chart.
type bucket struct {
	At      time.Duration // the slice's middle, from the attack's start
	Goodput float64       // 2xx responses that ended in the slice, per second
	P99     time.Duration // of the 2xx responses to requests sent in the slice; 0 if none
}

// buckets slices r's schedule into width-long pieces.
func (r trial) buckets(width time.Duration) []bucket {
	n := int((r.Mode.Steps.Total() + width - 1) / width)
	out := make([]bucket, n)
	lat := make([][]time.Duration, n)
	for i := range out {
		out[i].At = time.Duration(i)*width + width/2
	}
	for _, s := range r.Samples {
		if !s.OK() {
			continue
		}
		if i := int(s.Sent / width); s.Sent >= 0 && i < n {
			lat[i] = append(lat[i], s.Latency)
		}
		if i := int(s.Done() / width); s.Done() >= 0 && i < n {
			out[i].Goodput++
		}
	}
	for i := range out {
		out[i].Goodput /= width.Seconds()
		out[i].P99 = quantile(lat[i], 0.99)
	}
	return out
}

// sweepChoice is the best of the sweep's runs: the most goodput at 200%,
// and among the runs within 2% of it, the lowest 2xx p99 (the first on a
// tie). stats holds each run's 200% step. It returns an index into stats,
// or -1 if no run sent anything.
func sweepChoice(stats []stepStats) int {
	best := -1
	var top float64
	for _, s := range stats {
		top = math.Max(top, s.Goodput)
	}
	for i, s := range stats {
		if s.Goodput < 0.98*top || s.Sent == 0 {
			continue
		}
		if best < 0 || s.P99 < stats[best].P99 {
			best = i
		}
	}
	return best
}
