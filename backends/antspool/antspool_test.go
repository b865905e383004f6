package antspool

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
)

// leakOptions ignores exactly the goroutines of ants' default pool, which
// importing ants starts and nothing stops.
func leakOptions() []goleak.Option {
	var opts []goleak.Option
	for _, f := range PackageGoroutines() {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	return opts
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, leakOptions()...)
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
// for states that the Pool reaches without signalling anyone, such as a
// submitter parked in submitFull.
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
		{"too many", executor.Config{Workers: 1 << 29, QueueSize: 1<<29 + 1}, false},
		{"overflow", executor.Config{Workers: 1, QueueSize: math.MaxInt}, false},
		{"at MaxCapacity", executor.Config{Workers: 1, QueueSize: executor.MaxCapacity - 1}, true},
		{"over MaxCapacity", executor.Config{Workers: 1, QueueSize: executor.MaxCapacity}, false},
		{"gigabytes", executor.Config{Workers: 1, QueueSize: 1 << 28}, false},
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

// TestBlockedSubmitterAtShutdown pins the first ants difference: ants'
// Release wakes callers blocked in its Submit with ants.ErrPoolClosed and
// their tasks never run. Here the blocked caller must see ErrClosed, and
// the tasks already accepted (one running, two queued) must all run.
func TestBlockedSubmitterAtShutdown(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1, QueueSize: 2})
	gate := make(chan struct{})
	var ran atomic.Int32
	for i := 0; i < 3; i++ {
		if err := p.Submit(func() { <-gate; ran.Add(1) }); err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
	}
	blocked := make(chan error, 1)
	var lateRan atomic.Bool
	go func() { blocked <- p.Submit(func() { lateRan.Store(true) }) }()
	waitFor(t, "the fourth Submit to wait for room", func() bool { return p.waiters.Load() == 1 })

	done := make(chan error, 1)
	go func() { done <- p.Shutdown(context.Background()) }()
	if err := recv(t, blocked, "the blocked Submit to return"); !errors.Is(err, executor.ErrClosed) {
		t.Fatalf("blocked Submit across Shutdown: got %v, want ErrClosed", err)
	}
	close(gate)
	if err := recv(t, done, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: got %v, want nil", err)
	}
	if n := ran.Load(); n != 3 {
		t.Fatalf("accepted tasks run by the time Shutdown returned: got %d, want 3", n)
	}
	if lateRan.Load() {
		t.Fatal("the rejected task ran")
	}
	if s := p.Stats(); s.Submitted != 3 || s.Completed != 3 || s.Rejected != 1 {
		t.Fatalf("Stats: got %+v, want Submitted 3, Completed 3, Rejected 1", s)
	}
}

// TestShutdownAfterDeadlineWaits pins the second ants difference: ants'
// ReleaseContext cannot be asked twice (the second call returns
// ErrPoolClosed at once) and can return while an accepted task runs. A
// Shutdown whose context ended returns its error; the next one waits for
// the task and returns nil.
func TestShutdownAfterDeadlineWaits(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1, QueueSize: 1})
	gate := make(chan struct{})
	var finished atomic.Int32
	for i := 0; i < 2; i++ {
		if err := p.Submit(func() { <-gate; finished.Add(1) }); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown(canceled ctx) with a task running: got %v, want context.Canceled", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Shutdown(context.Background()) }()
	close(gate)
	if err := recv(t, done, "the second Shutdown"); err != nil {
		t.Fatalf("second Shutdown: got %v, want nil", err)
	}
	if n := finished.Load(); n != 2 {
		t.Fatalf("tasks finished when Shutdown returned nil: got %d, want 2", n)
	}
}

