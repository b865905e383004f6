package chanpool_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
)

func TestImplementsAbilities(t *testing.T) {
	var ex executor.Executor = mustNew(t, executor.Config{Workers: 1})
	if _, ok := ex.(executor.ContextSubmitter); !ok {
		t.Error("*chanpool.Pool does not implement executor.ContextSubmitter")
	}
	if _, ok := ex.(executor.TrySubmitter); !ok {
		t.Error("*chanpool.Pool does not implement executor.TrySubmitter")
	}
	if _, ok := ex.(executor.Resizer); !ok {
		t.Error("*chanpool.Pool does not implement executor.Resizer")
	}
}

// gated returns a task that signals started and then waits for release.
func gated(started *sync.WaitGroup, release <-chan struct{}) func() {
	started.Add(1)
	return func() { started.Done(); <-release }
}

// fill makes p hold workers running tasks and queue queued tasks, and
// returns a channel that releases them all.
func fill(t *testing.T, p *chanpool.Pool, workers, queued int) chan struct{} {
	t.Helper()
	release := make(chan struct{})
	var started sync.WaitGroup
	for i := 0; i < workers; i++ {
		if err := p.Submit(gated(&started, release)); err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	waitFor(t, all, fmt.Sprintf("%d tasks to start", workers))
	for i := 0; i < queued; i++ {
		if err := p.Submit(func() { <-release }); err != nil {
			t.Fatalf("Submit to the queue: %v", err)
		}
	}
	return release
}

// returnsAtOnce calls f on a goroutine and fails the test if it has not
// returned within a few seconds, which a call that never waits always does.
func returnsAtOnce(t *testing.T, what string, f func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not return within 5s", what)
		return nil
	}
}

func TestSubmitContext(t *testing.T) {
	for _, cfg := range []executor.Config{{Workers: 1}, {Workers: 2, QueueSize: 2}} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			p := mustNew(t, cfg)
			var ran atomic.Int32
			never := func() { ran.Add(1) }

			if err := p.SubmitContext(context.Background(), nil); !errors.Is(err, executor.ErrNilTask) {
				t.Errorf("SubmitContext(nil task): got %v, want ErrNilTask", err)
			}
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			if err := p.SubmitContext(cancelled, never); !errors.Is(err, context.Canceled) {
				t.Errorf("SubmitContext with a cancelled ctx on an idle pool: got %v, want context.Canceled", err)
			}

			release := fill(t, p, cfg.Workers, cfg.QueueSize)
			for _, mk := range []func() (context.Context, context.CancelFunc){
				func() (context.Context, context.CancelFunc) {
					return context.WithTimeout(context.Background(), 20*time.Millisecond)
				},
				func() (context.Context, context.CancelFunc) {
					ctx, cancel := context.WithCancel(context.Background())
					time.AfterFunc(20*time.Millisecond, cancel)
					return ctx, cancel
				},
			} {
				ctx, cancel := mk()
				err := returnsAtOnce(t, "SubmitContext on a full pool", func() error { return p.SubmitContext(ctx, never) })
				if want := ctx.Err(); want == nil || !errors.Is(err, want) {
					t.Errorf("SubmitContext on a full pool until ctx ended: got %v, want ctx.Err() = %v", err, want)
				}
				cancel()
			}
			// The callers that gave up hold no room: a TrySubmit still
			// finds the pool exactly full.
			if err := p.TrySubmit(never); !errors.Is(err, executor.ErrOverloaded) {
				t.Errorf("TrySubmit after two SubmitContexts gave up, pool full: got %v, want ErrOverloaded", err)
			}

			// A waiting SubmitContext is accepted once room appears.
			accepted := make(chan error, 1)
			var acceptedRan atomic.Int32
			go func() {
				accepted <- p.SubmitContext(context.Background(), func() { acceptedRan.Add(1) })
			}()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			waiting := make(chan error, 1)
			go func() { waiting <- p.SubmitContext(ctx, func() { acceptedRan.Add(1) }) }()
			close(release)
			for i, ch := range []chan error{accepted, waiting} {
				select {
				case err := <-ch:
					if err != nil {
						t.Errorf("waiting SubmitContext %d once tasks finished: got %v, want nil", i, err)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("waiting SubmitContext %d did not return once tasks finished", i)
				}
			}

			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if err := p.SubmitContext(context.Background(), never); !errors.Is(err, executor.ErrClosed) {
				t.Errorf("SubmitContext after Shutdown: got %v, want ErrClosed", err)
			}
			if err := p.SubmitContext(cancelled, never); !errors.Is(err, context.Canceled) {
				t.Errorf("SubmitContext after Shutdown with a cancelled ctx: got %v, want context.Canceled (ctx first)", err)
			}
			if n := ran.Load(); n != 0 {
				t.Errorf("refused tasks run: got %d, want 0", n)
			}
			if n := acceptedRan.Load(); n != 2 {
				t.Errorf("accepted tasks run: got %d, want 2", n)
			}
			// Rejected: cancelled, deadline, cancel, TrySubmit, closed, cancelled.
			want := executor.Stats{Workers: cfg.Workers, Submitted: uint64(cfg.Workers + cfg.QueueSize + 2), Rejected: 6}
			want.Completed = want.Submitted
			if got := p.Stats(); got != want {
				t.Errorf("Stats() after Shutdown: got %+v, want %+v", got, want)
			}
		})
	}
}

