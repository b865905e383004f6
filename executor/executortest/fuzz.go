package executortest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
)

// Fuzz runs a fuzz target that plays a schedule, decoded from the fuzzer's
// bytes, against a fresh executor from newExecutor, and checks the contract
// at the end of each schedule: every accepted task ran exactly once and no
// refused one ran, never more tasks ran at once than the largest bound the
// executor had, Shutdown returned nil and left no goroutine behind, and the
// final Stats (when reported) are exact. Call it from a fuzz test of the
// backend:
//
//	func FuzzSchedule(f *testing.F) {
//		executortest.Fuzz(f, func(cfg executor.Config) (executor.Executor, error) {
//			return mypool.New(cfg)
//		})
//	}
//
// and run it with go test -fuzz=FuzzSchedule -fuzztime=30s. Without -fuzz,
// go test runs the seeds Fuzz adds and any corpus in testdata/fuzz.
//
// The first three bytes choose the Config (Workers 1 to 4, QueueSize 0 to
// 3, Nonblocking, and whether the PanicHandler calls runtime.Goexit, as
// t.FailNow does); each further byte is one step: a Submit of a quick task,
// of a task held until a later step releases it, of one that panics (with a
// value or with nil), of one that calls runtime.Goexit, of one that submits
// another task from inside (with TrySubmit when the executor has it, else
// only when Nonblocking), a Stats call whose gauges must stay within their
// bounds, a SubmitContext whose ctx is canceled or times out, a TrySubmit, a
// Resize, a Shutdown with a context that may end first, or the release of a
// held task. Submits that may wait run on goroutines of their own, so a
// schedule never wedges on its own full executor; the end releases every
// held task.
//
// Options.Timeout (DefaultTimeout when zero) bounds each schedule's wait
// for Shutdown; Options.LeakOptions are passed to the leak check.
func Fuzz(f *testing.F, newExecutor func(executor.Config) (executor.Executor, error), opts ...Options) {
	f.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	for _, seed := range fuzzSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, schedule []byte) {
		playSchedule(t, newExecutor, o, schedule)
	})
}

// The steps of a schedule, one per byte (taken modulo stepCount).
const (
	stepSubmit       = iota // a quick task
	stepHeld                // a task held until stepRelease or the end
	stepRelease             // release the oldest held task
	stepPanic               // a task that panics with a value
	stepPanicNil            // a task that calls panic(nil)
	stepGoexit              // a task that calls runtime.Goexit
	stepNested              // a task that submits another from inside
	stepStats               // Stats, checked against the bounds
	stepCtxCanceled         // SubmitContext with a ctx canceled on entry
	stepCtxTimeout          // SubmitContext with a ctx that ends soon
	stepTry                 // TrySubmit of a quick task
	stepResize              // Resize to 1 + the next byte mod 4
	stepShutdownSoon        // Shutdown with a ctx that ends at once
	stepShutdown            // Shutdown, waited for
	stepCount
)

// maxSteps bounds a schedule, so that each runs in milliseconds: longer
// inputs are cut.
const maxSteps = 64

// fuzzSeeds cover each step on blocking and Nonblocking executors.
var fuzzSeeds = [][]byte{
	{1, 1, 0, stepSubmit, stepHeld, stepHeld, stepStats, stepRelease, stepSubmit, stepShutdown, stepSubmit},
	{0, 2, 1, stepHeld, stepHeld, stepHeld, stepTry, stepSubmit, stepStats, stepRelease, stepRelease},
	{2, 0, 2, stepPanic, stepPanicNil, stepGoexit, stepPanic, stepStats, stepSubmit, stepShutdownSoon, stepSubmit},
	{0, 1, 1, stepHeld, stepNested, stepNested, stepRelease, stepStats, stepShutdown},
	{1, 3, 0, stepHeld, stepHeld, stepCtxTimeout, stepCtxCanceled, stepTry, stepRelease, stepCtxTimeout},
	{0, 0, 0, stepHeld, stepSubmit, stepResize, 3, stepSubmit, stepResize, 0, stepRelease, stepStats, stepShutdown},
	{3, 2, 1, stepResize, 1, stepHeld, stepHeld, stepHeld, stepResize, 0, stepTry, stepShutdownSoon, stepRelease, stepRelease},
	{1, 1, 3, stepPanic, stepHeld, stepGoexit, stepShutdownSoon, stepRelease, stepPanic, stepShutdown},
	{0, 1, 0, stepPanic, stepSubmit, stepSubmit, stepPanicNil, stepStats, stepShutdown},
	{1, 2, 1, stepPanic, stepGoexit, stepHeld, stepPanicNil, stepTry, stepRelease, stepStats, stepShutdown},
}

