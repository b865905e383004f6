package pondpool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
)

// pond starts no package-level goroutine (its default pool, used by Stop,
// starts workers on demand and ends them), so nothing is ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// timeout bounds every wait in these tests.
const timeout = 10 * time.Second

func newPool(t *testing.T, cfg executor.Config) *Pool {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown in cleanup: %v", err)
		}
	})
	return p
}

// waitFor spins (yielding) until cond holds, failing after timeout. It is
// for states pond reaches without signalling anyone.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// stillBlocked reports whether nothing arrives on ch for a short while: a
// Submit that must wait cannot signal that it is waiting.
func stillBlocked[T any](ch <-chan T) bool {
	select {
	case <-ch:
		return false
	case <-time.After(20 * time.Millisecond):
		return true
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  executor.Config
		ok   bool
	}{
		{"zero", executor.Config{}, true},
		{"queue", executor.Config{Workers: 2, QueueSize: 100}, true},
		{"negative workers", executor.Config{Workers: -1}, false},
		{"negative queue", executor.Config{QueueSize: -1}, false},
		// executor.MaxCapacity bounds Workers+QueueSize; New's memory
		// does not grow with it (at most maxSlots slots).
		{"at MaxCapacity", executor.Config{Workers: 2, QueueSize: executor.MaxCapacity - 2}, true},
		{"above MaxCapacity", executor.Config{Workers: 2, QueueSize: executor.MaxCapacity - 1}, false},
		{"workers above MaxCapacity", executor.Config{Workers: executor.MaxCapacity + 1}, false},
		{"MaxInt queue", executor.Config{Workers: 1, QueueSize: math.MaxInt}, false},
		{"MaxInt workers", executor.Config{Workers: math.MaxInt}, false},
		{"MaxInt both", executor.Config{Workers: math.MaxInt, QueueSize: math.MaxInt}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.cfg)
			if tc.ok {
				if err != nil {
					t.Fatalf("New(%+v): got %v, want nil", tc.cfg, err)
				}
				if err := p.Shutdown(context.Background()); err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
				return
			}
			if !errors.Is(err, executor.ErrInvalidConfig) {
				t.Fatalf("New(%+v): got %v, want an error matching ErrInvalidConfig", tc.cfg, err)
			}
		})
	}
}

func TestSubmitNil(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	if err := p.Submit(nil); !errors.Is(err, executor.ErrNilTask) {
		t.Fatalf("Submit(nil): got %v, want ErrNilTask", err)
	}
	if s := p.Stats(); s.Rejected != 0 || s.Submitted != 0 {
		t.Fatalf("Stats after Submit(nil): got %+v, want nothing counted", s)
	}
}

// TestBlockedSubmitterAtShutdown: a caller waiting for room when Shutdown
// begins returns ErrClosed at once, without waiting for a worker to free
// up, and the accepted tasks, running and queued, all run.
func TestBlockedSubmitterAtShutdown(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1, QueueSize: 1})
	gate := make(chan struct{})
	var ran atomic.Int32
	for i := 0; i < 2; i++ {
		if err := p.Submit(func() { <-gate; ran.Add(1) }); err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
	}
	blocked := make(chan error, 1)
	var lateRan atomic.Bool
	go func() { blocked <- p.Submit(func() { lateRan.Store(true) }) }()
	if !stillBlocked(blocked) {
		t.Fatal("Submit to a full blocking pool returned, want it to wait")
	}
	done := make(chan error, 1)
	go func() { done <- p.Shutdown(context.Background()) }()
	// The gate is still shut: the blocked caller must not need a worker to
	// free up before it hears that the pool is closed.
	if err := recv(t, blocked, "the blocked Submit to return"); !errors.Is(err, executor.ErrClosed) {
		t.Fatalf("blocked Submit across Shutdown: got %v, want ErrClosed", err)
	}
	close(gate)
	if err := recv(t, done, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: got %v, want nil", err)
	}
	if n := ran.Load(); n != 2 {
		t.Fatalf("accepted tasks run when Shutdown returned: got %d, want 2", n)
	}
	if lateRan.Load() {
		t.Fatal("the rejected task ran")
	}
	if err := p.Submit(func() {}); !errors.Is(err, executor.ErrClosed) {
		t.Fatalf("Submit after Shutdown: got %v, want ErrClosed", err)
	}
	if s := p.Stats(); s.Submitted != 2 || s.Completed != 2 || s.Rejected != 2 {
		t.Fatalf("Stats: got %+v, want Submitted 2, Completed 2, Rejected 2", s)
	}
}