func TestTrySubmit(t *testing.T) {
	for _, cfg := range []executor.Config{
		{Workers: 1},
		{Workers: 3, QueueSize: 2},
		{Workers: 2, QueueSize: 1, Nonblocking: true},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			p := mustNew(t, cfg)
			room := cfg.Workers + cfg.QueueSize
			if err := p.TrySubmit(nil); !errors.Is(err, executor.ErrNilTask) {
				t.Errorf("TrySubmit(nil): got %v, want ErrNilTask", err)
			}
			release := make(chan struct{})
			var ran atomic.Int32
			// On a fresh pool, with workers perhaps not yet waiting.
			for i := 0; i < room; i++ {
				err := returnsAtOnce(t, "TrySubmit with room", func() error {
					return p.TrySubmit(func() { ran.Add(1); <-release })
				})
				if err != nil {
					t.Fatalf("TrySubmit %d of %d on a fresh pool: got %v, want nil", i+1, room, err)
				}
			}
			err := returnsAtOnce(t, "TrySubmit on a full pool", func() error { return p.TrySubmit(func() { ran.Add(100) }) })
			if !errors.Is(err, executor.ErrOverloaded) {
				t.Errorf("TrySubmit with %d running and %d queued: got %v, want ErrOverloaded", cfg.Workers, cfg.QueueSize, err)
			}
			close(release)
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if err := p.TrySubmit(func() { ran.Add(100) }); !errors.Is(err, executor.ErrClosed) {
				t.Errorf("TrySubmit after Shutdown: got %v, want ErrClosed", err)
			}
			if n := ran.Load(); n != int32(room) {
				t.Errorf("tasks run: got %d, want the %d accepted", n, room)
			}
			want := executor.Stats{Workers: cfg.Workers, Submitted: uint64(room), Completed: uint64(room), Rejected: 2}
			if got := p.Stats(); got != want {
				t.Errorf("Stats() after Shutdown: got %+v, want %+v", got, want)
			}
		})
	}
}

func TestResizeInvalid(t *testing.T) {
	p := mustNew(t, executor.Config{Workers: 2, QueueSize: 10})
	for _, n := range []int{0, -1, math.MinInt, executor.MaxCapacity - 9, executor.MaxCapacity, math.MaxInt} {
		if err := p.Resize(n); !errors.Is(err, executor.ErrInvalidConfig) {
			t.Errorf("Resize(%d) with QueueSize 10: got %v, want ErrInvalidConfig", n, err)
		}
	}
	if got := p.Stats().Workers; got != 2 {
		t.Errorf("Stats().Workers after refused Resizes: got %d, want 2", got)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Resize(3); !errors.Is(err, executor.ErrClosed) {
		t.Errorf("Resize(3) after Shutdown: got %v, want ErrClosed", err)
	}
	if err := p.Resize(0); !errors.Is(err, executor.ErrInvalidConfig) {
		t.Errorf("Resize(0) after Shutdown: got %v, want ErrInvalidConfig (checked first)", err)
	}
}

// Growing lets a waiting Submit through at once, and the new workers run
// tasks alongside the old.
func TestResizeGrow(t *testing.T) {
	for _, cfg := range []executor.Config{{Workers: 1}, {Workers: 1, QueueSize: 1}, {Workers: 1, Nonblocking: true}} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			p := mustNew(t, cfg)
			release := fill(t, p, 1, cfg.QueueSize)
			defer close(release)
			if !cfg.Nonblocking {
				var started sync.WaitGroup
				blocked := make(chan error, 1)
				go func() { blocked <- p.Submit(gated(&started, release)) }()
				if err := p.Resize(3); err != nil {
					t.Fatalf("Resize(3): %v", err)
				}
				if got := p.Stats().Workers; got != 3 {
					t.Errorf("Stats().Workers right after Resize(3): got %d, want 3", got)
				}
				select {
				case err := <-blocked:
					if err != nil {
						t.Fatalf("waiting Submit after Resize(3): got %v, want nil", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("waiting Submit did not return after Resize(3)")
				}
				// The queued task (if any) and the one that waited both
				// start on the new workers, beside the held one.
				all := make(chan struct{})
				go func() { started.Wait(); close(all) }()
				waitFor(t, all, "the waiting Submit's task to start on a new worker")
			} else if err := p.Resize(3); err != nil {
				t.Fatalf("Resize(3): %v", err)
			}
			accepted := 1 + cfg.QueueSize // fill's
			if !cfg.Nonblocking {
				accepted++ // the one that waited
			}
			var started sync.WaitGroup
			for i := accepted; i < 3+cfg.QueueSize; i++ {
				if err := p.TrySubmit(gated(&started, release)); err != nil {
					t.Fatalf("TrySubmit %d after Resize(3): got %v, want nil", i+1, err)
				}
			}
			if err := p.TrySubmit(func() {}); !errors.Is(err, executor.ErrOverloaded) {
				t.Errorf("TrySubmit with 3 running and %d queued after Resize(3): got %v, want ErrOverloaded", cfg.QueueSize, err)
			}
		})
	}
}

