package pondpool

import (
	"context"
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/alitto/pond/v2"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

var (
	_ executor.Executor         = (*Pool)(nil)
	_ executor.StatsReporter    = (*Pool)(nil)
	_ executor.ContextSubmitter = (*Pool)(nil)
	_ executor.TrySubmitter     = (*Pool)(nil)
	_ executor.Resizer          = (*Pool)(nil)
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
	// The words of state.go. in and outSeen are written by Submits, out by
	// finishing tasks; the padding keeps each group on cache lines of its
	// own, apart from flags and the other fields that both only read. A
	// Pool need not start on a 64-byte boundary, so groups are 128 bytes
	// apart: then no two share a line, wherever the Pool starts.
	_       [64]byte
	in      atomic.Uint64 // tasks admitted (modulo 1<<40), capacity, closed
	outSeen atomic.Uint64 // a value out had lately
	_       [112]byte
	out     atomic.Uint64 // tasks finished: Stats' Completed
	_       [120]byte
	flags   atomic.Uint32 // waitingFlag, closingFlag; written under mu

	// Read by every Submit and every task, written only by New and Resize.
	pond      pond.Pool
	queueSize int
	nonblock  bool
	onPanic   func(any) // counts the panic, then calls Config.PanicHandler
	slots     atomic.Pointer[slotTable]

	// What the slow paths write (mu, the counters of refusals and panics)
	// starts 128 bytes after flags, off the lines read above.
	_ [72]byte

	panicked atomic.Uint64 // pond never sees a panic (recoverTask recovers it), so it is counted here
	rejected atomic.Uint64 // every refused Submit, SubmitContext and TrySubmit but ErrNilTask

	// mu guards the waiter list, flags, every change of the capacity in in
	// and of pond's bound (pond.Resize), and closing. It is never held
	// while a task runs nor while waiting; it is taken before pond's own
	// mutex (in pond.Resize), never after, so the two cannot deadlock.
	mu   sync.Mutex
	head *waiter // the longest waiting Submit; FIFO, as x/sync/semaphore
	tail *waiter

	waiters sync.Pool // of *waiter, so that a Submit that waits allocates nothing

	finishOnce sync.Once
	drained    chan struct{}   // closed by finish: Shutdown began and every admitted task finished
	stopped    <-chan struct{} // pond's Stop().Done(), set by finish before it closes drained
	closeOnce  sync.Once
}

// slotTable is the set of slots Submit stores tasks in; Resize may replace
// it with a larger one (see growSlots).
type slotTable struct {
	slots []slot
	runs  []func() // runs[i] is what pond runs for a task in slots[i]; made once, never written again
	mask  uint64   // len(slots)-1; len(slots) is a power of two
}

// slot carries one task from Submit to the pond worker that runs it, so
// that pond is given a func made once (the slot's run) instead of a closure
// per Submit.
//
// A slot is owned from the CompareAndSwap of busy from 0 to 1 in Submit
// until run stores 0. Only the owner touches task, and pond runs a slot's
// run only for a Go call made by the owner, once, so each accepted task runs
// exactly once. The owner's write of task happens before pond's worker reads
// it (pond hands each task over under its mutex, or to a new goroutine);
// run's reads happen before its store of busy, which happens before the
// next owner's CompareAndSwap.
//
// A slot is 16 bytes, four to a cache line, as pond packs the tasks in its
// own queue: a slot's line moves from the core of the Submit that fills it
// to the core of the worker that empties it and back, and with 16
// submitters those two misses (the CompareAndSwap of busy, the worker's
// first read) were the largest part of the Pool's own cost in a profile
// while each slot had a line of its own. Packed, a worker that empties a
// slot filled a while ago (the queue is deep when submitters outrun the
// workers) finds the next three on the line it already has.
type slot struct {
	busy atomic.Uint32
	task func()
}

// Slots sizing: twice Workers+QueueSize (a slot is held from Submit until
// the task starts, and at most Workers+QueueSize tasks are admitted, so at
// least half the slots are free), at least minSlots, at most maxSlots (so
// the memory stays small whatever the capacity; beyond it some Submits
// allocate a closure instead). probes is how many slots Submit tries before
// it allocates.
const (
	minSlots = 64
	maxSlots = 1 << 15
	probes   = 4
)

func newSlotTable(p *Pool, capacity int) *slotTable {
	n := min(capacity, maxSlots/2) * 2
	n = max(n, minSlots)
	n = 1 << bits.Len(uint(n-1)) // a power of two, so a probe is a mask
	t := &slotTable{slots: make([]slot, n), runs: make([]func(), n), mask: uint64(n - 1)}
	for i := range t.slots {
		s := &t.slots[i]
		// What pond runs for a task that came through s: it frees the
		// slot first, so a long task does not hold it, then runs the task
		// as runTask does, written out here so that a task costs one call
		// less.
		t.runs[i] = func() {
			task := s.task
			s.task = nil // do not keep the task reachable after it ran
			s.busy.Store(0)
			defer p.release()
			if !p.call(task) {
				p.panickedNil()
			}
		}
	}
	return t
}

// growSlots replaces the slot table with a larger one when capacity has
// outgrown it (Resize up). Tasks in the old table's slots still run from
// there: each slot's run points at its own slot, so the old table lives
// until the last of them has started. Called with mu held.
func (p *Pool) growSlots(capacity int) {
	old := p.slots.Load()
	if len(old.slots) >= maxSlots || uint64(len(old.slots)) >= 2*uint64(capacity) {
		return
	}
	p.slots.Store(newSlotTable(p, capacity))
}

// New builds a Pool. It returns an error wrapping executor.ErrInvalidConfig
// if cfg has a negative Workers or QueueSize, or a Workers+QueueSize above
// executor.MaxCapacity. New allocates twice Workers+QueueSize slots of
// about 56 bytes each with their funcs (at least 64 slots, at most 1<<15:
// under 2 MiB), whatever QueueSize is; pond allocates its queue as tasks
// arrive and starts no goroutine until then.
func New(cfg executor.Config) (*Pool, error) {
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, fmt.Errorf("pondpool: %w", err)
	}
	p := &Pool{
		queueSize: cfg.QueueSize,
		nonblock:  cfg.Nonblocking,
		drained:   make(chan struct{}),
	}
	handler := cfg.PanicHandler
	p.onPanic = func(v any) {
		// Counted before the handler runs: a handler that calls
		// runtime.Goexit (t.FailNow does) never returns here.
		p.panicked.Add(1)
		handler(v)
	}
	p.waiters.New = func() any { return &waiter{ready: make(chan struct{}, 1)} }
	p.in.Store(uint64(cfg.Workers+cfg.QueueSize) << capShift)
	p.slots.Store(newSlotTable(p, cfg.Workers+cfg.QueueSize))
	// pond never refuses a task the Pool admitted: its queue is bounded by
	// MaxCapacity, which the admitted tasks never reach, and it is stopped
	// only once they have all finished. So pond never blocks either; the
	// Pool does the waiting (see state.go).
	p.pond = pond.NewPool(cfg.Workers,
		pond.WithQueueSize(executor.MaxCapacity),
		pond.WithNonBlocking(true),
		pond.WithoutPanicRecovery(), // recoverTask recovers every panic first
	)
	return p, nil
}

