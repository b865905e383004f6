package chanpool

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/swapexec/swapexec/executor"
)

var (
	_ executor.Executor      = (*Pool)(nil)
	_ executor.StatsReporter = (*Pool)(nil)
)

// Made once, so that rejecting a task allocates nothing.
var (
	errClosed     = fmt.Errorf("chanpool: %w", executor.ErrClosed)
	errOverloaded = fmt.Errorf("chanpool: %w", executor.ErrOverloaded)
	errNilTask    = fmt.Errorf("chanpool: %w", executor.ErrNilTask)
)

// Pool is a fixed set of worker goroutines fed by one channel. Create it with
// New; the zero Pool is not usable. All methods are safe for concurrent use.
//
// Fields are grouped by who writes them, each group padded to its own
// cache lines: the read-mostly fields every Submit and every task reads, the
// counters every Submit writes, and the counters workers write. Without the
// padding each Submit's add to entered would evict the line holding tasks
// and onPanic from every worker's cache.
type Pool struct {
	// Read-mostly: set by New, or written once by Shutdown.
	tasks       chan func()
	workers     []worker
	onPanic     func(any)
	nonblocking bool
	capacity    int64         // Workers+QueueSize: the most outstanding tasks a Nonblocking pool admits
	closing     atomic.Bool   // set once, when Shutdown begins
	done        chan struct{} // closed when Shutdown begins: wakes blocked submitters
	stopped     chan struct{} // closed when the last worker has exited

	_ cacheLinePad

	// The task channel must be closed (the book's "drop the sender") only
	// when no Submit can still send on it. Rather than a lock around every
	// send, Submit counts itself in entered before it reads closing, and
	// counts itself in withdrawn if it then returns an error. Once closing
	// is set, a Submit that has not yet entered can only withdraw, so when
	// the tasks the workers have started equal entered-withdrawn, no Submit
	// is in flight and the channel is empty: see closeIfQuiescent.
	//
	// pending counts a Nonblocking pool's tasks accepted and not finished;
	// Submit admits a task only while it is below capacity, so the send into
	// the channel (buffer capacity) can never block. It sits beside entered
	// because a Nonblocking Submit writes both.
	entered atomic.Uint64
	pending atomic.Int64

	_ cacheLinePad

	// Written by workers (started, live), by Submits that fail (withdrawn),
	// by Shutdown and by Stats.
	started    atomic.Uint64 // the sum of the workers' published started counts; see publish
	withdrawn  atomic.Uint64
	live       atomic.Int32 // workers not yet exited; the last one closes stopped
	shutdown   sync.Once
	closeTasks sync.Once
	submitted  executor.HighWater // keeps Stats' derived Submitted monotonic
}

// cacheLinePad keeps the fields before it and after it on different cache
// lines; 128 bytes also covers CPUs that fetch lines in adjacent pairs.
type cacheLinePad [128]byte

// publishEvery is how many tasks a busy worker runs between publishing its
// counters; a worker also publishes whenever it starts or stops waiting.
const publishEvery = 32

// worker holds one worker goroutine's counters. Only that goroutine writes
// them, so they are never contended; the padding keeps two workers' counters
// off the same cache line.
//
// state packs what the worker has published into one word, 2*completed +
// busy. It is stored when the worker wakes with a task, every publishEvery
// tasks, and before it waits, never once per task: under load Completed may
// trail by up to publishEvery tasks per worker, and it is exact whenever the
// pool is idle. completed+busy never exceeds the tasks the worker has taken,
// which closeIfQuiescent relies on.
type worker struct {
	state    atomic.Uint64
	panicked atomic.Uint64
	_        [128 - 2*8]byte // see cacheLinePad
}

