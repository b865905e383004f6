package group_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/backends/antspool"
	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/backends/pondpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/group"
)

func TestMain(m *testing.M) {
	// ants starts its default pool's goroutines when imported and never
	// stops them: those are not ours.
	var opts []goleak.Option
	for _, f := range antspool.PackageGoroutines() {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	goleak.VerifyTestMain(m, opts...)
}

// timeout bounds every wait in these tests, so a deadlock fails instead of
// hanging.
const timeout = 10 * time.Second

// impl is one executor the tests run on.
type impl struct {
	name string
	new  func(executor.Config) (executor.Executor, error)
}

func adapt[P executor.Executor](newPool func(executor.Config) (P, error)) func(executor.Config) (executor.Executor, error) {
	return func(cfg executor.Config) (executor.Executor, error) { return newPool(cfg) }
}

// backends lists the three backends, and semPool, a reference executor
// with TrySubmit, so that the TrySubmit paths are exercised whether or not
// the backends implement it yet.
func backends() []impl {
	return []impl{
		{"chanpool", adapt(chanpool.New)},
		{"ants", adapt(antspool.New)},
		{"pond", adapt(pondpool.New)},
		{"sempool", adapt(newSemPool)},
	}
}

// eachBackend runs test on a fresh executor from every backend, built with
// cfg and shut down when the subtest ends.
func eachBackend(t *testing.T, cfg executor.Config, test func(t *testing.T, ex executor.Executor)) {
	t.Helper()
	for _, b := range backends() {
		b := b
		t.Run("backend="+b.name, func(t *testing.T) {
			test(t, newExecutor(t, b, cfg))
		})
	}
}

func newExecutor(t *testing.T, b impl, cfg executor.Config) executor.Executor {
	t.Helper()
	ex, err := b.new(cfg)
	if err != nil {
		t.Fatalf("%s: New(%+v): %v", b.name, cfg, err)
	}
	t.Cleanup(func() { shutdown(t, ex) })
	return ex
}

func shutdown(t *testing.T, ex executor.Executor) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := ex.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// wait calls Wait, failing the test if it does not return within timeout.
func wait(t *testing.T, g *group.Group) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		t.Fatalf("Wait did not return within %v: deadlock?", timeout)
		return nil
	}
}

// recv receives from ch, failing the test after timeout.
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

// occupy submits a task to ex directly (not through a group) that holds its
// worker until the returned release is called.
func occupy(t *testing.T, ex executor.Executor) (release func()) {
	t.Helper()
	started, hold := make(chan struct{}), make(chan struct{})
	if err := ex.Submit(func() { close(started); <-hold }); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	recv(t, started, "the occupying task to start")
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return release
}

var errBoom = errors.New("boom")

func TestWaitReturnsFirstErrorAndCancels(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 4}, func(t *testing.T, ex executor.Executor) {
		g, ctx := group.WithContext(context.Background(), ex)
		errLate := errors.New("late")
		g.Go(func() error { return errBoom })
		g.Go(func() error {
			<-ctx.Done() // only the first error can end this
			return errLate
		})
		g.Go(func() error { return nil })
		if err := wait(t, g); err != errBoom {
			t.Errorf("Wait() = %v; want %v", err, errBoom)
		}
		if got := context.Cause(ctx); got != errBoom {
			t.Errorf("context.Cause(ctx) = %v; want %v", got, errBoom)
		}
		if err := g.Wait(); err != errBoom {
			t.Errorf("second Wait() = %v; want %v again", err, errBoom)
		}
	})
}

func TestWaitCancelsContextOnSuccess(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 2}, func(t *testing.T, ex executor.Executor) {
		g, ctx := group.WithContext(context.Background(), ex)
		var ran atomic.Int64
		for i := 0; i < 50; i++ {
			g.Go(func() error {
				if ctx.Err() != nil {
					return fmt.Errorf("ctx done while tasks ran: %w", ctx.Err())
				}
				ran.Add(1)
				return nil
			})
		}
		if err := wait(t, g); err != nil {
			t.Fatalf("Wait() = %v; want nil", err)
		}
		if got := ran.Load(); got != 50 {
			t.Errorf("%d tasks ran; want 50", got)
		}
		if ctx.Err() == nil {
			t.Error("ctx not canceled after Wait returned")
		}
	})
}

