package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// result is what one backend's soak measured and found wrong.
type result struct {
	Backend   string
	Abilities string        // the optional abilities the executor has and the soak used
	Took      time.Duration // the load, not the Shutdown
	Samples   []sample
	Growth    growth
	Final     executor.Stats // after Shutdown
	Accepted  uint64         // the workload's own counts
	Rejected  uint64
	Ran       uint64
	Panicked  uint64
	Handled   uint64
	Inline    uint64

	Scrapes      uint64 // Stats snapshots checked while the load ran
	MaxRunning   int
	MaxQueued    int
	ShutdownTook time.Duration

	GoroutinesBefore int // before the executor was built
	GoroutinesAfter  int // after Shutdown and the soak's own goroutines ended

	Problems []string // empty: passed
}

// shutdownWait bounds Shutdown after the load: every task is short.
const shutdownWait = 30 * time.Second

// builder makes the executor to soak, as backends.New does for a name.
type builder func(executor.Config) (executor.Executor, error)

// soak builds backend with build and c's sizes, runs the workload on it for
// c.Duration while sampling every c.Every and checking Stats every
// c.Scrape, shuts it down and checks the counts, the gauges, the growth
// rule and that its goroutines are gone. Progress goes to progress.
func soak(c config, backend string, build builder, progress io.Writer) result {
	r := result{Backend: backend, GoroutinesBefore: runtime.NumGoroutine()}
	var w *workload
	ex, err := build(executor.Config{Workers: c.Workers, QueueSize: c.Queue, Nonblocking: c.Nonblocking,
		PanicHandler: func(v any) { w.panicHandler(v) }})
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("build: %v", err))
		return r
	}
	w = newWorkload(ex)
	r.Abilities = abilities(ex)
	statsOf, _ := ex.(executor.StatsReporter)
	if statsOf == nil {
		r.Problems = append(r.Problems, "no Stats: the soak needs executor.StatsReporter")
		_ = ex.Shutdown(context.Background())
		return r
	}

	ctx, cancel := context.WithTimeout(context.Background(), c.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < c.Submitters; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			w.submitter(ctx, seed)
		}(uint64(i))
	}
	var helpers sync.WaitGroup
	sc := &scraper{stats: statsOf, workers: c.Workers, queue: c.Queue}
	helpers.Add(1)
	go func() {
		defer helpers.Done()
		sc.run(ctx, c.Scrape)
	}()
	if rs, ok := ex.(executor.Resizer); ok && c.ResizeEvery > 0 {
		helpers.Add(1)
		go func() {
			defer helpers.Done()
			resize(ctx, rs, c.Workers, c.ResizeEvery, w)
		}()
	}

	r.Samples = sampleUntil(ctx, start, c.Every, statsOf, func(i int, s sample) {
		if c.Verbose || i%10 == 9 {
			fmt.Fprintf(progress, "soak: %-8s %s\n", backend, s)
		}
	})
	wg.Wait()
	helpers.Wait()
	r.Took = time.Since(start)

	sctx, scancel := context.WithTimeout(context.Background(), shutdownWait)
	defer scancel()
	shutStart := time.Now()
	if err := ex.Shutdown(sctx); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("Shutdown: %v (after %s)", err, shutdownWait))
	}
	r.ShutdownTook = time.Since(shutStart)
	r.Final = statsOf.Stats()
	r.Accepted, r.Rejected, r.Ran = w.accepted.Load(), w.rejected.Load(), w.ran.Load()
	r.Panicked, r.Handled, r.Inline = w.panicked.Load(), w.handled.Load(), w.inline.Load()
	r.Scrapes, r.MaxRunning, r.MaxQueued = sc.n, sc.maxRunning, sc.maxQueued
	r.GoroutinesAfter = goroutinesBackTo(r.GoroutinesBefore, 2*time.Second)

	r.Problems = append(r.Problems, sc.bad...)
	r.Problems = append(r.Problems, checkSamples(r.Samples, c.Workers, c.Queue)...)
	for _, u := range w.Unexpected() {
		r.Problems = append(r.Problems, "unexpected: "+u)
	}
	r.Problems = append(r.Problems, checkFinal(r)...)
	g, err := defaultRuleFor(c).check(r.Samples)
	r.Growth = g
	switch {
	case err != nil:
		r.Problems = append(r.Problems, err.Error())
	case g.HeapGrew:
		r.Problems = append(r.Problems, fmt.Sprintf("heap grew: live heap %s at the end (min of the last %d samples) > bound %s (max of the first %d after warm-up, %s, × %.2f + %s)",
			mib(g.HeapEnd), g.Window, mib(g.HeapBound), g.Window, mib(g.HeapBase), defaultRuleFor(c).HeapFactor, mib(defaultRuleFor(c).HeapSlack)))
	}
	if err == nil && g.GoroutinesGrew {
		r.Problems = append(r.Problems, fmt.Sprintf("goroutines grew: %d at the end (min of the last %d samples) > bound %d (max of the first %d after warm-up, %d, + %d)",
			g.GorEnd, g.Window, g.GoroutineBound, g.Window, g.GoroutineBase, defaultRuleFor(c).GoroutineSlack))
	}
	return r
}

// defaultRuleFor is the growth rule for c: defaultRule, with c's warm-up
// if one was given.
func defaultRuleFor(c config) growthRule {
	rule := defaultRule(c.Duration)
	if c.Warmup > 0 {
		rule.Warmup = c.Warmup
	}
	return rule
}

