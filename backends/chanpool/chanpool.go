package chanpool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

// Design notes (not package documentation: see doc.go for that).
//
// A set of Config.Workers goroutines, started by New, receive tasks from one
// channel whose buffer is Config.QueueSize (Workers+QueueSize when
// Nonblocking). Shutdown is the book's "drop the sender, then join": it stops
// intake, lets the workers drain what is queued, and waits for them to exit,
// bounded here by a context. Go cannot drop the sender while a Submit may
// still be sending (closing the channel would make that send panic), so
// every Submit registers in one counter before it sends, and stays counted
// until its task has finished (or it gave up). Shutdown marks that counter
// closed; whoever brings it to zero afterwards (Shutdown itself for an idle
// pool, else the last task to finish or the last Submit to give up) closes
// the channel, and the workers range out of it. An idle Shutdown thus costs
// the same whatever QueueSize is. A blocking Submit that finds room pays two
// atomic adds beside its send (the registration, and Stats' Submitted), and
// the worker one per task (the deregistration): on a 2-core machine, about
// 5 ns a tiny task (some 8% in BenchmarkSubmit from one submitter, 40
// interleaved runs; within the noise from 16) over the earlier design,
// which wrote no shared counter per task and paid at Shutdown instead, by
// filling the channel's buffer with nils. Of that, the registration and
// deregistration are about 4% and Submitted's add about 3% (measured by
// leaving them out, which breaks Shutdown, TrySubmit and Stats). None can
// go: the registration is what lets Shutdown close the channel, the
// deregistration is what lets TrySubmit count the room exactly, and
// Submitted must be counted before Submit returns. Keeping the
// submitters' and the workers' writes on separate cache lines (pending as
// two counters, entered - left) was tried, and measured no faster.
//
// A worker that waits selects on two channels, the tasks and the retire
// tokens, so while it waits it holds two of the runtime's sudogs, not one;
// the runtime drops its cache of them at every collection, so an idle pool
// of n workers allocates n more per GC cycle than a plain
// receive would (about 96 bytes each). A plain receive could not be woken to retire.
//
// Beyond the book: a panicking task is recovered, its value handed to
// Config.PanicHandler through backend.HandlePanic, and its worker keeps
// serving (one deferred recover covers a worker's whole run of tasks, so a
// task that returns pays for none); a task that calls runtime.Goexit ends
// only its worker's goroutine, which is replaced at once; Submit never
// panics after Shutdown; submitters waiting for room are woken by Shutdown;
// and a Nonblocking pool admits exactly Workers+QueueSize outstanding tasks,
// whether or not the workers have reached their receive yet.
//
// Abilities:
//
// Pool implements executor.ContextSubmitter, executor.TrySubmitter and
// executor.Resizer natively:
//
//   - SubmitContext waits for room in one select on the task channel,
//     Shutdown and ctx.Done(): no goroutine, no timer. With a ctx whose Done
//     is nil it is Submit.
//   - TrySubmit registers only while fewer than Workers+QueueSize tasks are
//     registered (running, queued, on their way, or Submits waiting for
//     room), as a Nonblocking Submit does, so it never waits for a task to
//     finish. Its room may be a worker still on its way to the channel (a
//     new one, or one between tasks): then it waits for that worker, and a
//     blocking Submit that registers beyond the bound meanwhile waits until
//     such TrySubmits have handed over their tasks, so that it cannot take
//     that worker first. One race remains: if Resize shrinks the pool while
//     a TrySubmit waits so, the worker it waits for may retire instead, and
//     the TrySubmit then waits until a running task finishes (its task was
//     accepted under the old bound).
//   - Resize grows the pool by starting worker goroutines (or by keeping
//     ones that an earlier shrink had asked to retire), and shrinks it by
//     sending retire tokens on a second channel, one per worker too many.
//     A worker looks for a token before each task and while it waits, so an
//     idle worker retires at once and a busy one after its current task; a
//     running task is never interrupted. Only a waiting worker watches both
//     channels; one that finds its next task at once pays for a lock-free
//     look at the empty token channel.
//
// Unlike ants and pond, chanpool keeps its workers for its whole life unless
// Resize retires them: no reaping of idle workers, no spawning on demand.
//
// (End of design notes.)