func TestNewGroupIsReusableAfterWait(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 2}, func(t *testing.T, ex executor.Executor) {
		g := group.New(ex)
		var ran atomic.Int64
		for round := 1; round <= 3; round++ {
			for i := 0; i < 10; i++ {
				g.Go(func() error { ran.Add(1); return nil })
			}
			if err := wait(t, g); err != nil {
				t.Fatalf("round %d: Wait() = %v", round, err)
			}
			if got, want := ran.Load(), int64(10*round); got != want {
				t.Fatalf("round %d: %d tasks ran; want %d", round, got, want)
			}
		}
	})
}

func TestWaitWaitsOnlyForOwnTasks(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 2}, func(t *testing.T, ex executor.Executor) {
		release := occupy(t, ex) // another caller's task, still running
		g := group.New(ex)
		var ran atomic.Bool
		g.Go(func() error { ran.Store(true); return nil })
		if err := wait(t, g); err != nil {
			t.Fatalf("Wait() = %v", err)
		}
		if !ran.Load() {
			t.Error("Wait returned before the group's task ran")
		}
		release()
	})
}

func TestPanicBecomesPanicError(t *testing.T) {
	cases := []struct {
		name    string
		value   any
		wantIs  error // what errors.Is must find through the PanicError; nil for none
		wantMsg string
	}{
		{"string", "kaput", nil, "group: task panicked: kaput"},
		{"error", errBoom, errBoom, "group: task panicked: boom"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, executor.Config{Workers: 2}, func(t *testing.T, ex executor.Executor) {
				g, ctx := group.WithContext(context.Background(), ex)
				g.Go(func() error { panicker(tc.value); return nil })
				err := wait(t, g)
				var pe *group.PanicError
				if !errors.As(err, &pe) {
					t.Fatalf("Wait() = %v (%T); want a *group.PanicError", err, err)
				}
				if pe.Value != tc.value {
					t.Errorf("Value = %v; want %v", pe.Value, tc.value)
				}
				if got := pe.Error(); got != tc.wantMsg {
					t.Errorf("Error() = %q; want %q", got, tc.wantMsg)
				}
				if !strings.Contains(string(pe.Stack), "group_test.panicker") {
					t.Errorf("Stack does not show where the task panicked (group_test.panicker):\n%s", pe.Stack)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false; want true", err, tc.wantIs)
				}
				if tc.wantIs == nil && pe.Unwrap() != nil {
					t.Errorf("Unwrap() = %v; want nil for a non-error value", pe.Unwrap())
				}
				if context.Cause(ctx) != err {
					t.Errorf("context.Cause(ctx) = %v; want the PanicError", context.Cause(ctx))
				}
				// The worker survived: the executor still runs tasks.
				g2 := group.New(ex)
				g2.Go(func() error { return nil })
				if err := wait(t, g2); err != nil {
					t.Errorf("after the panic, Wait() = %v; want nil", err)
				}
			})
		})
	}
}

//go:noinline
func panicker(v any) { panic(v) }

func TestGoexitIsAnError(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 2}, func(t *testing.T, ex executor.Executor) {
		g := group.New(ex)
		g.Go(func() error { runtime.Goexit(); return nil })
		if err := wait(t, g); err == nil {
			t.Error("Wait() = nil after a task called runtime.Goexit; want an error")
		}
	})
}

func TestGoNilAndZeroGroupAreErrors(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 1}, func(t *testing.T, ex executor.Executor) {
		g := group.New(ex)
		g.Go(nil)
		if err := wait(t, g); !errors.Is(err, executor.ErrNilTask) {
			t.Errorf("Go(nil): Wait() = %v; want an error matching executor.ErrNilTask", err)
		}
		if g.TryGo(nil) {
			t.Error("TryGo(nil) = true; want false")
		}
	})
	for name, g := range map[string]*group.Group{"zero": new(group.Group), "New(nil)": group.New(nil)} {
		ran := false
		g.Go(func() error { ran = true; return nil })
		if err := g.Wait(); err == nil || ran {
			t.Errorf("%s Group: Go ran f: %v, Wait() = %v; want f not run and an error", name, ran, err)
		}
		if g.TryGo(func() error { return nil }) {
			t.Errorf("%s Group: TryGo = true; want false", name)
		}
	}
}