// New starts cfg.Workers worker goroutines and returns the pool. It returns
// an error wrapping executor.ErrInvalidConfig if cfg has a negative Workers or
// QueueSize. The goroutines run until Shutdown.
func New(cfg executor.Config) (*Pool, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, fmt.Errorf("chanpool: %w", err)
	}
	queue := cfg.QueueSize
	if cfg.Nonblocking {
		// Admission is decided by pending, not by the channel: room for every
		// outstanding task means a task accepted before its worker reached
		// the receive does not make the pool reject early.
		queue += cfg.Workers
	}
	p := &Pool{
		tasks:       make(chan func(), queue),
		workers:     make([]worker, cfg.Workers),
		onPanic:     cfg.PanicHandler,
		nonblocking: cfg.Nonblocking,
		capacity:    int64(cfg.Workers + cfg.QueueSize),
		done:        make(chan struct{}),
		stopped:     make(chan struct{}),
	}
	p.live.Store(int32(cfg.Workers))
	for i := range p.workers {
		go p.work(&p.workers[i])
	}
	return p, nil
}

// Submit hands task to a worker. In a blocking pool (the default) it waits
// until a worker takes the task or the queue has room; in a Nonblocking pool
// it returns an error matching executor.ErrOverloaded at once when Workers
// tasks are running and QueueSize are waiting. After Shutdown has begun it
// returns an error matching executor.ErrClosed, also to a Submit that was
// already waiting. Submit(nil) returns an error matching executor.ErrNilTask.
// A nil error means the task will run exactly once.
func (p *Pool) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	// Entering before reading closing is what lets Shutdown tell when no
	// send can follow; see Pool.
	p.entered.Add(1)
	if p.closing.Load() {
		return p.withdraw(errClosed)
	}
	if p.nonblocking {
		return p.admit(task)
	}
	// Try the send alone first: a single-case select compiles to a
	// non-blocking send, cheaper than the two-case select below.
	select {
	case p.tasks <- task:
		return nil
	default:
	}
	select {
	case p.tasks <- task:
		return nil
	case <-p.done:
		return p.withdraw(errClosed)
	}
}

// admit is Submit for a Nonblocking pool.
func (p *Pool) admit(task func()) error {
	for {
		n := p.pending.Load()
		if n >= p.capacity {
			return p.withdraw(errOverloaded)
		}
		if p.pending.CompareAndSwap(n, n+1) {
			break
		}
	}
	p.tasks <- task // never blocks: at most capacity tasks are outstanding
	return nil
}

// withdraw records a Submit that entered and will not send, and returns err.
func (p *Pool) withdraw(err error) error {
	p.withdrawn.Add(1)
	if p.closing.Load() {
		// This may have been the last Submit in flight.
		p.closeIfQuiescent()
	}
	return err
}

// closeIfQuiescent closes the task channel if Shutdown has begun, no Submit
// can still send, and every task sent has been taken by a worker. It is
// called, after closing is set, by Shutdown, by every withdrawing Submit and
// by every worker about to wait, so whichever of them finishes last sees the
// condition hold.
func (p *Pool) closeIfQuiescent() {
	// withdrawn is read before entered: a Submit that enters and withdraws
	// between the two reads then counts as in flight, which only delays the
	// close. The started count comes last and never exceeds the truth, so equality
	// means every Submit counted in entered has withdrawn or sent, and every
	// task sent has started. Any Submit not yet counted sees closing and
	// withdraws.
	withdrawn := p.withdrawn.Load()
	entered := p.entered.Load()
	if p.started.Load() == entered-withdrawn {
		p.closeTasks.Do(func() { close(p.tasks) })
	}
}

// loop is one worker goroutine's own state. It lives in work, outside run,
// so that it survives a panic unwinding run.
type loop struct {
	w         *worker
	completed uint64 // this worker's finished tasks; w.state publishes them
	idle      bool   // whether w.state says this worker runs nothing
	replaced  bool   // a new goroutine has taken over w; this one must end
}

// work runs tasks until the channel is closed and drained.
func (p *Pool) work(w *worker) {
	l := loop{w: w, completed: w.state.Load() / 2, idle: true}
	for !p.run(&l) {
		if l.replaced {
			return
		}
	}
	p.publish(w, 2*l.completed)
	if p.live.Add(-1) == 0 {
		close(p.stopped)
	}
}

