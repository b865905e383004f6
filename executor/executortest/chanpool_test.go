package executortest_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

// chanBug is a classic mistake of channel-based pools.
type chanBug int

const (
	// chanSelectDefault: a Nonblocking Submit is
	//	select { case tasks <- task: default: return ErrOverloaded }
	// on a channel with QueueSize buffer slots, so a fresh pool whose workers
	// have not reached their receive yet rejects tasks it has room for. So
	// that the suite meets the bug every time, not only when the scheduler
	// happens to run a Submit before the workers, the workers wait until the
	// first Submit has tried its send (or Shutdown begins): an order that a
	// busy machine produces anyway.
	chanSelectDefault chanBug = iota + 1
	// chanCloseTasks: Shutdown closes the task channel while Submit may
	// still send on it, so Submit after Shutdown panics ("send on closed
	// channel").
	chanCloseTasks
)

// chanPool is a channel-based executor built with one chanBug. It does not
// implement executor.StatsReporter, so the suite's Stats subtest logs and
// skips for it.
type chanPool struct {
	cfg   executor.Config
	bug   chanBug
	tasks chan func()   // QueueSize buffer slots; closed by Shutdown once no Submit sends
	quit  chan struct{} // closed when Shutdown begins
	once  sync.Once     // closes quit (and, after the senders left, tasks)
	done  chan struct{} // closed when every worker has exited

	start     chan struct{} // chanSelectDefault: the workers wait for it; see release
	startOnce sync.Once

	// mu is held for reading by every sender and for writing by Shutdown
	// around close(tasks), so no send can meet a closed channel (unless
	// bug is chanCloseTasks). Blocked senders also select on quit, which is
	// closed before Shutdown asks for the write lock, so they let go.
	mu     sync.RWMutex
	closed bool // guarded by mu
}

func newChanPool(cfg executor.Config, b chanBug) (executor.Executor, error) {
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, fmt.Errorf("chanpool: %w", err)
	}
	p := &chanPool{
		cfg:   cfg,
		bug:   b,
		tasks: make(chan func(), cfg.QueueSize),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		start: make(chan struct{}),
	}
	if b != chanSelectDefault {
		p.release()
	}
	var wg sync.WaitGroup
	wg.Add(cfg.Workers)
	for i := 0; i < cfg.Workers; i++ {
		go func() {
			defer wg.Done()
			<-p.start
			for task := range p.tasks {
				backend.RunTask(task, cfg.PanicHandler)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *chanPool) Submit(task func()) error {
	if task == nil {
		return fmt.Errorf("chanpool: %w", executor.ErrNilTask)
	}
	if p.bug != chanCloseTasks {
		p.mu.RLock()
		defer p.mu.RUnlock()
		if p.closed {
			return fmt.Errorf("chanpool: %w", executor.ErrClosed)
		}
	}
	if p.cfg.Nonblocking {
		defer p.release()
		select {
		case p.tasks <- task:
			return nil
		default:
			return fmt.Errorf("chanpool: %w", executor.ErrOverloaded)
		}
	}
	p.release()
	select {
	case p.tasks <- task:
		return nil
	case <-p.quit:
		return fmt.Errorf("chanpool: %w", executor.ErrClosed)
	}
}

// release lets the workers start.
func (p *chanPool) release() { p.startOnce.Do(func() { close(p.start) }) }

func (p *chanPool) Shutdown(ctx context.Context) error {
	p.release()
	p.once.Do(func() {
		close(p.quit)
		if p.bug != chanCloseTasks {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.closed = true
		}
		close(p.tasks)
	})
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