// checkFinal holds the Stats after Shutdown against the workload's own
// counts: every accepted task ran exactly once and completed, every refusal
// and every panic was counted, and nothing is left running or queued.
func checkFinal(r result) []string {
	f := r.Final
	var bad []string
	if f.Submitted != f.Completed || f.Running != 0 || f.Queued != 0 {
		bad = append(bad, fmt.Sprintf("after Shutdown: %+v; want Submitted == Completed and nothing running or queued", f))
	}
	if f.Submitted != r.Accepted {
		bad = append(bad, fmt.Sprintf("Stats.Submitted %d; the workload had %d submits accepted", f.Submitted, r.Accepted))
	}
	if r.Ran != r.Accepted {
		bad = append(bad, fmt.Sprintf("%d tasks ran for %d accepted; want each accepted task run exactly once", r.Ran, r.Accepted))
	}
	if f.Rejected != r.Rejected {
		bad = append(bad, fmt.Sprintf("Stats.Rejected %d; the workload had %d submits refused", f.Rejected, r.Rejected))
	}
	if f.Panicked != r.Panicked || r.Handled != r.Panicked {
		bad = append(bad, fmt.Sprintf("Stats.Panicked %d, PanicHandler called %d times; %d tasks panicked", f.Panicked, r.Handled, r.Panicked))
	}
	if r.GoroutinesAfter > r.GoroutinesBefore {
		bad = append(bad, fmt.Sprintf("%d goroutines 2s after Shutdown; %d before the executor was built", r.GoroutinesAfter, r.GoroutinesBefore))
	}
	return bad
}

// checkSamples checks the samples' Stats, each against the one before, as
// the scraper checks its own, and returns the first few problems.
func checkSamples(samples []sample, workers, queue int) []string {
	var bad []string
	for i := range samples {
		var prev *executor.Stats
		if i > 0 {
			prev = &samples[i-1].Stats
		}
		if b := checkSnapshot(prev, samples[i].Stats, workers, queue); len(b) > 0 && len(bad) < maxUnexpected {
			bad = append(bad, fmt.Sprintf("Stats at %s: %s", samples[i].At.Round(time.Millisecond), joinSemi(b)))
		}
	}
	return bad
}

// scraper reads Stats every interval, as a metrics scraper would but much
// more often, and checks each snapshot against the one before.
type scraper struct {
	stats          executor.StatsReporter
	workers, queue int
	n              uint64
	maxRunning     int
	maxQueued      int
	bad            []string // at most maxUnexpected
	badSnapshots   uint64
}

// run scrapes until ctx ends. Its fields are read only after it returns.
func (s *scraper) run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var prev *executor.Stats
	for {
		select {
		case <-ctx.Done():
			if s.badSnapshots > uint64(len(s.bad)) {
				s.bad = append(s.bad, fmt.Sprintf("%d inconsistent Stats snapshots in all (the first %d above)", s.badSnapshots, len(s.bad)))
			}
			return
		case <-tick.C:
		}
		st := s.stats.Stats()
		s.n++
		s.maxRunning = max(s.maxRunning, st.Running)
		s.maxQueued = max(s.maxQueued, st.Queued)
		if bad := checkSnapshot(prev, st, s.workers, s.queue); len(bad) > 0 {
			s.badSnapshots++
			if len(s.bad) < maxUnexpected {
				s.bad = append(s.bad, "Stats: "+joinSemi(bad))
			}
		}
		prev = &st
	}
}

// resize halves the bound and restores it every interval until ctx ends,
// as an adaptive limiter would, and leaves it at workers.
func resize(ctx context.Context, rs executor.Resizer, workers int, every time.Duration, w *workload) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	low := false
	for {
		select {
		case <-ctx.Done():
			if low {
				if err := rs.Resize(workers); err != nil {
					w.note(fmt.Sprintf("Resize(%d): %v", workers, err))
				}
			}
			return
		case <-tick.C:
		}
		low = !low
		n := workers
		if low {
			n = max(1, workers/2)
		}
		if err := rs.Resize(n); err != nil {
			w.note(fmt.Sprintf("Resize(%d): %v", n, err))
		}
	}
}

// heapMetrics are read for every sample.
var heapMetrics = [...]string{"/gc/heap/live:bytes", "/memory/classes/heap/objects:bytes"}

// sampleUntil takes a sample every interval until ctx ends and returns
// them, passing each to each with its index.
func sampleUntil(ctx context.Context, start time.Time, every time.Duration, st executor.StatsReporter, each func(int, sample)) []sample {
	ms := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		ms[i].Name = name
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var out []sample
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
		metrics.Read(ms)
		s := sample{At: time.Since(start), HeapLive: ms[0].Value.Uint64(), HeapInUse: ms[1].Value.Uint64(),
			Goroutines: runtime.NumGoroutine(), Stats: st.Stats()}
		each(len(out), s)
		out = append(out, s)
	}
}

// goroutinesBackTo waits up to limit for the goroutine count to fall to
// want (goroutines that have been told to end may take a moment to go) and
// returns the last count. Nothing signals a goroutine's end, so it polls.
func goroutinesBackTo(want int, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		<-tick.C
	}
}

// String is a sample's progress line.
func (s sample) String() string {
	return fmt.Sprintf("%6.1fs heap live %s in use %s, %4d goroutines, %+v",
		s.At.Seconds(), mib(s.HeapLive), mib(s.HeapInUse), s.Goroutines, s.Stats)
}

// mib formats n bytes in MiB.
func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func joinSemi(s []string) string { return strings.Join(s, "; ") }