var (
	_ executor.Executor         = (*Pool)(nil)
	_ executor.StatsReporter    = (*Pool)(nil)
	_ executor.ContextSubmitter = (*Pool)(nil)
	_ executor.TrySubmitter     = (*Pool)(nil)
	_ executor.Resizer          = (*Pool)(nil)
)

// Made once, so that rejecting a task allocates nothing.
var (
	errClosed     = fmt.Errorf("chanpool: %w", executor.ErrClosed)
	errOverloaded = fmt.Errorf("chanpool: %w", executor.ErrOverloaded)
	errNilTask    = fmt.Errorf("chanpool: %w", executor.ErrNilTask)
)

// closedBit marks pending once Shutdown has begun; the bits below it count.
const closedBit = 1 << 62

// Pool is a set of worker goroutines fed by one channel. Create it with New;
// the zero Pool is not usable. All methods are safe for concurrent use.
//
// Every Submit registers in pending before it sends, and the count stays
// until its task has finished (or the Submit has given up): so once
// Shutdown has set closedBit, pending reaching zero means no task is queued
// or running and no Submit can still send, and whoever brings it there
// closes the channel (see close). The workers drain the channel and exit
// as it closes. Nothing in this is proportional to QueueSize.
//
// Fields are grouped by who writes them, each group padded to its own cache
// lines: the read-mostly fields every Submit and every task reads, the
// counters every Submit writes, what a blocking pool's TrySubmit writes,
// and the rest.
type Pool struct {
	// Read-mostly: set by New, or changed by Resize and Shutdown.
	tasks       chan func()
	retire      chan struct{} // one token per worker to retire; see Resize
	done        chan struct{} // closed when Shutdown begins: wakes waiting submitters
	stopped     chan struct{} // closed when the last worker has exited
	onPanic     func(any)
	nonblocking bool
	queueSize   int
	limit       atomic.Int64 // Workers+QueueSize: the most tasks pending may admit without waiting
	// owed is at least the number of tokens in retire (Resize adds before
	// it sends one, a worker takes off after it received one), so a worker
	// between tasks looks at that channel only when owed is not zero: an
	// atomic load, where len of a channel is a runtime call (2% of the CPU
	// profile of BenchmarkSubmit).
	owed atomic.Int64

	_ cacheLinePad

	// pending counts the Submits that have registered and not given up,
	// until their task has finished: tasks in flight to the channel,
	// queued, running, and Submits waiting for room. closedBit is added
	// once Shutdown begins.
	pending atomic.Int64

	_ cacheLinePad

	// submitted counts the Submits that returned nil. Only submitters
	// write it, so it has a line of its own, away from pending, which each
	// worker writes after each task.
	submitted atomic.Uint64

	_ cacheLinePad

	// arriving counts the TrySubmits of a blocking pool between their
	// first look at pending and handing over their task; see yield.
	arriving atomic.Int64
	yielders atomic.Bool // a Submit may wait in yield; guarded by amu for writes
	amu      sync.Mutex
	arrived  chan struct{} // closed when arriving reaches zero, for yield; guarded by amu

	_ cacheLinePad

	withdrawn atomic.Uint64 // calls that returned an error other than ErrNilTask
	shutdown  sync.Once
	seal      sync.Once
	high      backend.Monotonic // keeps Stats' Submitted monotonic; see Stats

	// mu guards the fields below, and every start and exit of a worker
	// goroutine (so Stats sees a retired worker's counts exactly once).
	mu      sync.Mutex
	closed  bool // Shutdown has begun: Resize refuses
	target  int  // Workers, or the last Resize
	live    int  // worker goroutines that have not exited
	workers []*worker
	gone    struct{ completed, panicked uint64 } // counts of exited workers
}

