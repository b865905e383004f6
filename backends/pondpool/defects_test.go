package pondpool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"

	"github.com/swapexec/swapexec/executor"
)

// TestGauges pins gauges, which turns the counts Stats reads at different
// moments into Running and Queued: never negative, Running at most the
// tasks taken, Queued at most QueueSize. (Issue 13: pond's WaitingTasks
// reads two counters without a lock, and Stats once showed Queued -743.)
func TestGauges(t *testing.T) {
	for _, tc := range []struct {
		taken, workers, bound, queue int
		running, queued              int
	}{
		{0, 0, 4, 0, 0, 0},
		{5, 2, 4, 3, 2, 3},
		{1, 3, 4, 0, 1, 0},     // pond counts workers between tasks; only 1 task is taken
		{4, 0, 4, 8, 0, 4},     // admitted, not yet started
		{9, 2, 4, 3, 2, 3},     // more taken than Workers+QueueSize (a Resize down): Queued stays at most QueueSize
		{0, 4, 4, 3, 0, 0},     // idle: workers still counted by pond as they leave
		{3, -1, 4, 2, 0, 2},    // a negative count never shows through
		{20, 11, 8, 64, 8, 12}, // pond's workers past its bound after a Resize down and up (the soak saw 11 of 8)
	} {
		running, queued := gauges(tc.taken, tc.workers, tc.bound, tc.queue)
		if running != tc.running || queued != tc.queued {
			t.Errorf("gauges(taken %d, workers %d, bound %d, queue %d): got Running %d, Queued %d; want %d, %d",
				tc.taken, tc.workers, tc.bound, tc.queue, running, queued, tc.running, tc.queued)
		}
	}
}

// tornPond is the real pond pool with the counters pond can report when
// read at the wrong moment: WaitingTasks reads its queue's write count, then
// its read count, and a task that is queued and taken between the two
// reads wraps the difference around (issue 13 saw Queued -743).
type tornPond struct {
	pond.Pool
}

func (tornPond) WaitingTasks() uint64 { return math.MaxUint64 - 742 }

// TestStatsTornPondCounters: whatever pond's WaitingTasks says, Stats'
// gauges stay within their bounds. Stats used to report WaitingTasks as
// Queued, -743 here.
func TestStatsTornPondCounters(t *testing.T) {
	const workers, queue = 2, 3
	p := newPool(t, executor.Config{Workers: workers, QueueSize: queue})
	p.pond = tornPond{p.pond}
	h := newHolder()
	defer close(h.gate)
	h.fill(t, p, workers+queue)
	waitFor(t, "Workers tasks to run", func() bool { return h.running.Load() == workers })
	if s := p.Stats(); s.Running != workers || s.Queued != queue {
		t.Fatalf("Stats with pond's WaitingTasks torn: got %+v; want Running %d, Queued %d", s, workers, queue)
	}
}

// TestStatsGaugesUnderLoad takes snapshots while many submitters keep the
// Pool full and every task finishes at once (every fourth panics): no gauge
// is ever negative or above its bound (Running <= Workers, Queued <=
// QueueSize), the counters never go backwards, and Panicked <= Completed <=
// Submitted.
func TestStatsGaugesUnderLoad(t *testing.T) {
	for _, cfg := range []executor.Config{
		{Workers: 2},
		{Workers: 2, QueueSize: 3},
		{Workers: 3, QueueSize: 1, Nonblocking: true},
	} {
		t.Run(fmt.Sprintf("workers=%d/queue=%d/nonblocking=%v", cfg.Workers, cfg.QueueSize, cfg.Nonblocking), func(t *testing.T) {
			cfg.PanicHandler = func(any) {}
			p := newPool(t, cfg)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						task := func() {}
						if i%4 == 0 {
							task = func() { panic("counted") }
						}
						if err := p.Submit(task); err != nil {
							if !errors.Is(err, executor.ErrOverloaded) {
								t.Errorf("Submit: %v", err)
								return
							}
							runtime.Gosched()
						}
					}
				}()
			}
			var prev executor.Stats
			const snapshots = 20000
			for i := 0; i < snapshots; i++ {
				s := p.Stats()
				if s.Running < 0 || s.Running > s.Workers || s.Queued < 0 || s.Queued > cfg.QueueSize {
					t.Fatalf("snapshot %d: got %+v; want 0 <= Running <= Workers and 0 <= Queued <= QueueSize %d", i, s, cfg.QueueSize)
				}
				if s.Submitted < prev.Submitted || s.Completed < prev.Completed || s.Rejected < prev.Rejected || s.Panicked < prev.Panicked ||
					s.Completed > s.Submitted || s.Panicked > s.Completed {
					t.Fatalf("snapshot %d: got %+v after %+v; want counters that never go back, Panicked <= Completed <= Submitted", i, s, prev)
				}
				prev = s
				if i%64 == 0 {
					runtime.Gosched() // let the workers and submitters run on a small machine
				}
			}
			close(stop)
			wg.Wait()
		})
	}
}

