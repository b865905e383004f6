package executorhttp_test

import (
	"context"
	"sync"

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