// cacheLinePad keeps the fields before it and after it on different cache
// lines; 128 bytes also covers CPUs that fetch lines in adjacent pairs.
type cacheLinePad [128]byte

// publishEvery is how many tasks a busy worker runs between publishing its
// counters; a worker also publishes whenever it wakes with a task and before
// it waits.
const publishEvery = 32

// worker holds one worker goroutine's counters. Only that goroutine (or the
// goroutine that replaced it) writes them, so they are never contended; the
// padding keeps two workers' counters off the same cache line.
//
// state packs what the worker has published into one word, 2*completed +
// running. It is stored as the worker starts the first task of a run, after
// every publishEvery-th task (as not running; the next task stores it
// again), and before it waits, never once per task: under load Completed may
// trail by up to publishEvery tasks per worker, and it is exact whenever the
// pool is idle. It never says running while the worker is between tasks.
type worker struct {
	state    atomic.Uint64
	panicked atomic.Uint64
	index    int             // in Pool.workers; guarded by Pool.mu
	_        [128 - 3*8]byte // see cacheLinePad
}

// New starts cfg.Workers worker goroutines and returns the pool. It returns
// an error wrapping executor.ErrInvalidConfig if cfg is invalid (see
// backend.Normalize: negative sizes, Workers+QueueSize above
// executor.MaxCapacity). The goroutines run until Shutdown, or until Resize
// retires them.
func New(cfg executor.Config) (*Pool, error) {
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, fmt.Errorf("chanpool: %w", err)
	}
	buffer := cfg.QueueSize
	if cfg.Nonblocking {
		// Admission is decided by pending, not by the channel: room for
		// every outstanding task means a task accepted before its worker
		// reached the receive does not wait for it.
		buffer += cfg.Workers
	}
	p := &Pool{
		tasks: make(chan func(), buffer),
		// Zero-size elements: the buffer costs no memory, and it holds
		// every token Resize can owe (fewer than MaxCapacity workers).
		retire:      make(chan struct{}, executor.MaxCapacity),
		done:        make(chan struct{}),
		stopped:     make(chan struct{}),
		onPanic:     cfg.PanicHandler,
		nonblocking: cfg.Nonblocking,
		queueSize:   cfg.QueueSize,
		target:      cfg.Workers,
	}
	p.limit.Store(int64(cfg.Workers + cfg.QueueSize))
	p.mu.Lock()
	p.spawn(cfg.Workers)
	p.mu.Unlock()
	return p, nil
}

// spawn starts n new workers. The caller holds mu.
func (p *Pool) spawn(n int) {
	ws := make([]worker, n) // one allocation for all of them
	p.workers = slices.Grow(p.workers, n)
	for i := range ws {
		w := &ws[i]
		w.index = len(p.workers)
		p.workers = append(p.workers, w)
		p.live++
		go p.work(w)
	}
}

// Submit hands task to a worker. In a blocking pool (the default) it waits
// until a worker takes the task or the queue has room; in a Nonblocking pool
// it returns an error matching executor.ErrOverloaded at once when Workers
// tasks are running and QueueSize are waiting. After Shutdown has begun it
// returns an error matching executor.ErrClosed; a Submit already waiting when
// Shutdown begins returns it at once, unless room appears first and the task
// is accepted. Submit(nil) returns an error matching executor.ErrNilTask.
// A nil error means the task will run exactly once, before Shutdown returns
// nil. Submit does not allocate.
func (p *Pool) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	if p.nonblocking {
		return p.admit(task)
	}
	n := p.pending.Add(1)
	if n&closedBit != 0 {
		return p.giveUp(errClosed)
	}
	if n > p.limit.Load() && p.arriving.Load() != 0 {
		if err := p.yield(nil); err != nil {
			return p.giveUp(err)
		}
	}
	// A single-case select compiles to a non-blocking send, cheaper than
	// the select in wait.
	select {
	case p.tasks <- task:
		p.submitted.Add(1)
		return nil
	default:
		return p.wait(task)
	}
}