// Submit hands task to pond. It returns nil once the task is accepted; the
// task then runs exactly once, even if Shutdown follows at once. With
// Workers+QueueSize tasks accepted and not finished (Workers running,
// QueueSize waiting), Submit waits for room, behind any caller already
// waiting (first come, first served), or, if the Pool is Nonblocking,
// returns an error matching executor.ErrOverloaded. After Shutdown has
// begun it returns an error matching executor.ErrClosed, also to a caller
// that was waiting. Submit(nil) returns an error matching
// executor.ErrNilTask. Every error but ErrNilTask counts in Stats.Rejected.
func (p *Pool) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	if p.flags.Load() == 0 && p.submitFast(task) {
		return nil
	}
	ticket, err := p.admitSlow(context.Background(), nil, p.nonblock)
	if err != nil {
		return err
	}
	p.handOff(ticket, task)
	return nil
}

// SubmitContext is Submit, except that a wait for room ends when ctx is
// done: it then returns ctx.Err() and the task never runs, and the caller
// holds no room (the next waiter gets it). If ctx is done on entry it
// returns ctx.Err() at once, before checking for Shutdown, and the task
// never runs; a nil task is ErrNilTask before either. If room comes just
// as ctx ends, the task is accepted and SubmitContext returns nil. With a
// ctx whose Done is nil (context.Background) it is Submit. A wait costs no
// goroutine and no timer, and every refusal but ErrNilTask counts in
// Stats.Rejected.
func (p *Pool) SubmitContext(ctx context.Context, task func()) error {
	if task == nil {
		return errNilTask
	}
	if err := ctx.Err(); err != nil {
		p.rejected.Add(1)
		return err
	}
	if p.flags.Load() == 0 && p.submitFast(task) {
		return nil
	}
	ticket, err := p.admitSlow(ctx, ctx.Done(), p.nonblock)
	if err != nil {
		return err
	}
	p.handOff(ticket, task)
	return nil
}