// fuzzCall is one submission in a schedule and what became of it.
type fuzzCall struct {
	kind   callKind
	what   string
	ran    atomic.Int32
	panics bool // the task panics (and so counts in Panicked, if accepted)
	done   chan struct{}
	err    error // valid once done is closed
}

// callKind says which method a fuzzCall used, and so which errors it may get.
type callKind int

const (
	bySubmit callKind = iota
	byContext
	byTry
)

// player plays one schedule.
type player struct {
	t      *testing.T
	ex     executor.Executor
	cfg    executor.Config
	opts   Options
	bound  atomic.Int64 // the largest bound the executor has had
	closed atomic.Bool  // a Shutdown has begun

	mu      sync.Mutex // guards calls and held
	calls   []*fuzzCall
	held    []chan struct{}
	running atomic.Int64
	most    atomic.Int64
	handled atomic.Int64 // PanicHandler calls
}

func playSchedule(t *testing.T, newExecutor func(executor.Config) (executor.Executor, error), opts Options, schedule []byte) {
	if len(schedule) < 3 {
		return
	}
	ignore := goleak.IgnoreCurrent()
	p := &player{t: t, opts: opts}
	goexitHandler := schedule[2]&2 != 0
	p.cfg = executor.Config{
		Workers:     1 + int(schedule[0]%4),
		QueueSize:   int(schedule[1] % 4),
		Nonblocking: schedule[2]&1 != 0,
		PanicHandler: func(any) {
			p.handled.Add(1)
			if goexitHandler {
				runtime.Goexit()
			}
		},
	}
	ex, err := newExecutor(p.cfg)
	if err != nil {
		t.Fatalf("newExecutor(%s): %v", cfgName(p.cfg), err)
	}
	p.ex = ex
	p.bound.Store(int64(p.cfg.Workers))
	defer p.releaseAll() // a failed check must not leave tasks held

	steps := schedule[3:]
	if len(steps) > maxSteps {
		steps = steps[:maxSteps]
	}
	for i := 0; i < len(steps); i++ {
		switch steps[i] % stepCount {
		case stepSubmit:
			p.submit("Submit", func() {}, false)
		case stepHeld:
			h := make(chan struct{})
			p.mu.Lock()
			p.held = append(p.held, h)
			p.mu.Unlock()
			p.submit("Submit(held)", func() { <-h }, false)
		case stepRelease:
			p.releaseOne()
		case stepPanic:
			p.submit("Submit(panics)", func() { panic("fuzz") }, true)
		case stepPanicNil:
			p.submit("Submit(panic(nil))", func() { panic(nil) }, true)
		case stepGoexit:
			p.submit("Submit(Goexit)", runtime.Goexit, false)
		case stepNested:
			p.nested()
		case stepStats:
			p.checkGauges()
		case stepCtxCanceled:
			if cs, ok := ex.(executor.ContextSubmitter); ok {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				c := p.record("SubmitContext(canceled)", byContext, false)
				c.err = cs.SubmitContext(ctx, c.wrap(p.measured(func() {})))
				close(c.done)
				if !errors.Is(c.err, context.Canceled) {
					t.Errorf("SubmitContext with a canceled ctx: got %v, want an error matching context.Canceled", c.err)
				}
			}
		case stepCtxTimeout:
			if cs, ok := ex.(executor.ContextSubmitter); ok {
				c := p.record("SubmitContext(1ms)", byContext, false)
				task := c.wrap(p.measured(func() {}))
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
					defer cancel()
					c.err = cs.SubmitContext(ctx, task)
					close(c.done)
				}()
				c.settle()
			}
		case stepTry:
			if ts, ok := ex.(executor.TrySubmitter); ok {
				// On a goroutine all the same: a broken TrySubmit that
				// waits must not wedge the schedule.
				c := p.record("TrySubmit", byTry, false)
				task := c.wrap(p.measured(func() {}))
				go func() {
					c.err = ts.TrySubmit(task)
					close(c.done)
				}()
				c.settle()
			}
		case stepResize:
			n := 1
			if i+1 < len(steps) {
				i++
				n += int(steps[i] % 4)
			}
			if rs, ok := ex.(executor.Resizer); ok {
				// Raised before Resize, so a task let in by the new bound
				// is never counted against the old one.
				if int64(n) > p.bound.Load() {
					p.bound.Store(int64(n))
				}
				if err := rs.Resize(n); err != nil && !errors.Is(err, executor.ErrClosed) {
					t.Errorf("Resize(%d): got %v, want nil or ErrClosed", n, err)
				} else if err != nil && !p.closed.Load() {
					t.Errorf("Resize(%d) before any Shutdown: got %v, want nil", n, err)
				}
			}
		case stepShutdownSoon:
			p.closed.Store(true)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := ex.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Shutdown with a canceled ctx: got %v, want nil or context.Canceled", err)
			}
		case stepShutdown:
			p.closed.Store(true)
			// Held tasks would make this wait for ever: release them.
			p.releaseAll()
			if err := p.shutdown(); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		}
	}

	p.releaseAll()
	p.closed.Store(true)
	if err := p.shutdown(); err != nil {
		t.Fatalf("final Shutdown: %v", err)
	}
	p.finish(ignore)
}