// wait is a registered Submit that found no room at once.
func (p *Pool) wait(task func()) error {
	select {
	case p.tasks <- task:
		p.submitted.Add(1)
		return nil
	case <-p.done:
		return p.giveUp(errClosed)
	}
}

// yield waits until no TrySubmit is between reserving room and handing over
// its task, for a blocking Submit that registered beyond the limit (so there
// is no room for it). Such a TrySubmit may be waiting for a worker on its
// way to the channel (see admit), and a blocking Submit that sent first
// would take that worker, leaving the TrySubmit waiting for a running task
// to finish. yield returns errClosed if Shutdown begins first, and
// errCtxDone if ctxDone is closed first (the caller returns ctx.Err()).
// Only Submits that find the pool full get here, and only while a
// TrySubmit is under way.
func (p *Pool) yield(ctxDone <-chan struct{}) error {
	p.amu.Lock()
	p.yielders.Store(true)
	if p.arriving.Load() == 0 {
		p.amu.Unlock()
		return nil
	}
	if p.arrived == nil {
		p.arrived = make(chan struct{})
	}
	arrived := p.arrived
	p.amu.Unlock()
	select {
	case <-arrived:
		return nil
	case <-p.done:
		return errClosed
	case <-ctxDone:
		return errCtxDone
	}
}

// errCtxDone tells SubmitContext that yield ended because ctx was done.
var errCtxDone = errors.New("chanpool: ctx done")

// arrive ends a TrySubmit's part in arriving, and wakes the Submits in
// yield if it was the last.
func (p *Pool) arrive() {
	// yield stores yielders before it loads arriving, and this loads
	// yielders after it stores arriving: one of them sees the other.
	if p.arriving.Add(-1) != 0 || !p.yielders.Load() {
		return
	}
	p.amu.Lock()
	if p.arriving.Load() == 0 {
		if p.arrived != nil {
			close(p.arrived)
			p.arrived = nil
		}
		p.yielders.Store(false)
	}
	p.amu.Unlock()
}

// SubmitContext is Submit, except that a wait for room also ends when ctx is
// done: it then returns an error matching ctx.Err(), the task never runs,
// and the caller holds no room. Errors come in this order: ErrNilTask for a
// nil task; ctx's error if ctx is done on entry; ErrClosed once Shutdown has
// begun. Every error but ErrNilTask counts in Stats.Rejected. With a ctx
// whose Done returns nil (context.Background) it is Submit. A Nonblocking
// pool never waits for room, so there ctx matters only on entry.
//
// Waiting costs no goroutine and no timer: the wait is one select on the
// task channel, Shutdown and ctx.Done().
func (p *Pool) SubmitContext(ctx context.Context, task func()) error {
	if task == nil {
		return errNilTask
	}
	ctxDone := ctx.Done()
	if ctxDone == nil {
		return p.Submit(task)
	}
	if err := ctx.Err(); err != nil {
		return p.withdraw(err)
	}
	if p.nonblocking {
		return p.admit(task)
	}
	n := p.pending.Add(1)
	if n&closedBit != 0 {
		return p.giveUp(errClosed)
	}
	if n > p.limit.Load() && p.arriving.Load() != 0 {
		if err := p.yield(ctxDone); err == errCtxDone {
			return p.giveUp(ctx.Err())
		} else if err != nil {
			return p.giveUp(err)
		}
	}
	select {
	case p.tasks <- task:
		p.submitted.Add(1)
		return nil
	case <-p.done:
		return p.giveUp(errClosed)
	case <-ctxDone:
		return p.giveUp(ctx.Err())
	}
}

