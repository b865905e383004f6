package adaptive

import (
	"container/heap"
	"math/rand"
	"testing"
	"time"
)

// A simulated downstream and limiter, driven in simulated time: no sleeps,
// no goroutines. Requests arrive open-loop (Poisson); one that finds the
// limit reached is refused (as by a Nonblocking executor, or an expired
// wait budget); one admitted runs for
// base * max(1, inflight/slots), inflight counting it, as a downstream with
// slots concurrent slots (a database, say) serves it. Refusals give no
// sample, as under an Executor.
type sim struct {
	t     *testing.T
	lim   Limit
	limit int
	now   time.Time
	rng   *rand.Rand

	running finishes
}

type finish struct {
	end, start time.Time
	inflight   int
}

type finishes []finish

func (f finishes) Len() int           { return len(f) }
func (f finishes) Less(i, j int) bool { return f[i].end.Before(f[j].end) }
func (f finishes) Swap(i, j int)      { f[i], f[j] = f[j], f[i] }
func (f *finishes) Push(x any)        { *f = append(*f, x.(finish)) }
func (f *finishes) Pop() any {
	old := *f
	x := old[len(old)-1]
	*f = old[:len(old)-1]
	return x
}

func newSim(t *testing.T, lim Limit, b Bounds) *sim {
	t.Helper()
	if err := b.check(); err != nil {
		t.Fatal(err)
	}
	lim.Reset(b)
	return &sim{t: t, lim: lim, limit: b.Initial, now: time.Unix(0, 0), rng: rand.New(rand.NewSource(1))}
}

// phase is a stretch of constant load against a constant downstream.
type phase struct {
	rate  float64       // arrivals per second
	base  time.Duration // the downstream's latency alone
	slots int           // the downstream's concurrent slots
	dur   time.Duration
}

// result is what a phase gave, over its whole length and its last half.
type result struct {
	ok, dropped     int
	maxLimit        int
	minLimit        int
	lastLimit       int
	tailMeanLimit   float64 // mean limit over the phase's second half
	tailGoodput     float64 // finished requests per second over the second half
	tailMeanLatency time.Duration
	limits          []int // the limit every 100ms of simulated time
}

func (s *sim) update(smp Sample, at time.Time) {
	l := s.lim.Update(smp, at)
	if l < 1 {
		s.t.Fatalf("Update returned %d; want at least 1", l)
	}
	s.limit = l
}

func (s *sim) run(p phase) result {
	r := result{minLimit: s.limit, maxLimit: s.limit}
	start := s.now
	end := start.Add(p.dur)
	half := start.Add(p.dur / 2)
	var tailOK int
	var tailLatency time.Duration
	var limitSum float64
	var limitCount int
	nextTick := start
	track := func(at time.Time) {
		for !nextTick.After(at) {
			r.limits = append(r.limits, s.limit)
			if !nextTick.Before(half) {
				limitSum += float64(s.limit)
				limitCount++
			}
			nextTick = nextTick.Add(100 * time.Millisecond)
		}
		if s.limit > r.maxLimit {
			r.maxLimit = s.limit
		}
		if s.limit < r.minLimit {
			r.minLimit = s.limit
		}
	}
	for {
		gap := time.Duration(s.rng.ExpFloat64() / p.rate * float64(time.Second))
		arrival := s.now.Add(gap)
		if arrival.After(end) {
			arrival = end
		}
		for len(s.running) > 0 && !s.running[0].end.After(arrival) {
			f := heap.Pop(&s.running).(finish)
			s.update(Sample{RTT: f.end.Sub(f.start), Inflight: f.inflight}, f.end)
			r.ok++
			if !f.end.Before(half) {
				tailOK++
				tailLatency += f.end.Sub(f.start)
			}
			track(f.end)
		}
		s.now = arrival
		if arrival.Equal(end) {
			break
		}
		n := len(s.running)
		if n >= s.limit {
			r.dropped++
			track(s.now)
			continue
		}
		n++
		lat := p.base
		if n > p.slots {
			lat = p.base * time.Duration(n) / time.Duration(p.slots)
		}
		heap.Push(&s.running, finish{end: s.now.Add(lat), start: s.now, inflight: n})
	}
	r.lastLimit = s.limit
	if limitCount > 0 {
		r.tailMeanLimit = limitSum / float64(limitCount)
	}
	r.tailGoodput = float64(tailOK) / (p.dur / 2).Seconds()
	if tailOK > 0 {
		r.tailMeanLatency = tailLatency / time.Duration(tailOK)
	}
	return r
}

// settledAfter returns how long after the phase began the limit last left
// [lo, hi], or 0 if it never did.
func (r result) settledAfter(lo, hi int) time.Duration {
	last := -1
	for i, l := range r.limits {
		if l < lo || l > hi {
			last = i
		}
	}
	return time.Duration(last+1) * 100 * time.Millisecond
}
