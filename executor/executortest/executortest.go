package executortest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
)

// DefaultTimeout is how long the suite waits for any one thing an executor
// must do (a task to start, a Submit or Shutdown to return) before it fails
// the subtest, when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// quiet is how long the suite watches for something that must NOT happen
// (a blocked Submit returning, a queued task starting while every worker is
// busy). An absence cannot be signalled, so this is the one place the suite
// sleeps; a correct executor never makes it wait longer than this.
const quiet = 10 * time.Millisecond

// Options adjusts RunWithOptions. The zero value is what Run uses.
type Options struct {
	// Timeout bounds every wait in the suite: a subtest that waits longer
	// than this for a task to start, a Submit to return or Shutdown to
	// return fails (t.Fatalf, naming what it waited for) instead of hanging.
	// Zero means DefaultTimeout. The suite's own tests use a short Timeout
	// for executors that are known to hang.
	Timeout time.Duration

	// LeakOptions are passed to goleak.Find, after the suite's own
	// goleak.IgnoreCurrent, when each subtest checks that no goroutine is
	// left once Shutdown has returned nil. Use them for a backend built on a
	// library that starts package-level goroutines on first use, for example
	// goleak.IgnoreTopFunction("example.com/lib.(*cache).janitor").
	// Goroutines that already ran when the executor was built are ignored
	// anyway.
	LeakOptions []goleak.Option
}

// Run runs the conformance suite against the executors that newExecutor
// builds: one subtest per point of the contract in the executor package
// documentation (see the package documentation for the list). Every subtest
// builds fresh executors with newExecutor, shuts each down in t.Cleanup, and
// fails after a deadline instead of hanging.
//
// newExecutor must return a working executor for every valid Config, and an
// error wrapping executor.ErrInvalidConfig for an invalid one.
//
// Run must not be called from a test that runs in parallel with other tests
// (t.Parallel): each subtest checks, with go.uber.org/goleak, that every
// goroutine started since the executor was built has ended once Shutdown
// returned nil, and goroutines of other tests would show up as leaks.
func Run(t *testing.T, newExecutor func(executor.Config) (executor.Executor, error)) {
	t.Helper()
	RunWithOptions(t, newExecutor, Options{})
}

// RunWithOptions is Run with Options: a different deadline, or extra goleak
// options for a backend whose library starts package-level goroutines.
func RunWithOptions(t *testing.T, newExecutor func(executor.Config) (executor.Executor, error), opts Options) {
	t.Helper()
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	s := &suite{newExecutor: newExecutor, opts: opts}
	for _, st := range subtests() {
		st := st
		t.Run(st.name, func(t *testing.T) { st.run(t, s) })
	}
}

// suite carries what every subtest needs.
type suite struct {
	newExecutor func(executor.Config) (executor.Executor, error)
	opts        Options
}

// start builds an executor with cfg and registers its Shutdown in
// t.Cleanup, followed by the goroutine leak check. Gates made after start
// open in cleanups registered later, which run first, so the cleanup
// Shutdown never waits on a task the subtest left blocked.
func (s *suite) start(t *testing.T, cfg executor.Config) executor.Executor {
	t.Helper()
	// Captured before the executor exists, so every goroutine it starts is
	// checked, while the test's and earlier executors' goroutines are not.
	ignore := goleak.IgnoreCurrent()
	ex, err := s.newExecutor(cfg)
	if err != nil {
		t.Fatalf("newExecutor(%+v): got error %v, want a working executor", cfg, err)
	}
	if ex == nil {
		t.Fatalf("newExecutor(%+v): got a nil Executor and a nil error", cfg)
	}
	t.Cleanup(func() {
		err := s.shutdown(ex, context.Background())
		if err != nil {
			t.Errorf("Shutdown in cleanup (tasks released): got %v, want nil", err)
			return
		}
		if t.Failed() {
			// A failed subtest may have left its own goroutines behind (a
			// Submit that hung); they would only muddy the report.
			return
		}
		opts := append([]goleak.Option{ignore}, s.opts.LeakOptions...)
		if err := goleak.Find(opts...); err != nil {
			t.Errorf("goroutines still running after Shutdown returned nil:\n%v", err)
		}
	})
	return ex
}

// shutdown calls ex.Shutdown(ctx) bounded by the suite's timeout, turning a
// panic or a hang into an error.
func (s *suite) shutdown(ex executor.Executor, ctx context.Context) error {
	ch := call(func() error { return ex.Shutdown(ctx) })
	timer := time.NewTimer(s.opts.Timeout)
	defer timer.Stop()
	select {
	case err := <-ch:
		return err
	case <-timer.C:
		return fmt.Errorf("did not return within %v", s.opts.Timeout)
	}
}

// panicError is what call returns when the called function panicked.
type panicError struct{ v any }

func (e panicError) Error() string { return fmt.Sprintf("panic: %v", e.v) }

// call runs f in a new goroutine and returns a channel that receives its
// result, or a panicError if it panicked. The channel is buffered, so the
// goroutine ends when f returns even if nobody receives.
func call(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() {
		var err error
		defer func() {
			if v := recover(); v != nil {
				err = panicError{v}
			}
			ch <- err
		}()
		err = f()
	}()
	return ch
}

