package pondpool

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
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

	panicked  atomic.Uint64      // pond never sees a panic (RunTask recovers it), so it is counted here
	accepted  atomic.Uint64      // Submits that pond accepted; see Stats
	submitted executor.HighWater // keeps Stats' Submitted monotonic

	// Every task runs inside executor.RunTask, but a closure per Submit to
	// wrap it would cost an allocation. So pond is given funcs made in New,
	// and the task reaches the worker by one of two paths.
	//
	// The fast path is a slot: Submit takes a free slot, stores the task in
	// it and gives pond that slot's own func (slot.run). The task rides in
	// pond's own hand-off to its worker, so the worker reads it with no wait
	// and no shared queue; only the slot's cache line moves between cores.
	//
	// When no slot is free after a few probes (many Submits blocked in pond,
	// or a queue longer than the slots), Submit falls back to the channel:
	// pond is given run, and the task follows through tasks.
	//
	// head is written by every Submit; the padding keeps it off the cache
	// lines of the fields that Submit and the workers only read.
	_     [64]byte
	head  atomic.Uint64 // the next slot to probe; spreads Submits over the slots
	_     [56]byte
	slots []slot
	mask  uint64 // len(slots)-1; len(slots) is a power of two

	// tasks carries tasks from Submit to pond's workers when no slot was
	// free. Submit sends a task only after pond accepted run, and each run
	// receives exactly one task, so every task sent runs exactly once. Tasks
	// in the channel never outnumber pond's accepted runs that have not yet
	// received, and those are at most Workers+QueueSize (pond's bound on
	// tasks running and queued), the channel's capacity, so the send never
	// blocks; a run may wait a moment for the send from the Submit that pond
	// just accepted.
	tasks chan func()
	run   func() // p.runOne, made once

	stopOnce sync.Once
	stopped  <-chan struct{} // pond's Stop().Done(); set once, by stopOnce
}

// slot carries one task from Submit to the pond worker that runs it.
//
// A slot is owned from the CompareAndSwap of busy from 0 to 1 in Submit
// until runSlot (or Submit, if pond refused the task) stores 0. Only the
// owner touches task, and pond runs a slot's run only for a Go call made by
// the owner, once, so each accepted task runs exactly once. The owner's write
// of task happens before pond's worker reads it (pond hands each task over
// under its mutex, or to a new goroutine); runSlot's reads happen before its
// store of busy, which happens before the next owner's CompareAndSwap.
type slot struct {
	busy atomic.Uint32
	task func()
	run  func() // s.runSlot, made once in New: handing it to pond allocates nothing
	pool *Pool
}

// runSlot is what pond runs for a task that came through a slot: it frees
// the slot first, so a long task does not hold it, and runs the task inside
// executor.RunTask, which hands a panic to PanicHandler.
func (s *slot) runSlot() {
	task := s.task
	s.task = nil // do not keep the task reachable after it ran
	s.busy.Store(0)
	s.pool.runTask(task)
}

// Slots sizing: twice Workers+QueueSize (tasks waiting for a worker hold
// their slot, so the rest stays free for Submits in progress), at least
// minSlots, at most maxSlots (so New's memory stays small whatever QueueSize
// is; Submits beyond it take the channel). probes is how many slots Submit
// tries before it takes the channel.
const (
	minSlots = 64
	maxSlots = 1 << 16
	probes   = 4
)

// maxOutstanding bounds Workers+QueueSize, the capacity of the channel that
// carries tasks to pond when no slot is free (one pointer per slot,
// allocated in New).
const maxOutstanding = 1 << 30

// New builds a Pool. It returns an error wrapping executor.ErrInvalidConfig
// if cfg has a negative Workers or QueueSize, or if Workers+QueueSize exceeds
// 1<<30. New allocates one pointer per Workers+QueueSize, and up to 1<<16
// slots of about 48 bytes each; pond starts no goroutine until a task arrives.
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
	n := min(cfg.Workers+cfg.QueueSize, maxSlots/2) * 2 // halved first: twice 1<<30 overflows a 32-bit int
	n = max(n, minSlots)
	n = 1 << bits.Len(uint(n-1)) // a power of two, so a probe is a mask
	p.slots = make([]slot, n)
	p.mask = uint64(n - 1)
	for i := range p.slots {
		s := &p.slots[i]
		s.pool = p
		s.run = s.runSlot
	}
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
	start := p.head.Add(1) - 1
	for i := uint64(0); i < probes; i++ {
		s := &p.slots[(start+i)&p.mask]
		// The Load skips a busy slot without taking its cache line for a
		// write; the CompareAndSwap makes this Submit its only owner.
		if s.busy.Load() != 0 || !s.busy.CompareAndSwap(0, 1) {
			continue
		}
		s.task = task
		if err := p.pond.Go(s.run); err != nil {
			// pond will never run s.run for this call, so the slot and
			// the task are still this Submit's alone.
			s.task = nil
			s.busy.Store(0)
			return mapErr(err)
		}
		p.accepted.Add(1)
		return nil
	}
	if err := p.pond.Go(p.run); err != nil {
		return mapErr(err)
	}
	p.tasks <- task
	p.accepted.Add(1)
	return nil
}

// runOne is what pond runs for a task that came through the channel: it
// takes one task and runs it.
func (p *Pool) runOne() {
	p.runTask(<-p.tasks)
}

// runTask runs task inside executor.RunTask, which hands a panic to
// PanicHandler, and counts the panic.
func (p *Pool) runTask(task func()) {
	if executor.RunTask(task, p.onPanic) {
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
// also after Stop). Submitted and Panicked are counted here: pond's
// SubmittedTasks counts a task before it may drop it, and pond never sees a
// panic. Once the Pool is idle or shut down,
// Submitted == Completed and Running == Queued == 0.
func (p *Pool) Stats() executor.Stats {
	// pond counts a task as submitted before it knows whether it drops it,
	// so its own count can go down again; accepted is counted here, after
	// pond took the task. A task can finish before its Submit counts it, so
	// Submitted is at least Completed, and submitted keeps it monotonic.
	accepted := p.accepted.Load()
	completed := p.pond.CompletedTasks()
	return executor.Stats{
		Workers:   p.workers,
		Running:   int(p.pond.RunningWorkers()),
		Queued:    int(p.pond.WaitingTasks()),
		Submitted: p.submitted.Raise(max(accepted, completed)),
		Completed: completed,
		Rejected:  p.pond.DroppedTasks(),
		Panicked:  p.panicked.Load(),
	}
}
