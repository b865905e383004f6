package main

import (
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// step is one stretch of constant offered load.
type step struct {
	Name     string        // for tables and the chart: "50%", "200%", "100%, slow"
	Load     float64       // offered rate as a fraction of the downstream's base capacity
	Duration time.Duration // how long the rate is held
	Slow     bool          // the downstream has slowed down (work time doubled) by this step's start
}

// Rate is the step's offered load in requests per second for a downstream
// of the given capacity, rounded to the nearest request.
func (s step) Rate(capacity float64) float64 { return math.Round(s.Load * capacity) }

// schedule is a run's steps in order, each starting where the one before
// ended, from 0 at the attack's start.
type schedule []step

// Total is the length of the whole schedule.
func (sc schedule) Total() time.Duration {
	var d time.Duration
	for _, s := range sc {
		d += s.Duration
	}
	return d
}

// Start returns when step i begins, from the attack's start.
func (sc schedule) Start(i int) time.Duration {
	var d time.Duration
	for _, s := range sc[:i] {
		d += s.Duration
	}
	return d
}

// At returns the index of the step under way at t from the attack's start,
// or -1 if t is before 0 or at or after the end.
func (sc schedule) At(t time.Duration) int {
	if t < 0 {
		return -1
	}
	var end time.Duration
	for i, s := range sc {
		end += s.Duration
		if t < end {
			return i
		}
	}
	return -1
}

// SlowFrom returns when the downstream must slow down, from the attack's
// start: the start of the first Slow step, and whether there is one.
func (sc schedule) SlowFrom() (time.Duration, bool) {
	for i, s := range sc {
		if s.Slow {
			return sc.Start(i), true
		}
	}
	return 0, false
}

// stepPacer is a vegeta.Pacer that sends at each step's rate in turn, open
// loop: requests go out on schedule whatever the server does, as they would
// from many independent users. capacity turns each step's Load into a rate.
type stepPacer struct {
	steps    schedule
	capacity float64
}

var _ vegeta.Pacer = stepPacer{}

// timeOf is when request n (from 0) is due: each step's requests evenly
// spaced from its start at its rate. It returns false if the schedule ends
// before n.
func (p stepPacer) timeOf(n float64) (time.Duration, bool) {
	var start time.Duration
	var before float64 // requests due before this step
	for _, s := range p.steps {
		r := s.Rate(p.capacity)
		in := r * s.Duration.Seconds()
		if r > 0 && n < before+in {
			return start + time.Duration((n-before)/r*float64(time.Second)), true
		}
		before += in
		start += s.Duration
	}
	return 0, false
}

// Pace implements vegeta.Pacer: the wait until the next request is due (0
// when behind the schedule), or stop when the schedule has no more.
func (p stepPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	due, ok := p.timeOf(float64(hits))
	if !ok {
		return 0, true
	}
	return max(0, due-elapsed), false
}

// Rate implements vegeta.Pacer.
func (p stepPacer) Rate(elapsed time.Duration) float64 {
	if i := p.steps.At(elapsed); i >= 0 {
		return p.steps[i].Rate(p.capacity)
	}
	return 0
}

// fullSchedule is the step-load comparison: unloaded (the latency
// reference), 50%, 90%, 200% and 100% of capacity, then 100% of the base
// capacity again with the downstream twice as slow (200% of what it can
// now serve), each held for d except the unloaded step (ref).
func fullSchedule(ref, d time.Duration) schedule {
	return schedule{
		{Name: "unloaded (10%)", Load: 0.10, Duration: ref},
		{Name: "50%", Load: 0.50, Duration: d},
		{Name: "90%", Load: 0.90, Duration: d},
		{Name: "200%", Load: 2.00, Duration: d},
		{Name: "100%", Load: 1.00, Duration: d},
		{Name: "100%, slow", Load: 1.00, Duration: d, Slow: true},
	}
}

// overloadSchedule is the short run used for the sweep and the blocking
// adaptive mode: the unloaded reference, then 200% of capacity.
func overloadSchedule(ref, d time.Duration) schedule {
	return schedule{
		{Name: "unloaded (10%)", Load: 0.10, Duration: ref},
		{Name: "200%", Load: 2.00, Duration: d},
	}
}

// stepIndex finds the step called name in sc, or -1.
func (sc schedule) stepIndex(name string) int {
	for i, s := range sc {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// String lists the steps, for the report's header.
func (sc schedule) String() string {
	out := ""
	for i, s := range sc {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s for %s", s.Name, s.Duration)
	}
	return out
}