// TrySubmit is Submit that never waits for room, in a blocking pool too: it
// returns an error matching executor.ErrOverloaded when Workers tasks are
// running and QueueSize are waiting (Submits waiting for room count as
// waiting tasks), and only then; an idle worker or a free queue slot means
// the task is accepted. ErrNilTask for a nil task, ErrClosed once Shutdown
// has begun (before ErrOverloaded). Every error but ErrNilTask counts in
// Stats.Rejected.
//
// An accepted task may have to wait a moment for the idle worker that makes
// room to reach the channel (a new worker, or one that has just finished a
// task): in a blocking pool, or in a Nonblocking one grown by Resize past
// its first Workers. See the package documentation for the one race (with a
// shrinking Resize) in which it waits longer.
func (p *Pool) TrySubmit(task func()) error {
	if task == nil {
		return errNilTask
	}
	return p.admit(task)
}

// admit is TrySubmit, and Submit for a Nonblocking pool: it registers in
// pending only while pending is below limit, so a registered task has room
// that no running task must free first.
//
// In a blocking pool, where Submits register without looking at the limit,
// it also counts itself in arriving from before it looks until its task is
// handed over, so that a Submit that registers later, beyond the limit,
// waits for it (see yield).
func (p *Pool) admit(task func()) error {
	if p.nonblocking {
		return p.reserve(task)
	}
	p.arriving.Add(1)
	err := p.reserve(task)
	p.arrive()
	return err
}

// reserve is admit's registering and sending.
func (p *Pool) reserve(task func()) error {
	limit := p.limit.Load()
	for {
		n := p.pending.Load()
		if n&closedBit != 0 {
			return p.withdraw(errClosed)
		}
		if n >= limit {
			return p.withdraw(errOverloaded)
		}
		if p.pending.CompareAndSwap(n, n+1) {
			break
		}
	}
	select {
	case p.tasks <- task:
		p.submitted.Add(1)
		return nil
	default:
		// The room is a worker on its way to the channel: a new one, or
		// one between tasks. Shutdown cannot close the channel meanwhile
		// (this Submit is registered), but it may end the wait.
		return p.wait(task)
	}
}

// giveUp is a registered Submit that did not send: it leaves pending (and
// closes the channel if it was the last thing Shutdown waited for) and
// counts as rejected.
func (p *Pool) giveUp(err error) error {
	p.leave()
	return p.withdraw(err)
}

// leave takes one from pending; if that leaves nothing pending once
// Shutdown has begun, no Submit can send any more, so it closes the channel.
func (p *Pool) leave() {
	if p.pending.Add(-1) == closedBit {
		p.close()
	}
}

// close closes the task channel, once: the workers drain it and exit.
func (p *Pool) close() {
	p.seal.Do(func() { close(p.tasks) })
}

// withdraw counts a rejected call and returns err.
func (p *Pool) withdraw(err error) error {
	p.withdrawn.Add(1)
	return err
}