// TrySubmit is Submit that never waits, on a blocking Pool too: it returns
// an error matching executor.ErrOverloaded when Workers+QueueSize tasks are
// admitted and not finished (Workers running, QueueSize waiting), and only
// then; it may take room that a waiting Submit would take next. It returns
// an error matching ErrClosed once Shutdown has begun, and ErrNilTask for
// a nil task. Unlike pond's TrySubmit it allocates no future.
func (p *Pool) TrySubmit(task func()) error {
	if task == nil {
		return errNilTask
	}
	if p.submitFast(task) {
		return nil
	}
	ticket, err := p.admitSlow(context.Background(), nil, true)
	if err != nil {
		return err
	}
	p.handOff(ticket, task)
	return nil
}

// submitFast admits task and hands it to pond if there is room and
// Shutdown has not begun, and reports whether it did; it never waits. It is
// tryAdmit and handOff, with their first tries (which nearly always succeed
// when there is room) written out here, so that the path of every task
// costs one call.
func (p *Pool) submitFast(task func()) bool {
	// out's value is read before in, as in tryAdmit.
	seen := p.outSeen.Load()
	s := p.in.Load()
	if s&closedBit != 0 || taken(s, seen) >= capacity(s) ||
		!p.in.CompareAndSwap(s, s&^countMask|(s+1)&countMask) {
		ticket, res := p.tryAdmit()
		if res != admitted {
			return false
		}
		p.handOff(ticket, task)
		return true
	}
	ticket := s & countMask
	t := p.slots.Load()
	sl := &t.slots[ticket&t.mask]
	if !sl.busy.CompareAndSwap(0, 1) {
		p.handOff(ticket+1, task)
		return true
	}
	sl.task = task
	if err := p.pond.Go(t.runs[ticket&t.mask]); err != nil {
		refused(err)
	}
	return true
}

// handOff gives an admitted task to pond: through a free slot, from the
// one its ticket names on, or, when the probes find none free, in a
// closure.
func (p *Pool) handOff(ticket uint64, task func()) {
	t := p.slots.Load()
	for i := uint64(0); i < probes; i++ {
		j := (ticket + i) & t.mask
		s := &t.slots[j]
		// The slot a ticket names is nearly always free (twice as many
		// slots as tasks that can hold one), so Submit takes it with one
		// CompareAndSwap, which makes it the slot's only owner, rather than
		// reading the line first and then taking it for a write.
		if !s.busy.CompareAndSwap(0, 1) {
			continue
		}
		s.task = task
		if err := p.pond.Go(t.runs[j]); err != nil {
			refused(err)
		}
		return
	}
	if err := p.pond.Go(func() { p.runTask(task) }); err != nil {
		refused(err)
	}
}

// refused is called if pond refuses an admitted task, which cannot happen:
// pond's queue holds more than the Pool ever admits, and pond is stopped
// only once every admitted task has finished. Going on would lose a task
// that Submit is about to report accepted, so it panics, as package sync
// does when its invariants break.
func refused(err error) {
	panic("pondpool: pond refused an admitted task: " + err.Error())
}

// runTask runs task, hands a panic to PanicHandler (through onPanic, which
// counts it), and then frees the room the task held, also if the task or
// the handler called runtime.Goexit. It is backend.RunTask, with one
// frame and one closure less on every task.
func (p *Pool) runTask(task func()) {
	defer p.release()
	if !p.call(task) {
		p.panickedNil()
	}
}

