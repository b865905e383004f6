package executorhttp_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// manual is an Executor whose tasks the test runs by hand: Submit queues the
// task (or returns err) and the test receives it from tasks.
type manual struct {
	tasks chan func()
	err   error
}

func newManual() *manual { return &manual{tasks: make(chan func(), 16)} }

func (m *manual) Submit(task func()) error {
	if m.err != nil {
		return m.err
	}
	m.tasks <- task
	return nil
}

func (m *manual) Shutdown(context.Context) error { return nil }

// inline is an Executor that calls before, then runs the task inside Submit.
type inline struct{ before func() }

func (e inline) Submit(task func()) error {
	e.before()
	task()
	return nil
}

func (inline) Shutdown(context.Context) error { return nil }

// pool is a small blocking Executor with a fixed set of workers and a
// queue, enough to run real requests under -race without importing a
// backend. submitted, if not nil, receives once per accepted task.
type pool struct {
	tasks     chan func()
	submitted chan struct{}
	wg        sync.WaitGroup

	// mu guards closed and the closing of tasks: Submit sends under the read
	// lock, so Shutdown's write lock cannot close tasks under a send.
	mu     sync.RWMutex
	closed bool
}

func newPool(workers, queue int) *pool {
	p := &pool{tasks: make(chan func(), queue)}
	p.wg.Add(workers)
	for i := 0; i < workers; i++ {
		go func() {
			defer p.wg.Done()
			for task := range p.tasks {
				task()
			}
		}()
	}
	return p
}

func (p *pool) Submit(task func()) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return executor.ErrClosed
	}
	p.tasks <- task
	if p.submitted != nil {
		p.submitted <- struct{}{}
	}
	return nil
}

// Shutdown must only be called once no Submit can be blocked on a full
// queue; the tests here ensure that by draining their clients first.
func (p *pool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.tasks)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gate is a blocking Executor with a native SubmitContext: at most slots
// tasks are accepted and unfinished at once, each running on a goroutine
// of its own. waiters counts the calls waiting for room; entered receives
// once per call that starts waiting.
type gate struct {
	slots   chan struct{}
	waiters atomic.Int32
	entered chan struct{}
	wg      sync.WaitGroup
}

var _ executor.ContextSubmitter = (*gate)(nil)

func newGate(slots int) *gate {
	return &gate{slots: make(chan struct{}, slots), entered: make(chan struct{}, 64)}
}

func (g *gate) Submit(task func()) error { return g.SubmitContext(context.Background(), task) }

func (g *gate) SubmitContext(ctx context.Context, task func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case g.slots <- struct{}{}:
	default:
		g.waiters.Add(1)
		defer g.waiters.Add(-1)
		g.entered <- struct{}{}
		select {
		case g.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() { <-g.slots }()
		task()
	}()
	return nil
}

func (g *gate) Shutdown(context.Context) error { g.wg.Wait(); return nil }

// sampler is an Executor with SubmitSampled, as adaptive.Executor has: it
// queues each task for the test to run by hand. Submit must not be used
// when SubmitSampled exists.
type sampler struct {
	t     *testing.T
	tasks chan func() executor.Outcome
}

func newSampler(t *testing.T) *sampler {
	return &sampler{t: t, tasks: make(chan func() executor.Outcome, 16)}
}

func (s *sampler) Submit(func()) error {
	s.t.Error("Submit called on an executor with SubmitSampled")
	return executor.ErrClosed
}

func (s *sampler) SubmitSampled(ctx context.Context, task func() executor.Outcome) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.tasks <- task
	return nil
}

func (s *sampler) Shutdown(context.Context) error { return nil }

// run runs the next queued task and returns what it reported.
func (s *sampler) run(t *testing.T) executor.Outcome {
	t.Helper()
	select {
	case task := <-s.tasks:
		return task()
	case <-time.After(wait):
		t.Fatalf("no task submitted within %v", wait)
		return executor.Ignored
	}
}

// lateSampler is an Executor with SubmitSampled that runs each task inline
// once the request's budget has passed: the task starts after its deadline
// and before ServeHTTP could see the timer, so only the check at dequeue
// can drop it.
type lateSampler struct {
	after   time.Duration
	results chan executor.Outcome
}

func (l *lateSampler) Submit(func()) error { return executor.ErrClosed }

func (l *lateSampler) SubmitSampled(ctx context.Context, task func() executor.Outcome) error {
	// Time itself is what is waited for here: nothing can signal it.
	<-time.After(l.after)
	l.results <- task()
	return nil
}

func (l *lateSampler) Shutdown(context.Context) error { return nil }