// record adds a submission to the schedule's accounts.
func (p *player) record(what string, kind callKind, panics bool) *fuzzCall {
	c := &fuzzCall{what: what, kind: kind, panics: panics, done: make(chan struct{})}
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
	return c
}

// wrap returns task wrapped to count its runs and the tasks running at once.
func (c *fuzzCall) wrap(task func()) func() {
	return func() {
		c.ran.Add(1)
		task()
	}
}

// submit submits task with Submit on a goroutine of its own (it may wait),
// wrapped to count its runs and how many run at once.
func (p *player) submit(what string, task func(), panics bool) {
	c := p.record(what, bySubmit, panics)
	wrapped := c.wrap(p.measured(task))
	go func() {
		c.err = p.ex.Submit(wrapped)
		close(c.done)
	}()
	c.settle()
}

// settle gives c a moment to return, so that a schedule plays mostly in
// order: a call that has not returned by then is taken to be waiting for
// room, and the schedule goes on.
func (c *fuzzCall) settle() {
	timer := time.NewTimer(time.Millisecond)
	defer timer.Stop()
	select {
	case <-c.done:
	case <-timer.C:
	}
}

// measured wraps task to track how many tasks run at once.
func (p *player) measured(task func()) func() {
	return func() {
		n := p.running.Add(1)
		for {
			m := p.most.Load()
			if n <= m || p.most.CompareAndSwap(m, n) {
				break
			}
		}
		defer p.running.Add(-1) // runs on panic and Goexit too
		if b := p.bound.Load(); n > b {
			p.t.Errorf("%d tasks running at once; the executor's bound was at most %d", n, b)
		}
		task()
	}
}

// nested submits a task that submits another from inside, where that
// cannot deadlock: with TrySubmit, or on a Nonblocking executor.
func (p *player) nested() {
	inner := p.record("nested", byTry, false)
	innerTask := inner.wrap(p.measured(func() {}))
	var try func(func()) error
	if ts, ok := p.ex.(executor.TrySubmitter); ok {
		try = ts.TrySubmit
	} else if p.cfg.Nonblocking {
		try = p.ex.Submit
	} else {
		inner.err = errNotSubmitted
		close(inner.done)
		return
	}
	p.submit("Submit(nesting)", func() {
		inner.err = try(innerTask)
		close(inner.done)
	}, false)
}

