package main

import (
	"fmt"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// sample is one reading of the process and the executor, taken every
// -every while the load runs.
type sample struct {
	At         time.Duration // since the load began
	HeapLive   uint64        // runtime/metrics /gc/heap/live:bytes: heap marked live by the last GC
	HeapInUse  uint64        // /memory/classes/heap/objects:bytes: live and not yet swept
	Goroutines int
	Stats      executor.Stats
}

// growthRule decides whether a soak grew. It compares two windows of
// samples taken after the warm-up: the first Window of them (the baseline)
// and the last Window (the end). The soak grew if
//
//	min(end heap live) > max(baseline heap live) × HeapFactor + HeapSlack, or
//	min(end goroutines) > max(baseline goroutines) + GoroutineSlack.
//
// The end's minimum against the baseline's maximum makes one noisy sample
// (a GC that ran late, a burst of workers) harmless on either side, while a
// leak, which raises every sample after it, still shows: a leak of L bytes
// per second is caught once L × (time between the windows) exceeds
// (HeapFactor-1) × baseline + HeapSlack, so a longer soak catches a slower
// leak. Heap live is what the last GC marked, so it is not inflated by
// garbage waiting to be collected.
type growthRule struct {
	Warmup         time.Duration // samples taken before this are ignored
	Window         int           // samples per window; 0: a fifth of those after the warm-up, at least minWindow
	HeapFactor     float64
	HeapSlack      uint64 // bytes
	GoroutineSlack int
}

// minWindow is the fewest samples a window may hold: fewer, and one odd
// sample decides.
const minWindow = 3

// defaultRule is the rule the soak applies for a run of duration d.
func defaultRule(d time.Duration) growthRule {
	return growthRule{Warmup: d / 5, HeapFactor: 1.5, HeapSlack: 4 << 20, GoroutineSlack: 8}
}

// growth is what the rule read from the samples.
type growth struct {
	Window                   int    // samples per window, as used
	HeapBase, HeapEnd        uint64 // max over the baseline, min over the end
	HeapBound                uint64 // HeapEnd above this is growth
	GoroutineBase, GorEnd    int
	GoroutineBound           int
	HeapGrew, GoroutinesGrew bool
}

// check applies the rule to samples, taken in order. It returns an error if
// there are too few samples after the warm-up for two windows that do not
// overlap.
func (r growthRule) check(samples []sample) (growth, error) {
	var post []sample
	for _, s := range samples {
		if s.At >= r.Warmup {
			post = append(post, s)
		}
	}
	w := r.Window
	if w == 0 {
		w = max(minWindow, len(post)/5)
	}
	if len(post) < 2*w {
		return growth{}, fmt.Errorf("%d samples after the %s warm-up; the growth rule needs %d (two windows of %d): run longer",
			len(post), r.Warmup, 2*w, w)
	}
	base, end := post[:w], post[len(post)-w:]
	g := growth{Window: w, HeapBase: base[0].HeapLive, HeapEnd: end[0].HeapLive,
		GoroutineBase: base[0].Goroutines, GorEnd: end[0].Goroutines}
	for _, s := range base {
		g.HeapBase = max(g.HeapBase, s.HeapLive)
		g.GoroutineBase = max(g.GoroutineBase, s.Goroutines)
	}
	for _, s := range end {
		g.HeapEnd = min(g.HeapEnd, s.HeapLive)
		g.GorEnd = min(g.GorEnd, s.Goroutines)
	}
	g.HeapBound = uint64(float64(g.HeapBase)*r.HeapFactor) + r.HeapSlack
	g.GoroutineBound = g.GoroutineBase + r.GoroutineSlack
	g.HeapGrew = g.HeapEnd > g.HeapBound
	g.GoroutinesGrew = g.GorEnd > g.GoroutineBound
	return g, nil
}

// checkSnapshot returns what is wrong with the Stats snapshot s, given the
// previous snapshot read by the same goroutine (nil for the first), the
// most tasks allowed to run at once and the queue's size. Gauges are never
// negative nor above their bound; counters never decrease; Completed never
// exceeds Submitted, nor Panicked Completed.
func checkSnapshot(prev *executor.Stats, s executor.Stats, workers, queue int) []string {
	var bad []string
	if s.Running < 0 || s.Running > workers {
		bad = append(bad, fmt.Sprintf("Running %d outside [0, %d]", s.Running, workers))
	}
	if s.Queued < 0 || s.Queued > queue {
		bad = append(bad, fmt.Sprintf("Queued %d outside [0, %d]", s.Queued, queue))
	}
	if s.Completed > s.Submitted {
		bad = append(bad, fmt.Sprintf("Completed %d > Submitted %d", s.Completed, s.Submitted))
	}
	if s.Panicked > s.Completed {
		bad = append(bad, fmt.Sprintf("Panicked %d > Completed %d", s.Panicked, s.Completed))
	}
	if prev != nil {
		for _, c := range []struct {
			name    string
			was, is uint64
		}{
			{"Submitted", prev.Submitted, s.Submitted},
			{"Completed", prev.Completed, s.Completed},
			{"Rejected", prev.Rejected, s.Rejected},
			{"Panicked", prev.Panicked, s.Panicked},
		} {
			if c.is < c.was {
				bad = append(bad, fmt.Sprintf("%s went down from %d to %d", c.name, c.was, c.is))
			}
		}
	}
	if len(bad) > 0 {
		bad[0] = fmt.Sprintf("%+v: %s", s, bad[0])
	}
	return bad
}