func TestFailedSubmitIsTheGroupsError(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		eachBackend(t, executor.Config{Workers: 1}, func(t *testing.T, ex executor.Executor) {
			shutdown(t, ex)
			g := group.New(ex)
			var ran atomic.Bool
			g.Go(func() error { ran.Store(true); return nil })
			if err := wait(t, g); !errors.Is(err, executor.ErrClosed) {
				t.Errorf("Wait() = %v; want an error matching executor.ErrClosed", err)
			}
			if g.TryGo(func() error { ran.Store(true); return nil }) {
				t.Error("TryGo on a shut down executor = true; want false")
			}
			if ran.Load() {
				t.Error("f ran although its submit failed")
			}
		})
	})
	t.Run("overloaded", func(t *testing.T) {
		eachBackend(t, executor.Config{Workers: 1, Nonblocking: true}, func(t *testing.T, ex executor.Executor) {
			release := occupy(t, ex)
			g := group.New(ex)
			var ran atomic.Bool
			g.Go(func() error { ran.Store(true); return nil })
			if err := wait(t, g); !errors.Is(err, executor.ErrOverloaded) {
				t.Errorf("Wait() = %v; want an error matching executor.ErrOverloaded", err)
			}
			release()
			shutdown(t, ex)
			if ran.Load() {
				t.Error("f ran although its submit failed")
			}
		})
	})
	t.Run("ctx done on entry", func(t *testing.T) {
		eachBackend(t, executor.Config{Workers: 1}, func(t *testing.T, ex executor.Executor) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			g, _ := group.WithContext(ctx, ex)
			var ran atomic.Bool
			g.Go(func() error { ran.Store(true); return nil })
			if err := wait(t, g); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait() = %v; want an error matching context.Canceled", err)
			}
			if g.TryGo(func() error { ran.Store(true); return nil }) {
				t.Error("TryGo with a done ctx = true; want false")
			}
			shutdown(t, ex)
			if ran.Load() {
				t.Error("f ran although ctx was done")
			}
		})
	})
	t.Run("ctx ends while Go waits for room", func(t *testing.T) {
		eachBackend(t, executor.Config{Workers: 1}, func(t *testing.T, ex executor.Executor) {
			release := occupy(t, ex)
			ctx, cancel := context.WithCancel(context.Background())
			g, _ := group.WithContext(ctx, ex)
			var ran atomic.Bool
			returned := make(chan struct{})
			go func() {
				defer close(returned)
				g.Go(func() error { ran.Store(true); return nil })
			}()
			cancel()
			recv(t, returned, "Go to return after ctx was canceled")
			if err := wait(t, g); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait() = %v; want an error matching context.Canceled", err)
			}
			release()
			shutdown(t, ex) // every accepted task has run once this returns
			if ran.Load() {
				t.Error("f ran although Go gave up waiting")
			}
		})
	})
}

func TestOutsideCallerWaitsForRoom(t *testing.T) {
	// An outside caller's Go must wait for the executor, not run f itself:
	// f checks that the task holding the only worker has finished.
	eachBackend(t, executor.Config{Workers: 1}, func(t *testing.T, ex executor.Executor) {
		g := group.New(ex)
		hold := make(chan struct{})
		started := make(chan struct{})
		var first atomic.Bool
		g.Go(func() error {
			close(started)
			<-hold
			first.Store(true)
			return nil
		})
		recv(t, started, "the first task to start")
		returned := make(chan struct{})
		go func() {
			defer close(returned)
			g.Go(func() error {
				if !first.Load() {
					return errors.New("second task ran while the first held the only worker")
				}
				return nil
			})
		}()
		close(hold)
		recv(t, returned, "Go to return")
		if err := wait(t, g); err != nil {
			t.Errorf("Wait() = %v", err)
		}
	})
}

