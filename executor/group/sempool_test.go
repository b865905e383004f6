package group_test

import (
	"context"
	"sync"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

// semPool is a small reference executor with TrySubmit, so that the tests
// cover the group's TrySubmit paths on every run: a goroutine per accepted
// task, at most Workers+QueueSize accepted and not finished, at most Workers
// running.
type semPool struct {
	slots   chan struct{} // one per accepted, unfinished task
	run     chan struct{} // one per running task
	closing chan struct{} // closed when Shutdown begins
	once    sync.Once
	// mu orders Submit's wg.Add before Shutdown's wg.Wait: Submit adds
	// only under mu while closing is open, Shutdown closes it under mu.
	mu           sync.Mutex
	wg           sync.WaitGroup
	nonblocking  bool
	panicHandler func(any)
}

var (
	_ executor.Executor     = (*semPool)(nil)
	_ executor.TrySubmitter = (*semPool)(nil)
)

func newSemPool(cfg executor.Config) (*semPool, error) {
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, err
	}
	return &semPool{
		slots:        make(chan struct{}, cfg.Workers+cfg.QueueSize),
		run:          make(chan struct{}, cfg.Workers),
		closing:      make(chan struct{}),
		nonblocking:  cfg.Nonblocking,
		panicHandler: cfg.PanicHandler,
	}, nil
}

func (p *semPool) Submit(task func()) error {
	if p.nonblocking {
		return p.TrySubmit(task)
	}
	if task == nil {
		return executor.ErrNilTask
	}
	select {
	case p.slots <- struct{}{}:
		return p.start(task)
	case <-p.closing:
		return executor.ErrClosed
	}
}

func (p *semPool) TrySubmit(task func()) error {
	if task == nil {
		return executor.ErrNilTask
	}
	select {
	case <-p.closing:
		return executor.ErrClosed
	default:
	}
	select {
	case p.slots <- struct{}{}:
		return p.start(task)
	default:
		return executor.ErrOverloaded
	}
}

// start runs task on a new goroutine once it holds a slot.
func (p *semPool) start(task func()) error {
	p.mu.Lock()
	select {
	case <-p.closing:
		p.mu.Unlock()
		<-p.slots
		return executor.ErrClosed
	default:
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer func() {
			<-p.slots
			p.wg.Done()
		}()
		p.run <- struct{}{}
		defer func() { <-p.run }()
		backend.RunTask(task, p.panicHandler)
	}()
	return nil
}

func (p *semPool) Shutdown(ctx context.Context) error {
	p.once.Do(func() {
		p.mu.Lock()
		close(p.closing)
		p.mu.Unlock()
	})
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
