package pondpool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/alitto/pond/v2"

	"github.com/swapexec/swapexec/executor"
)

var (
	_ executor.Executor      = (*Pool)(nil)
	_ executor.StatsReporter = (*Pool)(nil)
)

// Made once, so that rejecting a task allocates nothing.
var (
	errClosed     = fmt.Errorf("pondpool: %w", executor.ErrClosed)
	errOverloaded = fmt.Errorf("pondpool: %w", executor.ErrOverloaded)
	errNilTask    = fmt.Errorf("pondpool: %w", executor.ErrNilTask)
)

// Pool runs tasks on a pond pool. Create it with New; the zero Pool is not
// usable. All methods are safe for concurrent use.
type Pool struct {
	pond    pond.Pool
	cancel  context.CancelFunc // ends the pond pool's context: stops intake, wakes blocked callers
	onPanic func(any)
	workers int

	panicked atomic.Uint64 // pond never sees a panic (RunTask recovers it), so it is counted here

	// tasks carries accepted tasks from Submit to pond's workers. pond is
	// handed one func, run, for every task: storing a closure per task would
	// cost an allocation per Submit. Submit sends the task only after pond
	// accepted run, and each run receives exactly one task, so every
	// accepted task runs exactly once. Tasks in the channel never outnumber
	// pond's accepted runs that have not yet received, at most
	// Workers+QueueSize, its capacity, so the send never blocks; a run may wait a moment for
	// the send from the Submit that pond just accepted.
	tasks chan func()
	run   func() // p.runOne, made once

	stopOnce sync.Once
	stopped  <-chan struct{} // pond's Stop().Done(); set once, by stopOnce
}

// maxOutstanding bounds Workers+QueueSize, the capacity of the channel that
// carries tasks to pond (one pointer per slot, allocated in New).
const maxOutstanding = 1 << 30

// New builds a Pool. It returns an error wrapping executor.ErrInvalidConfig
// if cfg has a negative Workers or QueueSize, or if Workers+QueueSize exceeds
// 1<<30. New allocates one pointer per Workers+QueueSize slot; pond starts
// no goroutine until a task arrives.
func New(cfg executor.Config) (*Pool, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, fmt.Errorf("pondpool: %w", err)
	}
	if cfg.Workers > maxOutstanding || cfg.QueueSize > maxOutstanding-cfg.Workers {
		return nil, fmt.Errorf("pondpool: %w: Workers+QueueSize is %d+%d; want at most %d",
			executor.ErrInvalidConfig, cfg.Workers, cfg.QueueSize, maxOutstanding)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{
		cancel:  cancel,
		onPanic: cfg.PanicHandler,
		workers: cfg.Workers,
	}
	p.tasks = make(chan func(), cfg.Workers+cfg.QueueSize)
	p.run = p.runOne
	p.pond = pond.NewPool(cfg.Workers,
		pond.WithContext(ctx),
		pond.WithQueueSize(cfg.QueueSize), // 0: no queue; pond's default would be unbounded
		pond.WithNonBlocking(cfg.Nonblocking),
		pond.WithoutPanicRecovery(), // RunTask recovers every panic first
	)
	return p, nil
}

// Submit hands task to pond. It returns nil once the task is accepted; the
// task then runs exactly once, even if Shutdown follows at once. With no
// worker free and the queue full, Submit waits, or, if the Pool is
// Nonblocking, returns an error matching executor.ErrOverloaded. After
// Shutdown has begun it returns an error matching executor.ErrClosed, also
// to a caller that was waiting. Submit(nil) returns an error matching
// executor.ErrNilTask.
func (p *Pool) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	if err := p.pond.Go(p.run); err != nil {
		return mapErr(err)
	}
	p.tasks <- task
	return nil
}

// runOne is what pond runs for each accepted task: it takes one task and
// runs it inside executor.RunTask, which hands a panic to PanicHandler.
func (p *Pool) runOne() {
	if executor.RunTask(<-p.tasks, p.onPanic) {
		p.panicked.Add(1)
	}
}

// mapErr turns an error from pond's Go into the contract's.
func mapErr(err error) error {
	switch {
	case errors.Is(err, pond.ErrQueueFull):
		return errOverloaded
	case errors.Is(err, pond.ErrPoolStopped),
		// A caller waiting for room gets the pool context's error when it
		// ends, which happens only in Shutdown.
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errClosed
	default:
		return fmt.Errorf("pondpool: %w", err)
	}
}

// Shutdown stops intake: every later Submit, and every Submit waiting for
// room, returns an error matching executor.ErrClosed. It then waits for every
// accepted task, running or queued, to finish and for pond's workers to end,
// and returns nil. If ctx ends first, Shutdown returns ctx.Err(); the
// accepted tasks still run, and a later Shutdown waits for them and returns
// nil. Shutdown may be called any number of times, from many goroutines at
// once.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.stopOnce.Do(func() {
		// Ending the context first wakes callers blocked in Go at once (they
		// would otherwise wait for a worker to free up). pond runs tasks
		// given to Go whatever its context, so none is lost; Stop then waits
		// for them all.
		p.cancel()
		p.stopped = p.pond.Stop().Done()
	})
	select {
	case <-p.stopped:
		return nil
	default:
	}
	select {
	case <-p.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns a snapshot from pond's own counters: Running is
// RunningWorkers (at most Workers), Queued is WaitingTasks, Completed is
// CompletedTasks, Rejected is DroppedTasks (pond counts every refused task,
// also after Stop), and Submitted is pond's SubmittedTasks less DroppedTasks,
// since pond counts refused tasks as submitted. Panicked is counted here,
// as pond never sees a panic. Once the Pool is idle or shut down,
// Submitted == Completed and Running == Queued == 0.
func (p *Pool) Stats() executor.Stats {
	// Completed before dropped before submitted: each is updated after the
	// one read after it, so Completed <= Submitted in every snapshot.
	completed := p.pond.CompletedTasks()
	dropped := p.pond.DroppedTasks()
	submitted := p.pond.SubmittedTasks()
	return executor.Stats{
		Workers:   p.workers,
		Running:   int(p.pond.RunningWorkers()),
		Queued:    int(p.pond.WaitingTasks()),
		Submitted: submitted - dropped,
		Completed: completed,
		Rejected:  dropped,
		Panicked:  p.panicked.Load(),
	}
}