func TestSetLimitBoundsOutstandingTasks(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		limit := limit
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			eachBackend(t, executor.Config{Workers: 4, QueueSize: 8}, func(t *testing.T, ex executor.Executor) {
				g := group.New(ex)
				g.SetLimit(limit)
				var running, peak atomic.Int64
				for i := 0; i < 40; i++ {
					g.Go(func() error {
						n := running.Add(1)
						for {
							p := peak.Load()
							if n <= p || peak.CompareAndSwap(p, n) {
								break
							}
						}
						runtime.Gosched()
						running.Add(-1)
						return nil
					})
				}
				if err := wait(t, g); err != nil {
					t.Fatalf("Wait() = %v", err)
				}
				if got := peak.Load(); got > int64(limit) {
					t.Errorf("%d tasks ran at once; want at most the limit, %d", got, limit)
				}
			})
		})
	}
}

func TestSetLimitGoWaitsAndTryGoRefuses(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 4}, func(t *testing.T, ex executor.Executor) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g, _ := group.WithContext(ctx, ex)
		g.SetLimit(1)
		hold, started := make(chan struct{}), make(chan struct{})
		g.Go(func() error { close(started); <-hold; return nil })
		recv(t, started, "the first task to start")

		var ran atomic.Bool
		if g.TryGo(func() error { ran.Store(true); return nil }) {
			t.Error("TryGo at the limit = true; want false")
		}
		// Raising the limit lets a waiting Go through while the first task
		// still holds its slot.
		second := make(chan struct{})
		go g.Go(func() error { close(second); return nil })
		g.SetLimit(2)
		recv(t, second, "the second task to run after SetLimit(2)")
		close(hold)
		if err := wait(t, g); err != nil {
			t.Errorf("Wait() = %v", err)
		}
		if ran.Load() {
			t.Error("the refused TryGo's f ran")
		}
	})
}

func TestSetLimitWaitEndsWithContext(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 4}, func(t *testing.T, ex executor.Executor) {
		ctx, cancel := context.WithCancel(context.Background())
		g, _ := group.WithContext(ctx, ex)
		g.SetLimit(1)
		hold, started := make(chan struct{}), make(chan struct{})
		g.Go(func() error { close(started); <-hold; return nil })
		recv(t, started, "the first task to start")
		var ran atomic.Bool
		returned := make(chan struct{})
		go func() {
			defer close(returned)
			g.Go(func() error { ran.Store(true); return nil })
		}()
		cancel()
		recv(t, returned, "Go waiting for a slot to return after cancel")
		close(hold)
		if err := wait(t, g); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait() = %v; want an error matching context.Canceled", err)
		}
		if ran.Load() {
			t.Error("f ran although Go gave up waiting for a slot")
		}
	})
}

func TestTryGo(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 1}, func(t *testing.T, ex executor.Executor) {
		g := group.New(ex)
		_, canTry := ex.(executor.TrySubmitter)
		ran := make(chan struct{})
		ok := g.TryGo(func() error { close(ran); return nil })
		if ok != canTry {
			t.Fatalf("TryGo on an idle executor = %v; want %v (true exactly when it implements TrySubmitter)", ok, canTry)
		}
		if !ok {
			return
		}
		recv(t, ran, "the TryGo task to run")
		if err := wait(t, g); err != nil {
			t.Fatalf("Wait() = %v", err)
		}
		release := occupy(t, ex)
		if g.TryGo(func() error { return errors.New("ran on a full executor") }) {
			t.Error("TryGo on a full executor = true; want false")
		}
		release()
		if err := wait(t, g); err != nil {
			t.Errorf("Wait() = %v; a refused TryGo must not be the group's error", err)
		}
	})
}

