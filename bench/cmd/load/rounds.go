package main

import (
	"slices"
	"time"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

// overRounds is one backend's fixed-rate or maximum runs summarised over
// the rounds it ran in.
type overRounds struct {
	Backend string
	Runs    int // rounds with a run of this backend (fewer than c.Rounds if a server failed to start)

	Sent   uint64 // requests sent, all rounds
	Errors uint64 // 503s and failures, all rounds

	SentRate             float64 // median over the rounds of sent/s
	OKRate               float64 // median over the rounds of ok/s
	MinOKRate, MaxOKRate float64 // the lowest and highest ok/s of a round

	// VsNone is the median over the rounds of this backend's ok/s divided
	// by none's ok/s in the same round, so a slow round slows both sides
	// of its ratio; 0 if no round had a run of none with responses.
	VsNone float64

	P50, P99 time.Duration // medians over the rounds with 2xx responses; 0 if none had any
	Max      time.Duration // the largest 2xx latency of any round
}

// summarise groups the runs of scenario in sums by backend, in the order
// of backends (those with no run left out), and summarises each over its
// rounds.
func summarise(sums []summary, scenario string, backends []string) []overRounds {
	runs := map[string][]summary{}
	noneRate := map[int]float64{} // round → none's ok/s
	for _, s := range sums {
		if s.Scenario != scenario {
			continue
		}
		runs[s.Backend] = append(runs[s.Backend], s)
		if s.Backend == "none" {
			noneRate[s.Round] = s.OKRate()
		}
	}
	var out []overRounds
	for _, b := range backends {
		if len(runs[b]) > 0 {
			out = append(out, summariseRuns(runs[b], noneRate))
		}
	}
	return out
}

// summariseRuns summarises runs, one backend's runs of one scenario, one
// per round; noneRate holds none's ok/s by round, for VsNone.
func summariseRuns(runs []summary, noneRate map[int]float64) overRounds {
	o := overRounds{Backend: runs[0].Backend, Runs: len(runs)}
	var sentRates, okRates, ratios []float64
	var p50s, p99s []time.Duration
	for _, s := range runs {
		o.Sent += s.Sent
		o.Errors += s.Shed + s.Failed
		sentRates = append(sentRates, s.SentRate())
		okRates = append(okRates, s.OKRate())
		if base := noneRate[s.Round]; base > 0 {
			ratios = append(ratios, s.OKRate()/base)
		}
		// A round without 2xx responses has no latency to speak of; a
		// zero would drag the median down.
		if s.OK > 0 {
			p50s = append(p50s, s.OKLat.P50)
			p99s = append(p99s, s.OKLat.P99)
		}
		o.Max = max(o.Max, s.OKLat.Max)
	}
	o.SentRate = median(sentRates)
	o.OKRate = median(okRates)
	o.MinOKRate, o.MaxOKRate = slices.Min(okRates), slices.Max(okRates)
	o.VsNone = median(ratios)
	o.P50 = median(p50s)
	o.P99 = median(p99s)
	return o
}

// median returns the middle value of xs (demorun.Median).
func median[T demorun.Number](xs []T) T { return demorun.Median(xs) }
