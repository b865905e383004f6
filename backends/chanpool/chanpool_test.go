package chanpool_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executortest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitFor fails the test if ch is not closed within a few seconds.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func mustNew(t *testing.T, cfg executor.Config) *chanpool.Pool {
	t.Helper()
	p, err := chanpool.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p
}

// requireWorkers checks that p still has workers workers (after what):
// that many tasks must run at once. It releases them before it returns.
func requireWorkers(t *testing.T, p *chanpool.Pool, workers int, after string) {
	t.Helper()
	var started sync.WaitGroup
	started.Add(workers)
	release := make(chan struct{})
	for i := 0; i < workers; i++ {
		if err := p.Submit(func() { started.Done(); <-release }); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	waitFor(t, all, "all workers to run a task "+after)
	close(release)
}

// A task that calls runtime.Goexit ends its worker's goroutine; the pool must
// replace the worker so that capacity is kept and Shutdown still returns.
func TestGoexitKeepsCapacity(t *testing.T) {
	const workers = 2
	var handled []any
	var mu sync.Mutex
	p := mustNew(t, executor.Config{Workers: workers, PanicHandler: func(v any) {
		mu.Lock()
		handled = append(handled, v)
		mu.Unlock()
	}})
	for i := 0; i < 2*workers; i++ {
		exited := make(chan struct{})
		if err := p.Submit(func() { defer close(exited); runtime.Goexit() }); err != nil {
			t.Fatalf("Submit: %v", err)
		}
		waitFor(t, exited, "Goexit task")
	}
	requireWorkers(t, p, workers, "after Goexit")
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	s := p.Stats()
	if s.Submitted != 3*workers || s.Completed != 3*workers || s.Panicked != 0 {
		t.Errorf("Stats = %+v; want Submitted = Completed = %d, Panicked = 0", s, 3*workers)
	}
	if len(handled) != 0 {
		t.Errorf("PanicHandler got %v; want no calls for Goexit", handled)
	}
}

// A task that panics with nil must not cost capacity either. Since Go 1.21 it
// is an ordinary panic (*runtime.PanicNilError); under GODEBUG=panicnil=1 it
// recovers as nil, like runtime.Goexit, yet the goroutine goes on, and it
// must be handled and counted the same: TestPanicNilOldSemantics runs this
// test again that way.
func TestPanicNilKeepsCapacity(t *testing.T) {
	const workers = 2
	var handled, notPanicNilError atomic.Int64
	p := mustNew(t, executor.Config{Workers: workers, PanicHandler: func(v any) {
		handled.Add(1)
		if _, ok := v.(*runtime.PanicNilError); !ok {
			notPanicNilError.Add(1)
		}
	}})
	const n = 4 * workers
	for i := 0; i < n; i++ {
		if err := p.Submit(func() { panic(nil) }); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	requireWorkers(t, p, workers, "after panic(nil)")
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// Under GODEBUG=panicnil=1 recover() returns nil, yet it is a panic
	// all the same: the handler gets a *runtime.PanicNilError, as from
	// backend.RunTask.
	wantPanicked := uint64(n)
	s := p.Stats()
	if s.Submitted != n+workers || s.Completed != n+workers || s.Panicked != wantPanicked || handled.Load() != int64(wantPanicked) {
		t.Errorf("GODEBUG=%q: Stats = %+v, PanicHandler calls %d; want Submitted = Completed = %d, Panicked = calls = %d",
			os.Getenv("GODEBUG"), s, handled.Load(), n+workers, wantPanicked)
	}
	if k := notPanicNilError.Load(); k != 0 {
		t.Errorf("GODEBUG=%q: PanicHandler got %d values that are not a *runtime.PanicNilError; want none", os.Getenv("GODEBUG"), k)
	}
}

func TestPanicNilOldSemantics(t *testing.T) {
	if strings.Contains(os.Getenv("GODEBUG"), "panicnil=1") {
		return // this is the child run
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestPanicNilKeepsCapacity$", "-test.count", "1")
	cmd.Env = append(os.Environ(), "GODEBUG=panicnil=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("TestPanicNilKeepsCapacity under GODEBUG=panicnil=1: %v\n%s", err, out)
	}
}

// The Nonblocking pool admits Workers+QueueSize tasks even before any worker
// goroutine has been scheduled: run with GOMAXPROCS 1 so that New returns
// before the workers start.
func TestNonblockingFreshPoolAdmitsCapacity(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, tc := range []struct{ workers, queue int }{{1, 0}, {4, 0}, {4, 3}} {
		p, err := chanpool.New(executor.Config{Workers: tc.workers, QueueSize: tc.queue, Nonblocking: true})
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		for i := 0; i < tc.workers+tc.queue; i++ {
			if err := p.Submit(func() { <-release }); err != nil {
				t.Errorf("workers=%d queue=%d: Submit #%d = %v; want nil", tc.workers, tc.queue, i, err)
			}
		}
		if err := p.Submit(func() {}); !errors.Is(err, executor.ErrOverloaded) {
			t.Errorf("workers=%d queue=%d: Submit past capacity = %v; want ErrOverloaded", tc.workers, tc.queue, err)
		}
		close(release)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// In blocking mode the queue holds exactly QueueSize tasks: with every worker
// busy, Stats shows them queued and the next Submit waits.
func TestBlockingQueueIsExact(t *testing.T) {
	const workers, queue = 2, 3
	p := mustNew(t, executor.Config{Workers: workers, QueueSize: queue})
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(workers)
	for i := 0; i < workers; i++ {
		if err := p.Submit(func() { started.Done(); <-release }); err != nil {
			t.Fatal(err)
		}
	}
	started.Wait()
	for i := 0; i < queue; i++ {
		if err := p.Submit(func() {}); err != nil {
			t.Fatal(err)
		}
	}
	if s := p.Stats(); s.Running != workers || s.Queued != queue || s.Submitted != workers+queue {
		t.Errorf("Stats = %+v; want Running %d, Queued %d, Submitted %d", s, workers, queue, workers+queue)
	}
	accepted := make(chan struct{})
	go func() {
		if err := p.Submit(func() {}); err != nil {
			t.Errorf("blocked Submit = %v; want nil once room appears", err)
		}
		close(accepted)
	}()
	select {
	case <-accepted:
		t.Fatal("Submit past Workers+QueueSize returned before any task finished")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	waitFor(t, accepted, "blocked Submit to be accepted")
}

func TestConformance(t *testing.T) {
	executortest.Run(t, func(cfg executor.Config) (executor.Executor, error) {
		return chanpool.New(cfg)
	})
}

// Submit is what every task pays for: it must not allocate.
func TestSubmitDoesNotAllocate(t *testing.T) {
	for _, nonblocking := range []bool{false, true} {
		p := mustNew(t, executor.Config{Workers: 2, QueueSize: 1024, Nonblocking: nonblocking})
		task := func() {}
		allocs := testing.AllocsPerRun(1000, func() {
			if err := p.Submit(task); err != nil && !errors.Is(err, executor.ErrOverloaded) {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Nonblocking %v: Submit allocated %v times per call; want 0", nonblocking, allocs)
		}
	}
}

// A PanicHandler that calls runtime.Goexit (t.FailNow in a test handler, say)
// ends the worker's goroutine from inside the recovery; the worker must still
// be replaced and the task counted.
func TestPanicHandlerGoexitKeepsCapacity(t *testing.T) {
	const workers, panics = 2, 3
	p, err := chanpool.New(executor.Config{Workers: workers, QueueSize: panics, PanicHandler: func(any) { runtime.Goexit() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	defer p.Shutdown(ctx) //nolint:errcheck // checked below; this one only ends a failed test
	for i := 0; i < panics; i++ {
		if err := p.Submit(func() { panic("boom") }); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	requireWorkers(t, p, workers, "after PanicHandler calls runtime.Goexit")
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	want := executor.Stats{Workers: workers, Submitted: panics + workers, Completed: panics + workers, Panicked: panics}
	if got := p.Stats(); got != want {
		t.Errorf("Stats() after Shutdown: got %+v, want %+v", got, want)
	}
}

// FuzzSchedule plays fuzzed schedules of Submits, SubmitContexts,
// TrySubmits, Resizes, panics, Goexits and Shutdowns against chanpool; see
// executortest.Fuzz. Run it with go test -fuzz=FuzzSchedule -fuzztime=30s.
func FuzzSchedule(f *testing.F) {
	executortest.Fuzz(f, func(cfg executor.Config) (executor.Executor, error) {
		return chanpool.New(cfg)
	})
}