// call calls task. It returns true if task returned, or panicked with a
// value, which recoverTask has handed to onPanic; false if task called
// panic(nil) under GODEBUG=panicnil=1, which recovers as nil. If task calls
// runtime.Goexit, call does not return: a deferred release must come from
// a frame above, which is why recovering and releasing are two frames.
func (p *Pool) call(task func()) (ok bool) {
	defer p.recoverTask(&ok)
	task()
	return true
}

// recoverTask is call's deferred function (recover works only there): ok
// is call's result, true once task has returned.
func (p *Pool) recoverTask(ok *bool) {
	if *ok {
		return
	}
	// nil means runtime.Goexit, which must go on unwinding (recover does
	// not stop it), or panic(nil) under panicnil=1, which recover stopped:
	// then call returns false.
	if v := recover(); v != nil {
		*ok = true
		backend.HandlePanic(v, p.onPanic)
	}
}

// panickedNil hands a panic(nil) recovered as nil to onPanic as the
// *runtime.PanicNilError it is without panicnil=1, as backend.RunTask does.
func (p *Pool) panickedNil() {
	backend.HandlePanic(new(runtime.PanicNilError), p.onPanic)
}

// Shutdown stops intake: every later Submit, SubmitContext, TrySubmit and
// Resize, and every Submit waiting for room, returns an error matching
// executor.ErrClosed. It then waits for every accepted task, running or
// queued, to finish and for pond's workers to end, and returns nil. If ctx
// ends first, Shutdown returns ctx.Err(); the accepted tasks still run, and
// a later Shutdown waits for them and returns nil. Shutdown may be called
// any number of times, from many goroutines at once.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.closeOnce.Do(p.close)
	select {
	case <-p.drained:
		select {
		case <-p.stopped:
			return nil
		default:
		}
	default:
	}
	select {
	case <-p.drained:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-p.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish stops pond once Shutdown began and every admitted task finished;
// it runs once (finishOnce, from close or from the last finishing task).
// pond's Stop waits for its workers to end on a goroutine of pond's default
// pool.
func (p *Pool) finish() {
	p.stopped = p.pond.Stop().Done()
	close(p.drained)
}

// Stats returns a snapshot. Workers is the current bound (Resize changes
// it). Submitted and Completed count tasks admitted and finished here (a
// task counts as submitted before Submit returns, and as completed as soon
// as it returns, before pond's own bookkeeping); Rejected and Panicked are
// counted here too. Running is pond's RunningWorkers, at most the tasks
// admitted and not finished; Queued is the rest of those, at most
// QueueSize. The gauges are read while tasks come and go and are never
// negative; after a Resize down, Running may exceed Workers until enough
// tasks finish. Once the Pool is idle or shut down, Submitted == Completed
// and Running == Queued == 0.
func (p *Pool) Stats() executor.Stats {
	// out is read before in, so that it is never ahead of in's count: out
	// plus taken is in's whole count, the tasks admitted (monotonic, and
	// counted before each Submit returns), Submitted >= Completed, and
	// taken is exact for some moment between the reads.
	// A panic is counted (in onPanic) before its task's release counts it
	// completed, so panicked can run ahead of out for a moment: min keeps
	// Panicked <= Completed, monotonic, and exact once the Pool is idle.
	panicked := p.panicked.Load()
	out := p.out.Load()
	in := p.in.Load()
	n := taken(in, out)
	workers := capacity(in) - p.queueSize
	running, queued := gauges(n, int(p.pond.RunningWorkers()), workers, p.queueSize)
	return executor.Stats{
		Workers:   workers,
		Running:   running,
		Queued:    queued,
		Submitted: out + uint64(n),
		Completed: out,
		Rejected:  p.rejected.Load(),
		Panicked:  min(panicked, out),
	}
}

// gauges derives Running and Queued from the tasks admitted and not
// finished (taken) and pond's count of workers, which it reads at another
// moment and which includes workers between two tasks. pond's own
// WaitingTasks reads two counters without a lock and can go below zero
// (issue 13), so it is not used. The results are never negative, Running
// is at most taken and at most bound (pond's worker count can pass its
// bound for a while after a Resize down and up again, as old workers finish
// while new ones start: the soak saw 11 of 8; just after a shrink this
// under-reports the tasks still running from before it), and Queued at
// most queueSize.
func gauges(taken, workers, bound, queueSize int) (running, queued int) {
	running = max(0, min(workers, taken, bound))
	queued = max(0, min(taken-running, queueSize))
	return running, queued
}