// TestPanicHandlerGoexitCounted: a PanicHandler that calls runtime.Goexit
// (t.FailNow does) still has its panic counted in Stats.Panicked, and the
// Pool keeps its capacity. (Issue 13: counted from RunTask's result, the
// count missed every one.)
func TestPanicHandlerGoexitCounted(t *testing.T) {
	var handled atomic.Int32
	p := newPool(t, executor.Config{Workers: 2, QueueSize: 2, PanicHandler: func(any) {
		handled.Add(1)
		runtime.Goexit()
	}})
	const n = 5
	for i := 0; i < n; i++ {
		if err := p.Submit(func() { panic("boom") }); err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
	}
	waitFor(t, "the panicking tasks to finish", func() bool { return p.Stats().Completed == n })
	h := newHolder()
	release := sync.OnceFunc(func() { close(h.gate) })
	defer release() // before the cleanup's Shutdown, also if fill fails
	h.fill(t, p, 4) // the workers left by Goexit were replaced: all of Workers+QueueSize is free again
	waitFor(t, "Workers held tasks to run", func() bool { return h.running.Load() == 2 })
	release()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Panicked != n || handled.Load() != n || s.Completed != n+4 || s.Submitted != n+4 {
		t.Fatalf("Stats: got %+v with %d handler calls; want Panicked %d, %d calls, Submitted = Completed = %d",
			s, handled.Load(), n, n, n+4)
	}
}

// TestPanicNilCounted: panic(nil) is a panic, handed to PanicHandler as a
// *runtime.PanicNilError and counted, both by default and under
// GODEBUG=panicnil=1, where recover returns nil for it (backend.RunTask
// tells it from Goexit); TestPanicNilCountedOldSemantics reruns this test
// that way.
func TestPanicNilCounted(t *testing.T) {
	var mu sync.Mutex
	var got []any
	p := newPool(t, executor.Config{Workers: 2, PanicHandler: func(v any) {
		mu.Lock()
		got = append(got, v)
		mu.Unlock()
	}})
	const n = 4
	for i := 0; i < n; i++ {
		if err := p.Submit(func() { panic(nil) }); err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	if s.Panicked != n || s.Completed != n || len(got) != n {
		t.Fatalf("GODEBUG=%q: Stats %+v, %d handler calls; want Panicked = Completed = calls = %d", os.Getenv("GODEBUG"), s, len(got), n)
	}
	for _, v := range got {
		if _, ok := v.(*runtime.PanicNilError); !ok {
			t.Fatalf("GODEBUG=%q: PanicHandler got %#v; want a *runtime.PanicNilError", os.Getenv("GODEBUG"), v)
		}
	}
}

func TestPanicNilCountedOldSemantics(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), "panicnil=1") {
		return // this is the child run
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestPanicNilCounted$", "-test.count", "1", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG=panicnil=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestPanicNilCounted") {
		t.Fatalf("TestPanicNilCounted under GODEBUG=panicnil=1: %v\n%s", err, out)
	}
}

// TestPanickedNeverAheadOfCompleted: a panic is counted before its
// handler runs, and the task completes only after it; a snapshot taken
// while the handler runs still has Panicked <= Completed.
func TestPanickedNeverAheadOfCompleted(t *testing.T) {
	inHandler := make(chan struct{})
	release := make(chan struct{})
	p := newPool(t, executor.Config{Workers: 1, PanicHandler: func(any) {
		close(inHandler)
		<-release
	}})
	if err := p.Submit(func() { panic("held in its handler") }); err != nil {
		t.Fatal(err)
	}
	recv(t, inHandler, "the PanicHandler to run")
	s := p.Stats()
	close(release)
	if s.Panicked > s.Completed || s.Completed > s.Submitted {
		t.Fatalf("Stats while the PanicHandler runs: got %+v; want Panicked <= Completed <= Submitted", s)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Panicked != 1 || s.Completed != 1 {
		t.Fatalf("Stats after Shutdown: got %+v; want Panicked 1, Completed 1", s)
	}
}

// TestAdmittedCountWraps: in's count of tasks admitted wraps within its 40
// bits without touching the capacity beside it, and Stats and the room
// stay right across the wrap.
func TestAdmittedCountWraps(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1, QueueSize: 1})
	// As if 1<<40 - 2 tasks had been admitted and finished.
	const before = 1<<countBits - 2
	p.in.Store(p.in.Load() | before)
	p.out.Store(before)
	h := newHolder()
	h.fill(t, p, 2)
	if err := p.TrySubmit(func() {}); !errors.Is(err, executor.ErrOverloaded) {
		t.Fatalf("TrySubmit with Workers+QueueSize held across the wrap: got %v, want ErrOverloaded", err)
	}
	close(h.gate)
	for i := 0; i < 3; i++ {
		if err := p.Submit(func() {}); err != nil {
			t.Fatalf("Submit %d after the wrap: %v", i, err)
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := uint64(before + 5)
	if s := p.Stats(); s.Workers != 1 || s.Submitted != want || s.Completed != want || s.Queued != 0 || s.Running != 0 {
		t.Fatalf("Stats after the wrap: got %+v, want Workers 1, Submitted = Completed = %d, gauges 0", s, want)
	}
}