// TestShutdownDeadline pins the StopAndWait difference: pond's stop takes no
// context. Shutdown returns ctx.Err() when ctx ends first; a later Shutdown
// waits for the same stop and returns nil once every task has run.
func TestShutdownDeadline(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1, QueueSize: 1})
	gate := make(chan struct{})
	var finished atomic.Int32
	for i := 0; i < 2; i++ {
		if err := p.Submit(func() { <-gate; finished.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with tasks blocked: got %v, want context.DeadlineExceeded", err)
	}
	done := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { done <- p.Shutdown(context.Background()) }()
	}
	close(gate)
	for i := 0; i < 2; i++ {
		if err := recv(t, done, "a later Shutdown"); err != nil {
			t.Fatalf("later Shutdown: got %v, want nil", err)
		}
	}
	if n := finished.Load(); n != 2 {
		t.Fatalf("tasks finished when Shutdown returned nil: got %d, want 2", n)
	}
}

// TestQueueSize pins the queue mapping: QueueSize 0 is no queue (pond's
// default would be unbounded), and QueueSize n is n tasks waiting. A fresh
// Nonblocking pool, whose workers pond has not started yet, accepts
// Workers+QueueSize tasks at once.
func TestQueueSize(t *testing.T) {
	for _, queue := range []int{0, 3} {
		t.Run(fmt.Sprintf("queue=%d", queue), func(t *testing.T) {
			const workers = 2
			p := newPool(t, executor.Config{Workers: workers, QueueSize: queue, Nonblocking: true})
			gate := make(chan struct{})
			defer close(gate)
			var started atomic.Int32
			for i := 0; i < workers+queue; i++ {
				if err := p.Submit(func() { started.Add(1); <-gate }); err != nil {
					t.Fatalf("Submit %d of %d on a fresh pool: got %v, want nil", i+1, workers+queue, err)
				}
			}
			if err := p.Submit(func() {}); !errors.Is(err, executor.ErrOverloaded) {
				t.Fatalf("Submit with Workers running and QueueSize queued: got %v, want ErrOverloaded", err)
			}
			waitFor(t, "Workers tasks to start", func() bool { return started.Load() == workers })
			if s := p.Stats(); s.Running != workers || s.Queued != queue || s.Rejected != 1 || s.Submitted != uint64(workers+queue) {
				t.Fatalf("Stats when full: got %+v, want Running %d, Queued %d, Submitted %d, Rejected 1", s, workers, queue, workers+queue)
			}
		})
	}
}

