package adaptive

import (
	"context"
	"sync"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

// fakePool is a small resizable executor for the tests: a goroutine per
// task, at most bound running, no queue. It records every Resize and the
// most tasks it ever ran at once.
type fakePool struct {
	nonblocking bool

	mu         sync.Mutex
	bound      int
	running    int
	maxRunning int
	closed     bool
	resizes    []int
	resized    chan int      // if not nil, gets every bound Resize sets
	room       chan struct{} // closed, and replaced, when room may have appeared
	wg         sync.WaitGroup
	counters   backend.Counters
}

var (
	_ executor.Executor         = (*fakePool)(nil)
	_ executor.ContextSubmitter = (*fakePool)(nil)
	_ executor.TrySubmitter     = (*fakePool)(nil)
	_ executor.Resizer          = (*fakePool)(nil)
	_ executor.StatsReporter    = (*fakePool)(nil)
)

func newFakePool(bound int, nonblocking bool) *fakePool {
	return &fakePool{bound: bound, nonblocking: nonblocking, room: make(chan struct{})}
}

func (p *fakePool) Submit(task func()) error {
	return p.SubmitContext(context.Background(), task)
}

func (p *fakePool) TrySubmit(task func()) error { return p.submit(context.Background(), task, true) }

func (p *fakePool) SubmitContext(ctx context.Context, task func()) error {
	return p.submit(ctx, task, p.nonblocking)
}

func (p *fakePool) submit(ctx context.Context, task func(), try bool) error {
	if task == nil {
		return executor.ErrNilTask
	}
	if err := ctx.Err(); err != nil {
		p.counters.Rejected()
		return err
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			p.counters.Rejected()
			return executor.ErrClosed
		}
		if p.running < p.bound {
			p.running++
			if p.running > p.maxRunning {
				p.maxRunning = p.running
			}
			p.wg.Add(1)
			p.mu.Unlock()
			p.counters.Submitted()
			go p.run(task)
			return nil
		}
		if try {
			p.mu.Unlock()
			p.counters.Rejected()
			return executor.ErrOverloaded
		}
		room := p.room
		p.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			p.counters.Rejected()
			return ctx.Err()
		}
	}
}

func (p *fakePool) run(task func()) {
	defer p.wg.Done()
	panicked := backend.RunTask(task, func(any) {})
	p.mu.Lock()
	p.running--
	p.signalLocked()
	p.mu.Unlock()
	p.counters.Completed(panicked)
}

// signalLocked wakes every waiting submitter; p.mu must be held.
func (p *fakePool) signalLocked() {
	close(p.room)
	p.room = make(chan struct{})
}

func (p *fakePool) Resize(workers int) error {
	if err := backend.CheckResize(workers, 0); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return executor.ErrClosed
	}
	p.bound = workers
	p.resizes = append(p.resizes, workers)
	if p.resized != nil {
		p.resized <- workers
	}
	p.signalLocked()
	return nil
}

func (p *fakePool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.signalLocked()
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

func (p *fakePool) Stats() executor.Stats {
	p.mu.Lock()
	s := executor.Stats{Workers: p.bound, Running: p.running}
	p.mu.Unlock()
	return p.counters.Fill(s)
}

// snapshot returns the recorded resizes and the most tasks ever run at once.
func (p *fakePool) snapshot() (resizes []int, maxRunning int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.resizes...), p.maxRunning
}

// plainExecutor is an Executor with no abilities at all.
type plainExecutor struct{ executor.Executor }