// submit calls ex.Submit(task) in a new goroutine; see call.
func submit(ex executor.Executor, task func()) <-chan error {
	return call(func() error { return ex.Submit(task) })
}

// await returns the result from ch, failing the test if none arrives within
// the suite's timeout. what says what the test was waiting for.
func (s *suite) await(t *testing.T, ch <-chan error, format string, args ...any) error {
	t.Helper()
	timer := time.NewTimer(s.opts.Timeout)
	defer timer.Stop()
	select {
	case err := <-ch:
		return err
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s", s.opts.Timeout, fmt.Sprintf(format, args...))
		return nil
	}
}

// wait waits for ch to be closed, failing the test after the suite's
// timeout.
func (s *suite) wait(t *testing.T, ch <-chan struct{}, format string, args ...any) {
	t.Helper()
	timer := time.NewTimer(s.opts.Timeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s", s.opts.Timeout, fmt.Sprintf(format, args...))
	}
}

// submitNow submits task and waits for Submit to return, failing the test if
// it does not return within the suite's timeout.
func (s *suite) submitNow(t *testing.T, ex executor.Executor, task func(), format string, args ...any) error {
	t.Helper()
	return s.await(t, submit(ex, task), "Submit to return (%s)", fmt.Sprintf(format, args...))
}

// gate holds tasks until it is opened. newGate opens it in t.Cleanup, so a
// failing subtest never leaves a task blocked.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{ch: make(chan struct{})}
	t.Cleanup(g.open)
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// counter is a count that can be waited on.
type counter struct {
	mu      sync.Mutex // guards n and waiters; never held while calling out
	n       int
	waiters []countWaiter
}

type countWaiter struct {
	n  int
	ch chan struct{}
}

func (c *counter) inc() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if c.n >= w.n {
			close(w.ch)
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
}

func (c *counter) load() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// reached returns a channel that is closed once the count is at least n.
func (c *counter) reached(n int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.n >= n {
		close(ch)
	} else {
		c.waiters = append(c.waiters, countWaiter{n, ch})
	}
	return ch
}

// probe makes tasks that record when they start and finish and how many run
// at once.
type probe struct {
	started, finished counter
	running           atomic.Int64
	maxRunning        atomic.Int64
}

// task returns a task that blocks until g opens; with a nil g it yields
// once instead.
func (p *probe) task(g *gate) func() {
	return func() {
		p.started.inc()
		n := p.running.Add(1)
		for {
			m := p.maxRunning.Load()
			if n <= m || p.maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		if g != nil {
			<-g.ch
		} else {
			// Give other tasks a chance to overlap with this one.
			runtime.Gosched()
		}
		p.running.Add(-1)
		p.finished.inc()
	}
}

// waitCount waits until c reaches n, failing the test after the suite's
// timeout with the count it got.
func (s *suite) waitCount(t *testing.T, c *counter, n int, format string, args ...any) {
	t.Helper()
	timer := time.NewTimer(s.opts.Timeout)
	defer timer.Stop()
	select {
	case <-c.reached(n):
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s: got %d, want %d", s.opts.Timeout, fmt.Sprintf(format, args...), c.load(), n)
	}
}

// eventually polls cond until it holds or the suite's timeout passes, and
// reports whether it held. It is for state the executor cannot signal (a
// gauge catching up, a worker getting back to its queue after its task
// returned); everything that can be signalled is waited on instead.
func (s *suite) eventually(cond func() bool) bool {
	deadline := time.Now().Add(s.opts.Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

// acceptAll submits n tasks made by task, retrying a Submit that returns
// ErrOverloaded until the suite's timeout passes: once tasks have finished, a
// worker may still be on its way back to its queue. It returns how many were
// accepted, how many ErrOverloaded rejections it saw, and the last error.
func (s *suite) acceptAll(ex executor.Executor, n int, task func() func()) (accepted, overloaded int, err error) {
	s.eventually(func() bool {
		for accepted < n {
			if err = ex.Submit(task()); err != nil {
				if errors.Is(err, executor.ErrOverloaded) {
					overloaded++
					return false
				}
				return true
			}
			accepted++
		}
		return true
	})
	return accepted, overloaded, err
}

// settle waits the quiet period, for something that must not happen to
// show if it does.
func settle() { time.Sleep(quiet) }

// watched is a call that must not have returned yet.
type watched struct {
	ch       <-chan error
	err      error
	returned bool
}

// watch waits the quiet period and records whether the call behind ch
// returned meanwhile.
func watch(ch <-chan error) *watched {
	w := &watched{ch: ch}
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	select {
	case w.err = <-ch:
		w.returned = true
	case <-timer.C:
	}
	return w
}

// result returns the call's result, waiting for it if need be.
func (w *watched) result(t *testing.T, s *suite, format string, args ...any) error {
	t.Helper()
	if w.returned {
		return w.err
	}
	w.err = s.await(t, w.ch, format, args...)
	w.returned = true
	return w.err
}