// TestBlockingNoQueue: QueueSize 0 in a blocking pool makes Submit wait
// while Workers tasks run, and accept once one finishes.
func TestBlockingNoQueue(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	gate := make(chan struct{})
	if err := p.Submit(func() { <-gate }); err != nil {
		t.Fatal(err)
	}
	var ran atomic.Bool
	blocked := make(chan error, 1)
	go func() { blocked <- p.Submit(func() { ran.Store(true) }) }()
	if !stillBlocked(blocked) {
		t.Fatal("Submit with the only worker busy and no queue returned, want it to wait")
	}
	close(gate)
	if err := recv(t, blocked, "the waiting Submit"); err != nil {
		t.Fatalf("waiting Submit: got %v, want nil", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !ran.Load() {
		t.Fatal("the accepted task did not run before Shutdown returned nil")
	}
}

// TestPanics pins the panic difference: pond's Go recovers a panic and only
// counts it; here PanicHandler sees each one exactly once, and the pool
// keeps its capacity.
func TestPanics(t *testing.T) {
	var mu sync.Mutex
	var got []any
	p := newPool(t, executor.Config{Workers: 2, QueueSize: 4, PanicHandler: func(v any) {
		mu.Lock()
		got = append(got, v)
		mu.Unlock()
	}})
	const n = 50
	var ok atomic.Int32
	for i := 0; i < n; i++ {
		i := i
		if err := p.Submit(func() { panic(i) }); err != nil {
			t.Fatal(err)
		}
		if err := p.Submit(func() { ok.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[any]int{}
	for _, v := range got {
		seen[v]++
	}
	for i := 0; i < n; i++ {
		if seen[i] != 1 {
			t.Fatalf("PanicHandler calls for panic(%d): got %d, want 1", i, seen[i])
		}
	}
	if len(got) != n || ok.Load() != n {
		t.Fatalf("got %d panics handled and %d tasks run, want %d and %d", len(got), ok.Load(), n, n)
	}
	if s := p.Stats(); s.Panicked != n || s.Completed != 2*n || s.Submitted != 2*n {
		t.Fatalf("Stats: got %+v, want Panicked %d, Completed == Submitted == %d", s, n, 2*n)
	}
}

func TestErrorsWrapped(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := p.Submit(func() {})
	if !errors.Is(err, executor.ErrClosed) || err.Error() != "pondpool: executor: closed" {
		t.Fatalf("Submit after Shutdown: got %q, want pondpool-prefixed ErrClosed", err)
	}
}

// TestHandoffExactlyOnce races many submitters against Shutdown through both
// hand-off paths (a slot, and a closure when no slot is free) and checks
// every task by its own id: each accepted task ran exactly once, no refused
// task ran, and when Shutdown returns nil no slot is still owned.
func TestHandoffExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        executor.Config
		submitters int
		closures   bool // mark every slot owned first, so every task goes in a closure
	}{
		{"slots", executor.Config{Workers: 2, QueueSize: 4}, 8, false},
		{"nonblocking", executor.Config{Workers: 2, QueueSize: 2, Nonblocking: true}, 8, false},
		// Many callers waiting in the Pool's list at once.
		{"many waiting", executor.Config{Workers: 1}, 3 * minSlots, false},
		{"closures only", executor.Config{Workers: 2, QueueSize: 4}, 8, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, tc.cfg)
			slots := p.slots.Load().slots
			if tc.closures {
				for i := range slots {
					slots[i].busy.Store(1)
				}
			}
			const perSubmitter = 2000
			n := tc.submitters * perSubmitter
			ran := make([]atomic.Int32, n)
			accepted := make([]bool, n) // each index written by one submitter, read after wg.Wait
			var finished, submittersDone atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < tc.submitters; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					defer submittersDone.Add(1)
					for i := g * perSubmitter; i < (g+1)*perSubmitter; i++ {
						id := i
						err := p.Submit(func() { ran[id].Add(1); finished.Add(1) })
						switch {
						case err == nil:
							accepted[id] = true
						case errors.Is(err, executor.ErrClosed):
							return
						case errors.Is(err, executor.ErrOverloaded):
							runtime.Gosched()
						default:
							t.Errorf("Submit: %v", err)
							return
						}
					}
				}(g)
			}
			// Shut down mid-stream; a Nonblocking pool may reject so much that
			// the submitters are through before 200 tasks have run.
			waitFor(t, "some tasks to finish", func() bool {
				return finished.Load() >= 200 || submittersDone.Load() == int64(tc.submitters)
			})
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			wg.Wait()
			var nAccepted int
			for id := range ran {
				got, want := ran[id].Load(), int32(0)
				if accepted[id] {
					want = 1
					nAccepted++
				}
				if got != want {
					t.Fatalf("task %d (accepted %v) ran %d times, want %d", id, accepted[id], got, want)
				}
			}
			for i := range slots {
				want := uint32(0)
				if tc.closures {
					want = 1 // untouched
				}
				if got := slots[i].busy.Load(); got != want {
					t.Fatalf("slot %d: busy is %d after Shutdown, want %d", i, got, want)
				}
				if slots[i].task != nil {
					t.Fatalf("slot %d still holds a task after Shutdown", i)
				}
			}
			if s := p.Stats(); s.Submitted != uint64(nAccepted) || s.Completed != uint64(nAccepted) {
				t.Fatalf("Stats: got %+v, want Submitted == Completed == %d", s, nAccepted)
			}
		})
	}
}

// TestLayout pins the sizes the padding relies on: four slots fill one
// cache line, as pond packs its queue; the words Submits and finishing tasks write, the fields both read,
// and what the slow paths write are 128 bytes apart.
func TestLayout(t *testing.T) {
	if got := unsafe.Sizeof(slot{}); got != 16 {
		t.Errorf("slot size: got %d, want 16 (four to a cache line)", got)
	}
	var p Pool
	if d := unsafe.Offsetof(p.out) - unsafe.Offsetof(p.in); d < 128 {
		t.Errorf("in to out: got %d bytes, want at least 128", d)
	}
	if d := unsafe.Offsetof(p.flags) - unsafe.Offsetof(p.out); d < 128 {
		t.Errorf("out to flags: got %d bytes, want at least 128", d)
	}
	if d := unsafe.Offsetof(p.panicked) - unsafe.Offsetof(p.flags); d < 128 {
		t.Errorf("flags to what the slow paths write: got %d bytes, want at least 128", d)
	}
}