// walk fans out a tree of the given depth and fanout from inside tasks, each
// node calling Go on g for its children and returning without waiting, and
// returns how many nodes ran.
func walk(t *testing.T, g *group.Group, depth, fanout int) int64 {
	t.Helper()
	var nodes atomic.Int64
	var visit func(level int) func() error
	visit = func(level int) func() error {
		return func() error {
			nodes.Add(1)
			if level < depth {
				for i := 0; i < fanout; i++ {
					g.Go(visit(level + 1))
				}
			}
			return nil
		}
	}
	g.Go(visit(0))
	if err := wait(t, g); err != nil {
		t.Fatalf("Wait() = %v", err)
	}
	return nodes.Load()
}

func TestNestedGoDoesNotDeadlock(t *testing.T) {
	const depth, fanout = 5, 3
	const want = 1 + 3 + 9 + 27 + 81 + 243
	for _, workers := range []int{1, 2} {
		for _, cfg := range []executor.Config{
			{Workers: workers},
			{Workers: workers, QueueSize: 1},
			{Workers: workers, Nonblocking: true},
		} {
			cfg := cfg
			for _, limit := range []int{-1, 1, 2} {
				limit := limit
				name := fmt.Sprintf("workers=%d/queue=%d/nonblocking=%v/limit=%d", cfg.Workers, cfg.QueueSize, cfg.Nonblocking, limit)
				t.Run(name, func(t *testing.T) {
					eachBackend(t, cfg, func(t *testing.T, ex executor.Executor) {
						g := group.New(ex)
						g.SetLimit(limit)
						if got := walk(t, g, depth, fanout); got != want {
							t.Errorf("%d nodes ran; want %d", got, want)
						}
					})
				})
			}
		}
	}
}

func TestNestedGoWhenEveryWorkerWaits(t *testing.T) {
	// Every worker runs a task of the group, and each calls Go only once all
	// of them are running: the executor is full of tasks calling Go.
	for _, workers := range []int{1, 2} {
		workers := workers
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			eachBackend(t, executor.Config{Workers: workers}, func(t *testing.T, ex executor.Executor) {
				g := group.New(ex)
				var arrived sync.WaitGroup
				arrived.Add(workers)
				var children atomic.Int64
				for i := 0; i < workers; i++ {
					g.Go(func() error {
						arrived.Done()
						arrived.Wait()
						g.Go(func() error { children.Add(1); return nil })
						return nil
					})
				}
				if err := wait(t, g); err != nil {
					t.Fatalf("Wait() = %v", err)
				}
				if got := children.Load(); got != int64(workers) {
					t.Errorf("%d children ran; want %d", got, workers)
				}
			})
		})
	}
}

func TestNestedGroupsOnOneExecutor(t *testing.T) {
	// A task of one group fans out on another group, on the same full
	// executor, and waits for it: the inner Go calls run inline.
	for _, workers := range []int{1, 2} {
		workers := workers
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			eachBackend(t, executor.Config{Workers: workers}, func(t *testing.T, ex executor.Executor) {
				outer := group.New(ex)
				var leaves atomic.Int64
				for i := 0; i < 4; i++ {
					outer.Go(func() error {
						inner := group.New(ex)
						for j := 0; j < 4; j++ {
							inner.Go(func() error { leaves.Add(1); return nil })
						}
						return inner.Wait()
					})
				}
				if err := wait(t, outer); err != nil {
					t.Fatalf("Wait() = %v", err)
				}
				if got := leaves.Load(); got != 16 {
					t.Errorf("%d leaves ran; want 16", got)
				}
			})
		})
	}
}

func TestGoAfterWaitWithContextRunsNothing(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 1}, func(t *testing.T, ex executor.Executor) {
		g, _ := group.WithContext(context.Background(), ex)
		if err := wait(t, g); err != nil {
			t.Fatalf("first Wait() = %v", err)
		}
		var ran atomic.Bool
		g.Go(func() error { ran.Store(true); return nil })
		if err := wait(t, g); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait() after a Go that followed Wait = %v; want an error matching context.Canceled", err)
		}
		shutdown(t, ex)
		if ran.Load() {
			t.Error("f ran although the group's context was done")
		}
	})
}