// errNotSubmitted marks a nested submission that never happened: the
// executor could not take it without risking a deadlock, or refused the
// task that was to make it.
var errNotSubmitted = errors.New("not submitted")

func (p *player) releaseOne() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) > 0 {
		close(p.held[0])
		p.held = p.held[1:]
	}
}

func (p *player) releaseAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.held {
		close(h)
	}
	p.held = nil
}

// shutdown calls Shutdown, bounded by the timeout.
func (p *player) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.Timeout)
	defer cancel()
	return p.ex.Shutdown(ctx)
}

// allowed reports whether c's error is one its method may return.
func (p *player) allowed(c *fuzzCall) bool {
	switch {
	case errors.Is(c.err, executor.ErrClosed):
		return p.closed.Load()
	case errors.Is(c.err, executor.ErrOverloaded):
		return c.kind == byTry || p.cfg.Nonblocking
	case errors.Is(c.err, context.Canceled), errors.Is(c.err, context.DeadlineExceeded):
		return c.kind == byContext
	}
	return false
}

// checkGauges checks a Stats snapshot against the bounds every snapshot
// must keep, under load too.
func (p *player) checkGauges() {
	r, ok := p.ex.(executor.StatsReporter)
	if !ok {
		return
	}
	s := r.Stats()
	// Accepted tasks not yet taken by an idle worker count as queued, so
	// Queued alone may pass QueueSize for a moment; with Running it may not
	// pass the room there is.
	bound := int(p.bound.Load())
	if s.Running < 0 || s.Running > bound || s.Queued < 0 || s.Running+s.Queued > bound+p.cfg.QueueSize || s.Completed > s.Submitted || s.Panicked > s.Completed {
		p.t.Errorf("Stats() under load: got %+v; want 0 <= Running <= %d (the largest bound), 0 <= Queued, Running+Queued <= %d+QueueSize %d, Panicked <= Completed <= Submitted",
			s, bound, bound, p.cfg.QueueSize)
	}
}

// finish checks the accounts once Shutdown has returned nil.
func (p *player) finish(ignore goleak.Option) {
	t := p.t
	var accepted, refused, panicked uint64
	for _, c := range p.calls {
		if c.what == "nested" {
			// Its outer task has run (Shutdown returned nil), or never
			// will: then nothing submitted it.
			select {
			case <-c.done:
			default:
				c.err = errNotSubmitted
				close(c.done)
			}
		}
		select {
		case <-c.done:
		case <-time.After(p.opts.Timeout):
			t.Fatalf("%s did not return within %v of Shutdown returning nil", c.what, p.opts.Timeout)
		}
		ran := c.ran.Load()
		switch {
		case c.err == nil:
			accepted++
			if c.panics {
				panicked++
			}
			if ran != 1 {
				t.Errorf("%s accepted: task ran %d times when Shutdown returned nil; want exactly once", c.what, ran)
			}
		default:
			if c.err == errNotSubmitted {
				continue
			}
			refused++
			if ran != 0 {
				t.Errorf("%s refused (%v): task ran %d times; want never", c.what, c.err, ran)
			}
			if !p.allowed(c) {
				t.Errorf("%s (%s): got %v; want nil, or ErrClosed after Shutdown began, ErrOverloaded from TrySubmit or a Nonblocking executor, the ctx's error from SubmitContext",
					c.what, cfgName(p.cfg), c.err)
			}
		}
	}
	if got := p.handled.Load(); uint64(got) != panicked {
		t.Errorf("PanicHandler calls: got %d, want %d (one per accepted panicking task)", got, panicked)
	}
	if r, ok := p.ex.(executor.StatsReporter); ok {
		s := r.Stats()
		want := executor.Stats{Workers: s.Workers, Submitted: accepted, Completed: accepted, Rejected: refused, Panicked: panicked}
		if s != want {
			t.Errorf("Stats() after Shutdown returned nil (%s): got %+v, want %+v", cfgName(p.cfg), s, want)
		}
	}
	if err := goleak.Find(append([]goleak.Option{ignore}, p.opts.LeakOptions...)...); err != nil {
		t.Errorf("goroutines still running after Shutdown returned nil:\n%v", err)
	}
}