// TestNoStrandedTask hammers the hand-off between a submitter that finds
// every ants worker busy and a worker that is leaving: if a queued task
// were left with no worker to take it, Shutdown would never see the Pool
// drained.
func TestNoStrandedTask(t *testing.T) {
	for _, cfg := range []executor.Config{
		{Workers: 1, QueueSize: 1},
		{Workers: 1, Nonblocking: true},
		{Workers: 2, QueueSize: 3, Nonblocking: true},
		{Workers: 4, QueueSize: 64},
	} {
		p := newPool(t, cfg)
		var wg sync.WaitGroup
		var finished, accepted atomic.Int64
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 2000; i++ {
					if p.Submit(func() { finished.Add(1) }) == nil {
						accepted.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		// No more submissions: every accepted task must now run without help.
		waitFor(t, "every accepted task to run", func() bool { return finished.Load() == accepted.Load() })
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := p.Shutdown(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%+v: Shutdown: %v", cfg, err)
		}
	}
}

// TestNoIdleWorkerWhileQueued: a task queued because every ants worker was
// busy, while one of them was only on its way back to ants' idle list, must
// not wait for the others' long tasks: the returning worker takes it. (A
// queued task may wait only while all Workers run tasks.)
func TestNoIdleWorkerWhileQueued(t *testing.T) {
	const workers, queue = 3, 2
	for round := 0; round < 50; round++ {
		p, err := New(executor.Config{Workers: workers, QueueSize: queue, Nonblocking: true})
		if err != nil {
			t.Fatal(err)
		}
		// Warm up: leave ants workers idle or returning to idle.
		for i := 0; i < 2; i++ {
			if err := p.Submit(func() {}); err != nil {
				t.Fatal(err)
			}
		}
		// Completed counts a task as soon as it returned, a moment before its
		// worker gives back the task's slot: wait for the slots too (Running
		// and Queued both 0), or the last Submit below may find the Pool full.
		waitFor(t, "the warm-up tasks to finish", func() bool {
			s := p.Stats()
			return s.Completed == 2 && s.Submitted == 2 && s.Running == 0 && s.Queued == 0
		})
		gate := make(chan struct{})
		var started atomic.Int32
		for i := 0; i < workers+queue; i++ {
			if err := p.Submit(func() { started.Add(1); <-gate }); err != nil {
				t.Fatalf("round %d: Submit %d: %v", round, i, err)
			}
		}
		waitFor(t, "Workers tasks to start while more are queued", func() bool { return started.Load() == workers })
		close(gate)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFreshNonblocking: a fresh Nonblocking pool, whose ants workers do not
// exist yet, accepts Workers+QueueSize tasks at once and then overloads.
func TestFreshNonblocking(t *testing.T) {
	const workers, queue = 4, 3
	p := newPool(t, executor.Config{Workers: workers, QueueSize: queue, Nonblocking: true})
	gate := make(chan struct{})
	var started atomic.Int32
	for i := 0; i < workers+queue; i++ {
		if err := p.Submit(func() { started.Add(1); <-gate }); err != nil {
			t.Fatalf("Submit %d of %d on a fresh pool: got %v, want nil", i+1, workers+queue, err)
		}
	}
	waitFor(t, "Workers tasks to start", func() bool { return started.Load() == workers })
	if err := p.Submit(func() {}); !errors.Is(err, executor.ErrOverloaded) {
		t.Fatalf("Submit with Workers running and QueueSize queued: got %v, want ErrOverloaded", err)
	}
	if s := p.Stats(); s.Running != workers || s.Queued != queue || s.Rejected != 1 {
		t.Fatalf("Stats when full: got %+v, want Running %d, Queued %d, Rejected 1", s, workers, queue)
	}
	if n := started.Load(); n != workers {
		t.Fatalf("tasks started: got %d, want %d (Workers)", n, workers)
	}
	close(gate)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Submitted != workers+queue || s.Completed != workers+queue || s.Running != 0 || s.Queued != 0 {
		t.Fatalf("Stats after Shutdown: got %+v", s)
	}
}

// TestQueueSizeBlocking: with QueueSize > 0 a blocking pool accepts
// Workers+QueueSize tasks without waiting, runs at most Workers at once, and
// makes the next Submit wait until a task finishes.
func TestQueueSizeBlocking(t *testing.T) {
	const workers, queue = 2, 3
	p := newPool(t, executor.Config{Workers: workers, QueueSize: queue})
	gate := make(chan struct{})
	var running, most atomic.Int32
	task := func() {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-gate
		running.Add(-1)
	}
	for i := 0; i < workers+queue; i++ {
		if err := p.Submit(task); err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
	}
	blocked := make(chan error, 1)
	go func() { blocked <- p.Submit(task) }()
	waitFor(t, "Submit beyond Workers+QueueSize to wait", func() bool { return p.waiters.Load() == 1 })
	select {
	case err := <-blocked:
		t.Fatalf("Submit beyond Workers+QueueSize returned %v while full, want it to wait", err)
	default:
	}
	close(gate)
	if err := recv(t, blocked, "the waiting Submit"); err != nil {
		t.Fatalf("waiting Submit after room freed: got %v, want nil", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m > workers {
		t.Fatalf("most tasks running at once: got %d, want at most %d", m, workers)
	}
}

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

// TestGoexit: a task that calls runtime.Goexit ends its ants worker
// goroutine without returning to work; the Pool must still count it, run
// the tasks queued behind it, and shut down.
func TestGoexit(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1, QueueSize: 4})
	gate := make(chan struct{})
	var ran atomic.Int32
	if err := p.Submit(func() { <-gate; runtime.Goexit() }); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := p.Submit(func() { ran.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	close(gate)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown after a Goexit: %v", err)
	}
	if n := ran.Load(); n != 4 {
		t.Fatalf("tasks queued behind the Goexit that ran: got %d, want 4", n)
	}
	if s := p.Stats(); s.Completed != 5 || s.Submitted != 5 || s.Panicked != 0 {
		t.Fatalf("Stats: got %+v, want Completed == Submitted == 5, Panicked 0", s)
	}
}

// TestOwnGoroutinesEnd: the Pool's ants workers and its own purge and
// ticktock goroutines (which run the same functions as the default pool's,
// ignored in TestMain) are gone when Shutdown returns nil.
func TestOwnGoroutinesEnd(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p, err := New(executor.Config{Workers: 3, QueueSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := p.Submit(func() { runtime.Gosched() }); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestErrorsWrapped: every error names the package and matches its
// sentinel.
func TestErrorsWrapped(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := p.Submit(func() {})
	if !errors.Is(err, executor.ErrClosed) || err.Error() != "antspool: executor: closed" {
		t.Fatalf("Submit after Shutdown: got %q, want antspool-prefixed ErrClosed", err)
	}
}