// Resize sets the most tasks that run at once to workers, which must be at
// least 1, with workers+QueueSize at most executor.MaxCapacity (an error
// wrapping executor.ErrInvalidConfig otherwise); once Shutdown has begun it
// returns an error matching executor.ErrClosed. Stats().Workers reports
// workers as soon as Resize returns, and a Nonblocking Submit or a TrySubmit
// admits up to workers+QueueSize tasks from then on.
//
// Growing starts new worker goroutines at once (or first keeps workers that
// an earlier shrink had asked to retire and that have not yet done so), so
// waiting Submits and queued tasks start at once. Shrinking asks that many
// workers to retire: an idle worker exits at once, a busy one after its
// current task; a running task is never interrupted. Once the tasks that
// were running have finished, at most workers tasks run at once.
func (p *Pool) Resize(workers int) error {
	if err := backend.CheckResize(workers, p.queueSize); err != nil {
		return fmt.Errorf("chanpool: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosed
	}
	p.limit.Store(int64(workers + p.queueSize))
	for ; p.target > workers; p.target-- {
		// Never waits: the tokens owed never exceed the largest number
		// of workers ever set, below MaxCapacity, the buffer (see New).
		p.owed.Add(1)
		p.retire <- struct{}{}
	}
	for ; p.target < workers; p.target++ {
		select {
		case <-p.retire: // a worker that was to retire stays instead
			p.owed.Add(-1)
		default:
			p.spawn(1)
		}
	}
	return nil
}

// loop is one worker goroutine's own state. It lives in work, outside run,
// so that it survives a panic unwinding run.
type loop struct {
	w         *worker
	completed uint64 // this worker's finished tasks; w.state publishes them
	shown     bool   // whether w.state says this worker is running a task
	unwound   bool   // a task ended without returning or panicking with a value; see run
}

// work runs tasks until the channel is closed and drained, or until the
// worker takes a retire token, and then exits.
//
// A task that calls runtime.Goexit unwinds run and then work, whose
// deferred function finds l.unwound and hands the worker to a new goroutine,
// as this one ends. Under GODEBUG=panicnil=1 a task's panic(nil) also
// reaches run's recover as nil, but that recover stops it: run returns, and
// work hands a *runtime.PanicNilError to the PanicHandler, as
// backend.RunTask does.
func (p *Pool) work(w *worker) {
	l := loop{w: w, completed: w.state.Load() / 2}
	defer func() {
		if l.unwound { // runtime.Goexit
			p.finished(&l)
			p.replace(&l)
		}
	}()
	for !p.run(&l) {
		if l.unwound { // panic(nil) under GODEBUG=panicnil=1
			l.unwound = false
			p.handlePanic(&l, new(runtime.PanicNilError))
		}
	}
	p.exit(&l)
}

// exit removes l's worker from the pool, keeping its counts for Stats, and
// closes stopped if it was the last.
func (p *Pool) exit(l *loop) {
	p.rest(l)
	p.mu.Lock()
	defer p.mu.Unlock()
	w := l.w
	p.gone.completed += l.completed
	p.gone.panicked += w.panicked.Load()
	last := p.workers[len(p.workers)-1]
	p.workers[w.index] = last
	last.index = w.index
	p.workers[len(p.workers)-1] = nil
	p.workers = p.workers[:len(p.workers)-1]
	p.live--
	// Only a closed channel makes the workers that are not retiring exit,
	// and fewer tokens are owed than workers live: so live reaches zero
	// only after the channel was closed.
	if p.live == 0 {
		close(p.stopped)
	}
}

// run takes tasks and runs them, and returns true when the worker should
// exit. A panicking task ends run early: its deferred function hands the
// value to the PanicHandler, counts the task as finished, and run returns
// false for work to call it again. One deferred recover per run of tasks,
// rather than backend.RunTask around each one, keeps the per-task path as
// short as the book's loop.
func (p *Pool) run(l *loop) (exit bool) {
	defer func() {
		if exit {
			return
		}
		if v := recover(); v != nil {
			p.handlePanic(l, v)
			return
		}
		// runtime.Goexit, or panic(nil) under GODEBUG=panicnil=1: work
		// tells them apart.
		l.unwound = true
	}()
	for {
		task := p.next(l)
		if task == nil {
			return true
		}
		if !l.shown {
			l.w.state.Store(2*l.completed + 1)
			l.shown = true
		}
		task()
		p.finished(l)
	}
}

// handlePanic hands v, a task's panic value, to the PanicHandler. The task
// counts as completed and panicked before the handler runs (a handler that
// calls runtime.Goexit, as t.FailNow does, would skip anything after it),
// published at once, completed first, so that Stats never shows Panicked
// above Completed. It leaves pending only once the handler is done, so
// Shutdown waits for the handler and the pool admits no task for this
// worker while it is busy in it. A handler that calls runtime.Goexit ends
// this goroutine, so then it replaces the worker too.
func (p *Pool) handlePanic(l *loop, v any) {
	l.completed++
	l.w.state.Store(2 * l.completed)
	l.shown = false
	l.w.panicked.Add(1)
	returned := false
	defer func() {
		p.leave()
		if !returned {
			p.replace(l)
		}
	}()
	backend.HandlePanic(v, p.onPanic)
	returned = true
}

// replace starts a new goroutine to take over l's worker, because this one
// is ending; so capacity is not lost.
func (p *Pool) replace(l *loop) {
	p.rest(l) // the replacement starts idle
	go p.work(l.w)
}

// next returns the next task for l's worker, waiting for one if need be,
// or nil when the worker should exit: it took a retire token, or the
// channel is closed and empty.
//
// Between tasks a worker looks for a retire token first, so that a busy
// worker retires after its current task rather than after the queue. Only
// a worker that waits watches two channels; one that finds a task at once
// pays for a load of owed and a non-blocking receive.
func (p *Pool) next(l *loop) func() {
	if p.owed.Load() != 0 { // tokens are rare
		select {
		case <-p.retire:
			p.owed.Add(-1)
			return nil
		default:
		}
	}
	select {
	case task := <-p.tasks:
		return task // nil if closed
	default:
	}
	p.rest(l) // about to wait: publish first, so an idle pool's Stats add up
	select {
	case task := <-p.tasks:
		return task
	case <-p.retire:
		p.owed.Add(-1)
		return nil
	}
}

// rest publishes that l's worker runs nothing, with its completed count.
func (p *Pool) rest(l *loop) {
	if l.shown {
		l.w.state.Store(2 * l.completed)
		l.shown = false
	}
}

// finished accounts for a task that returned or panicked.
func (p *Pool) finished(l *loop) {
	l.completed++
	if l.completed%publishEvery == 0 {
		// Between tasks: not running one (a Stats call now must not count
		// one), and the next task publishes again.
		l.w.state.Store(2 * l.completed)
		l.shown = false
	}
	p.leave()
}

// Shutdown stops intake, lets the workers run every accepted task (running and
// queued), waits for every worker goroutine to finish, and returns nil. Submit
// calls waiting for room return ErrClosed at once, or are accepted if room
// appears first. If ctx ends before the workers have finished, Shutdown
// returns ctx.Err(); the workers still finish the accepted tasks and exit, and
// a later Shutdown waits for them. Shutdown may be called any number of times,
// from many goroutines at once.
//
// Shutting down an idle pool takes the same time whatever its QueueSize: it
// closes the task channel, and each worker exits.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.shutdown.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.done)
		if p.pending.Add(closedBit) == closedBit {
			p.close()
		}
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

// Stats returns a snapshot of the pool's gauges and counters. Workers is the
// bound: Config.Workers, or the last Resize. Submitted counts every Submit
// that has returned nil (and may count one that has sent its task and not
// yet returned). Running counts tasks being run, and may miss one
// for a moment after every 32nd task a worker runs in a row; Completed may
// trail by up to 32 tasks per busy worker. Both are exact whenever the pool
// is idle. Queued is at most QueueSize.
func (p *Pool) Stats() executor.Stats {
	p.mu.Lock()
	running, completed, panicked := uint64(0), p.gone.completed, p.gone.panicked
	for _, w := range p.workers {
		// handlePanic publishes state before panicked, so reading them the
		// other way round never sees the panic without its completion.
		panicked += w.panicked.Load()
		state := w.state.Load()
		running += state % 2
		completed += state / 2
	}
	workers := p.target
	p.mu.Unlock()
	// Read after the workers: a task moves from the channel to a worker,
	// never back, so none is counted twice.
	queued := len(p.tasks)
	// A Submit counts itself just after its send, so a task may finish
	// before it is counted; the tasks seen are a lower bound that keeps
	// Completed <= Submitted.
	submitted := p.high.Raise(max(p.submitted.Load(), completed+running+uint64(queued)))
	return executor.Stats{
		Workers:   workers,
		Running:   int(running),
		Queued:    min(queued, p.queueSize),
		Submitted: submitted,
		Completed: completed,
		Rejected:  p.withdrawn.Load(),
		Panicked:  panicked,
	}
}