// run takes tasks from the channel and runs them, and returns true once the
// channel is closed and drained. A panicking task ends run early: its
// deferred function hands the value to the PanicHandler, counts the task as
// finished, and run returns false for work to call it again. One deferred
// recover per run of tasks, rather than executor.RunTask around each one,
// keeps the per-task path as short as the book's loop.
func (p *Pool) run(l *loop) (drained bool) {
	defer func() {
		if drained {
			return
		}
		if v := recover(); v != nil {
			l.w.panicked.Add(1)
			executor.HandlePanic(v, p.onPanic)
			p.finished(l)
			return
		}
		// The task called runtime.Goexit, which ends this goroutine whatever
		// we do. (Or, under GODEBUG=panicnil=1, it called panic(nil), which
		// recovers as nil: work then returns.) Count the task as finished
		// and start a replacement, so capacity is not lost.
		p.publish(l.w, 2*(l.completed+1))
		if p.nonblocking {
			p.pending.Add(-1)
		}
		l.replaced = true
		go p.work(l.w)
	}()
	for {
		var task func()
		var ok bool
		select {
		case task, ok = <-p.tasks:
		default:
			// About to wait: publish first, so an idle pool's Stats add up
			// and closeIfQuiescent sees this worker's every task.
			if !l.idle {
				p.publish(l.w, 2*l.completed)
				l.idle = true
			}
			if p.closing.Load() {
				p.closeIfQuiescent()
			}
			task, ok = <-p.tasks
		}
		if !ok {
			return true
		}
		if l.idle {
			p.publish(l.w, 2*l.completed+1)
			l.idle = false
		}
		task()
		p.finished(l)
	}
}

// finished accounts for a task that returned or panicked.
func (p *Pool) finished(l *loop) {
	l.completed++
	if p.nonblocking {
		p.pending.Add(-1)
	}
	if l.completed%publishEvery == 0 {
		p.publish(l.w, 2*l.completed)
		l.idle = true
	}
}

// publish stores a worker's new state and adds the tasks it has started since
// its last publish to p.started, so closeIfQuiescent reads one counter
// instead of every worker's (with many workers shutting down at once, a scan
// each would cost Workers squared). A worker publishes at most twice per
// publishEvery tasks while busy, so the shared add is off the per-task path.
// Only the worker itself writes w.state, and its started count
// (completed+busy) never goes down, so the difference is never negative.
func (p *Pool) publish(w *worker, state uint64) {
	old := w.state.Load()
	w.state.Store(state)
	if d := (state/2 + state%2) - (old/2 + old%2); d != 0 {
		p.started.Add(d)
	}
}

// Shutdown stops intake, lets the workers run every accepted task (running and
// queued), waits for every worker goroutine to exit, and returns nil. Submit
// calls blocked on a full queue return ErrClosed at once, or are accepted if
// room appears first. If ctx ends before the workers have exited, Shutdown
// returns ctx.Err(); the workers still finish the accepted tasks and exit, and
// a later Shutdown waits for them. Shutdown may be called any number of times,
// from many goroutines at once.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.shutdown.Do(func() {
		p.closing.Store(true)
		close(p.done)
		p.closeIfQuiescent()
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

// Stats returns a snapshot of the pool's gauges and counters. Running counts
// workers busy with a run of tasks; Completed may trail by up to 32 tasks per
// busy worker and is exact whenever the pool is idle. Submitted is derived
// from the workers' counts plus what is queued, so the Submit path pays for
// no counter of its own.
func (p *Pool) Stats() executor.Stats {
	var running, completed, panicked uint64
	for i := range p.workers {
		state := p.workers[i].state.Load()
		running += state % 2
		completed += state / 2
		panicked += p.workers[i].panicked.Load()
	}
	queued := len(p.tasks)
	// A task between the channel and its worker's next store is in neither
	// count, so the sum can trail for a moment.
	submitted := p.submitted.Raise(completed + running + uint64(queued))
	return executor.Stats{
		Workers:   len(p.workers),
		Running:   int(running),
		Queued:    queued,
		Submitted: submitted,
		Completed: completed,
		Rejected:  p.withdrawn.Load(),
		Panicked:  panicked,
	}
}