// Shrinking lets running tasks finish, then holds the new bound: with
// Workers 4 running 4 tasks, Resize(2) and release them; then two tasks run
// and a third waits in the queue.
func TestResizeShrink(t *testing.T) {
	p := mustNew(t, executor.Config{Workers: 4, QueueSize: 1})
	release := fill(t, p, 4, 0)
	if err := p.Resize(2); err != nil {
		t.Fatalf("Resize(2): %v", err)
	}
	if got := p.Stats(); got.Workers != 2 || got.Running != 4 {
		t.Errorf("Stats() right after Resize(2) with 4 running: got %+v, want Workers 2 and Running 4 (never interrupted)", got)
	}
	close(release)
	var runningNow, most atomic.Int32
	release2 := make(chan struct{})
	var started sync.WaitGroup
	task := func() {
		n := runningNow.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		started.Done()
		<-release2
		runningNow.Add(-1)
	}
	started.Add(2)
	for i := 0; i < 3; i++ {
		if err := p.Submit(task); err != nil {
			t.Fatalf("Submit %d after the shrink: %v", i, err)
		}
	}
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	waitFor(t, all, "two tasks to start after Resize(2)")
	time.Sleep(20 * time.Millisecond) // an absence: let a third worker show
	if got := p.Stats(); got.Running != 2 || got.Queued != 1 {
		t.Errorf("Stats() with 3 tasks submitted after Resize(2): got %+v, want Running 2, Queued 1", got)
	}
	started.Add(1)
	close(release2)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m != 2 {
		t.Errorf("most tasks running at once after Resize(2) took effect: got %d, want 2", m)
	}
}

// Resize racing Submit, SubmitContext, TrySubmit, other Resizes and
// Shutdown: every accepted task runs exactly once before Shutdown returns
// nil, and no task runs beyond the largest size ever set. goleak in
// TestMain checks that no goroutine outlives the test.
func TestResizeRaces(t *testing.T) {
	for _, cfg := range []executor.Config{{Workers: 2}, {Workers: 3, QueueSize: 4}, {Workers: 2, QueueSize: 2, Nonblocking: true}} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			for round := 0; round < 5; round++ {
				testResizeRace(t, cfg)
			}
		})
	}
}

func testResizeRace(t *testing.T, cfg executor.Config) {
	const maxSize = 5
	p, err := chanpool.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var runningNow, most, ran, accepted atomic.Int64
	task := func() {
		n := runningNow.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		ran.Add(1)
		runningNow.Add(-1)
	}
	var wg sync.WaitGroup
	submitters := []func() error{
		func() error { return p.Submit(task) },
		func() error { return p.TrySubmit(task) },
		func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			defer cancel()
			return p.SubmitContext(ctx, task)
		},
	}
	for i, submit := range submitters {
		i, submit := i, submit
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := submit()
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.Is(err, executor.ErrClosed):
						return
					case errors.Is(err, executor.ErrOverloaded), errors.Is(err, context.DeadlineExceeded):
					default:
						t.Errorf("submitter %d: unexpected error %v", i, err)
						return
					}
				}
			}()
		}
	}
	for r := 0; r < 2; r++ {
		r := r
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if err := p.Resize(1 + (i+r)%maxSize); errors.Is(err, executor.ErrClosed) {
					return
				} else if err != nil {
					t.Errorf("Resize: %v", err)
					return
				}
			}
		}()
	}
	time.Sleep(2 * time.Millisecond) // let them race
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ranAtShutdown := ran.Load()
	wg.Wait()
	if got, want := ranAtShutdown, accepted.Load(); got != want {
		t.Fatalf("tasks run when Shutdown returned: got %d, want the %d accepted", got, want)
	}
	if m := most.Load(); m > max(maxSize, int64(cfg.Workers)) {
		t.Fatalf("most tasks running at once: got %d, want at most %d", m, maxSize)
	}
	if s := p.Stats(); s.Submitted != uint64(accepted.Load()) || s.Completed != s.Submitted || s.Running != 0 || s.Queued != 0 {
		t.Fatalf("Stats() after Shutdown: got %+v, want Submitted = Completed = %d, nothing running or queued", s, accepted.Load())
	}
}

