package bench

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

// impl is one contender: a name for the impl= dimension and a constructor.
// Every contender is driven through executor.Executor, so the benchmark code
// has one path for backends and baselines alike.
type impl struct {
	name string
	new  func(executor.Config) (executor.Executor, error)
	// concurrent is false for direct, which runs tasks on the submitter and
	// so cannot take the sleeping shapes in reasonable time.
	concurrent bool
}

// impls returns every backend in the registry, in its order, then the
// baselines. A backend added to backends appears here with no change.
func impls() []impl {
	var all []impl
	for _, name := range backends.Names() {
		name := name
		all = append(all, impl{
			name:       name,
			new:        func(cfg executor.Config) (executor.Executor, error) { return backends.New(name, cfg) },
			concurrent: true,
		})
	}
	return append(all,
		impl{name: "direct", new: newDirect},
		impl{name: "gopertask", new: newGoPerTask, concurrent: true},
		impl{name: "errgroup", new: newErrgroup, concurrent: true},
		impl{name: "barechan", new: newBareChan, concurrent: true},
	)
}

// The baselines keep only the part of the executor contract the benchmarks
// rely on: every task whose Submit returned nil runs exactly once before
// Shutdown returns nil. They are not safe to Submit to after Shutdown.
var (
	_ executor.Executor = direct{}
	_ executor.Executor = (*goPerTask)(nil)
	_ executor.Executor = (*errgroupExec)(nil)
	_ executor.Executor = (*bareChan)(nil)
)

var errNilTask = errors.New("bench: nil task")

// direct runs each task on the submitting goroutine.
type direct struct{}

func newDirect(executor.Config) (executor.Executor, error) { return direct{}, nil }

func (direct) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	task()
	return nil
}

func (direct) Shutdown(context.Context) error { return nil }

// goPerTask starts a goroutine for every task, with no bound.
type goPerTask struct{ wg sync.WaitGroup }

func newGoPerTask(executor.Config) (executor.Executor, error) { return &goPerTask{}, nil }

func (g *goPerTask) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		task()
	}()
	return nil
}

func (g *goPerTask) Shutdown(ctx context.Context) error { return waitCtx(ctx, g.wg.Wait) }

// errgroupExec is errgroup.Group with SetLimit(Workers): a goroutine per
// task, and Go blocks while Workers are running. It has no queue.
type errgroupExec struct{ g errgroup.Group }

func newErrgroup(cfg executor.Config) (executor.Executor, error) {
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, err
	}
	e := &errgroupExec{}
	e.g.SetLimit(cfg.Workers)
	return e, nil
}

func (e *errgroupExec) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	e.g.Go(func() error {
		task()
		return nil
	})
	return nil
}

func (e *errgroupExec) Shutdown(ctx context.Context) error {
	return waitCtx(ctx, func() { _ = e.g.Wait() })
}

// bareChan is the textbook pool: Workers goroutines ranging over a channel
// buffered to QueueSize, with no panic recovery, counters or close guard.
type bareChan struct {
	tasks chan func()
	wg    sync.WaitGroup
	once  sync.Once
}

func newBareChan(cfg executor.Config) (executor.Executor, error) {
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, err
	}
	p := &bareChan{tasks: make(chan func(), cfg.QueueSize)}
	p.wg.Add(cfg.Workers)
	for i := 0; i < cfg.Workers; i++ {
		go func() {
			defer p.wg.Done()
			for task := range p.tasks {
				task()
			}
		}()
	}
	return p, nil
}

func (p *bareChan) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	p.tasks <- task
	return nil
}

func (p *bareChan) Shutdown(ctx context.Context) error {
	p.once.Do(func() { close(p.tasks) })
	return waitCtx(ctx, p.wg.Wait)
}

// waitCtx runs wait and returns nil when it returns, or ctx.Err() if ctx
// ends first (wait then finishes in the background).
func waitCtx(ctx context.Context, wait func()) error {
	if ctx.Done() == nil {
		wait()
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