// Issue 13, defect 5: Submitted must count a task as soon as its Submit
// returned nil. It used to be derived from what workers publish, and
// trailed: right after Submit returned, the task was often in no count.
func TestSubmittedCountsReturnedSubmit(t *testing.T) {
	for _, cfg := range []executor.Config{{Workers: 1}, {Workers: 1, QueueSize: 4}, {Workers: 1, QueueSize: 1, Nonblocking: true}} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			p := mustNew(t, cfg)
			gate := make(chan struct{})
			for i := 1; i <= 1000; i++ {
				if err := p.Submit(func() { <-gate }); err != nil {
					t.Fatal(err)
				}
				got := p.Stats().Submitted
				gate <- struct{}{}
				if got != uint64(i) {
					t.Fatalf("Stats().Submitted right after Submit %d returned nil: got %d, want %d", i, got, i)
				}
			}
		})
	}
}

// Issue 13, defect 2: sizes past executor.MaxCapacity, or whose sum
// overflows, are an error, never a panic nor an out-of-memory crash.
func TestNewHugeSizes(t *testing.T) {
	for _, cfg := range []executor.Config{
		{Workers: math.MaxInt},
		{QueueSize: math.MaxInt},
		{QueueSize: math.MaxInt, Nonblocking: true},
		{Workers: math.MaxInt / 2, QueueSize: math.MaxInt/2 + 2, Nonblocking: true},
		{Workers: 1, QueueSize: 1 << 40},
		{Workers: executor.MaxCapacity + 1},
		{Workers: 1, QueueSize: executor.MaxCapacity},
		{Workers: executor.MaxCapacity / 2, QueueSize: executor.MaxCapacity/2 + 1, Nonblocking: true},
	} {
		p, err := chanpool.New(cfg)
		if !errors.Is(err, executor.ErrInvalidConfig) {
			t.Errorf("New(Workers %d, QueueSize %d, Nonblocking %v): got %v, want ErrInvalidConfig", cfg.Workers, cfg.QueueSize, cfg.Nonblocking, err)
		}
		if p != nil {
			t.Errorf("New(%+v) returned a pool with its error", cfg)
			_ = p.Shutdown(context.Background())
		}
	}
}

// A TrySubmit on a blocking pool may find its room in a worker still on its
// way to the channel (a fresh pool here), and wait for it; a blocking
// Submit racing it for the same room must not take that worker first, or
// the TrySubmit would wait for a task that never finishes. Every TrySubmit
// must return while every accepted task is held.
func TestTrySubmitRacingSubmitNeverWaits(t *testing.T) {
	for round := 0; round < 200; round++ {
		p, err := chanpool.New(executor.Config{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		task := func() { <-release }
		tries := make(chan error, 2)
		var blocked sync.WaitGroup
		for i := 0; i < 2; i++ {
			go func() { tries <- p.TrySubmit(task) }()
			blocked.Add(1)
			go func() {
				defer blocked.Done()
				if err := p.Submit(task); err != nil && !errors.Is(err, executor.ErrClosed) {
					t.Errorf("Submit: %v", err)
				}
			}()
		}
		for i := 0; i < 2; i++ {
			select {
			case err := <-tries:
				if err != nil && !errors.Is(err, executor.ErrOverloaded) {
					t.Errorf("TrySubmit: got %v, want nil or ErrOverloaded", err)
				}
			case <-time.After(5 * time.Second):
				close(release)
				t.Fatalf("round %d: a TrySubmit racing blocking Submits on a fresh pool waited 5s for a held task", round)
			}
		}
		close(release)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		blocked.Wait()
	}
}
