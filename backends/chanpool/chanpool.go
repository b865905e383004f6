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
// An accepted blocking Submit writes no shared memory of its own: it reads
// closing and sends on tasks (a rejected one also counts itself in
// withdrawn). Shutdown therefore cannot count the Submits still in flight,
// and does not need to. Workers stay until the pool is quiet (see
// declareQuiet): from then on no task can still submit, so only Submits from
// outside the pool can still be in flight, and each sends at most once.
// Workers then leave whenever the channel is empty, and the last one shuts
// the channel (see terminate) so that every task sent is run and no send can
// succeed after it has exited.
//
// Fields are grouped by who writes them, each group padded to its own cache
// lines: the read-mostly fields every Submit and every task reads, the
// counter a Nonblocking Submit writes, and the rest.
type Pool struct {
	// Read-mostly: set by New, or written once by Shutdown.
	tasks       chan func()
	workers     []worker
	onPanic     func(any)
	nonblocking bool
	capacity    int64         // Workers+QueueSize: the most outstanding tasks a Nonblocking pool admits
	closing     atomic.Bool   // set once, when Shutdown begins
	done        chan struct{} // closed when Shutdown begins: wakes blocked submitters (and idle workers of an unbuffered pool)
	quiet       chan struct{} // closed by declareQuiet: wakes workers of an unbuffered pool waiting to leave
	stopped     chan struct{} // closed when the last worker has finished

	// Test hooks, set before Shutdown (testHookPark before the workers
	// start: see build): testHookTerminate is called by the
	// last worker as it begins to shut the channel (and then cleared);
	// testHookWaitQuiet by a worker each time it waits for the pool to go
	// quiet; testHookPark by a worker as it is about to wait for a task,
	// having read closing as false; testHookLeave by a worker that is not
	// the last as it exits.
	testHookTerminate func()
	testHookWaitQuiet func()
	testHookPark      func()
	testHookLeave     func()

	_ cacheLinePad

	// pending counts a Nonblocking pool's tasks accepted and not finished;
	// Submit admits a task only while it is below capacity, so outside
	// Shutdown the send into the channel (buffer capacity) always finds room.
	pending atomic.Int64

	_ cacheLinePad

	// busy counts the workers inside a run of tasks (from waking with a task
	// to waiting again), plus quietBit once declareQuiet has set it. Workers
	// change it only when they wake and when they go idle, not per task.
	busy atomic.Int64

	withdrawn atomic.Uint64 // Submits that returned ErrClosed or ErrOverloaded
	live      atomic.Int32  // workers that have not yet started to exit
	shutdown  sync.Once
	submitted executor.HighWater // keeps Stats' derived Submitted monotonic

	// nils is how many nil values have been sent on tasks (by wake and
	// terminate) and not yet counted as taken; see next and terminate. term
	// guards it and every send of a nil, so that terminate knows what the
	// buffer holds and Stats can tell nils from queued tasks. A worker
	// counts a nil it took just after its receive, so for a moment nils may
	// exceed what the buffer holds, never fall short of it.
	term sync.Mutex
	nils int
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
// pool is idle. It never says running while the worker is between tasks,
// which Stats relies on.
type worker struct {
	state    atomic.Uint64
	panicked atomic.Uint64
	last     bool            // this is the last worker, shutting the channel; see terminate
	_        [128 - 3*8]byte // see cacheLinePad
}

// New starts cfg.Workers worker goroutines and returns the pool. It returns
// an error wrapping executor.ErrInvalidConfig if cfg has a negative Workers or
// QueueSize. The goroutines run until Shutdown.
func New(cfg executor.Config) (*Pool, error) {
	p, err := build(cfg)
	if err != nil {
		return nil, err
	}
	p.start()
	return p, nil
}

// build is New without starting the workers, so that tests can set hooks
// the workers read from their start.
func build(cfg executor.Config) (*Pool, error) {
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
		quiet:       make(chan struct{}),
		stopped:     make(chan struct{}),
	}
	p.live.Store(int32(cfg.Workers))
	return p, nil
}

// start starts the worker goroutines.
func (p *Pool) start() {
	for i := range p.workers {
		go p.work(&p.workers[i])
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
// nil.
func (p *Pool) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	if p.closing.Load() {
		return p.withdraw(errClosed)
	}
	return p.send(task)
}

// send is Submit once it has read closing as false. From then on Shutdown
// may begin at any moment; see terminate.
func (p *Pool) send(task func()) error {
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
	select {
	case p.tasks <- task:
		return nil
	default:
		// Outside Shutdown there is always room (see pending). This Submit
		// raced Shutdown and found the buffer full, with nils among its
		// tasks: a wake-up, or the last worker shutting the channel. A task
		// whose run began before Shutdown (the only tasks whose Submits can
		// read closing as false) never meets this: while such a run goes
		// on, no nil is sent (see Shutdown).
		p.pending.Add(-1)
		return p.withdraw(errClosed)
	}
}

// withdraw counts a rejected Submit and returns err.
func (p *Pool) withdraw(err error) error {
	p.withdrawn.Add(1)
	return err
}

// loop is one worker goroutine's own state. It lives in work, outside run,
// so that it survives a panic unwinding run.
type loop struct {
	w         *worker
	completed uint64 // this worker's finished tasks; w.state publishes them
	idle      bool   // whether this worker is outside a run of tasks, and so not counted in busy
	shown     bool   // whether w.state says this worker is running a task
	replaced  bool   // a new goroutine has taken over w; this one must end
}

// work runs tasks until the pool has shut down.
func (p *Pool) work(w *worker) {
	l := loop{w: w, completed: w.state.Load() / 2, idle: true}
	for !p.run(&l) {
		if l.replaced {
			return
		}
	}
}

// run takes tasks and runs them, and returns true when the worker should
// exit. A panicking task ends run early: its deferred function hands the
// value to the PanicHandler, counts the task as finished, and run returns
// false for work to call it again. One deferred recover per run of tasks,
// rather than executor.RunTask around each one, keeps the per-task path as
// short as the book's loop.
func (p *Pool) run(l *loop) (exit bool) {
	defer func() {
		if exit {
			return
		}
		if v := recover(); v != nil {
			l.w.panicked.Add(1)
			p.handlePanic(l, v)
			return
		}
		// The task called runtime.Goexit, which ends this goroutine whatever
		// we do. (Or, under GODEBUG=panicnil=1, it called panic(nil), which
		// recovers as nil: work then returns.)
		p.finished(l)
		p.replace(l)
	}()
	for {
		task := p.next(l)
		if task == nil {
			return true
		}
		if l.idle {
			p.busy.Add(1)
			l.idle = false
		}
		if !l.shown {
			l.w.state.Store(2*l.completed + 1)
			l.shown = true
		}
		task()
		p.finished(l)
	}
}

// handlePanic hands v, a task's panic value, to the PanicHandler and counts
// the task as finished. A PanicHandler that calls runtime.Goexit (t.FailNow
// in a test, say) ends this goroutine, so then it replaces the worker too.
func (p *Pool) handlePanic(l *loop, v any) {
	returned := false
	defer func() {
		p.finished(l)
		if !returned {
			p.replace(l)
		}
	}()
	executor.HandlePanic(v, p.onPanic)
	returned = true
}

// replace starts a new goroutine to take over l's worker, including w.last,
// because this one is ending; so capacity is not lost.
func (p *Pool) replace(l *loop) {
	p.rest(l) // the replacement starts idle
	l.replaced = true
	go p.work(l.w)
}

// next returns the next task for l's worker to run, waiting for one if need
// be, or nil when the worker should exit. Once Shutdown has begun and the
// pool is quiet, a worker exits when it finds the channel empty, and the
// last one to do so calls terminate.
//
// A worker of a buffered pool waits on the channel alone, as the book's
// workers do: a receive on one channel wakes faster, and keeps the
// channel's lock freer for Submit, than a select that also watches done or
// quiet (with thousands of workers each woken for one task, the select made
// a run of 100,000 tasks take up to 50% longer). What wakes a waiting worker
// to look at closing and quiet again is a nil sent on the channel (see
// wake). Until the pool is quiet, a woken worker only waits again, so the
// wake-ups that count come once it is, or can be: from Shutdown if no
// worker is running a task, from declareQuiet, one for each worker waiting
// then, and from every worker that leaves one more. That last one is what
// makes it sure: a worker can wait unwoken only if it read the old state
// before, and while it waits the buffer is empty (a send would hand it the
// value), so the next worker to leave finds room for its nil; and a worker
// is still to leave, since whoever took the nil meant for it leaves later.
// An unbuffered channel has no room for a nil sent before its receiver
// arrives, so there workers wait on done or quiet as well.
func (p *Pool) next(l *loop) func() {
	if l.w.last {
		return p.terminate(l)
	}
	for {
		select {
		case task := <-p.tasks:
			if task != nil {
				return task
			}
			p.tookNil()
			continue
		default:
		}
		// About to wait: publish first, so an idle pool's Stats add up.
		p.rest(l)
		if !p.closing.Load() {
			if h := p.testHookPark; h != nil {
				h()
			}
			if task := p.wait(p.done); task != nil {
				return task
			}
			continue
		}
		if !p.declareQuiet() {
			// Another worker is running a task, which may yet submit one
			// more: stay to take it.
			if h := p.testHookWaitQuiet; h != nil {
				h()
			}
			if task := p.wait(p.quiet); task != nil {
				return task
			}
			continue
		}
		// Leaving: pass a wake-up on (see above), unless this is the only
		// worker left. It must be sent before live drops, so that no worker
		// sends after the last has shut the channel.
		if p.live.Load() > 1 {
			p.wake()
		}
		if p.live.Add(-1) > 0 {
			if h := p.testHookLeave; h != nil {
				h()
			}
			return nil
		}
		l.w.last = true
		return p.terminate(l)
	}
}

// wait waits for a task, as next describes, and returns it, or nil when
// the worker was woken to look at closing and quiet again: by a nil on the
// channel, or in an unbuffered pool by ctl closing.
func (p *Pool) wait(ctl <-chan struct{}) func() {
	if cap(p.tasks) == 0 {
		select {
		case task := <-p.tasks:
			return task
		case <-ctl:
			return nil
		}
	}
	task := <-p.tasks
	if task == nil {
		p.tookNil()
	}
	return task
}

// wakeUpTo sends up to n wake-ups (see wake), while the buffer is empty: a
// nil sent to a waiting worker is handed to it, so the buffer stays empty
// while there are waiting workers to wake, and takes at most one slot of it
// when there are none. A worker that waits later is woken by the workers
// that leave (see next).
func (p *Pool) wakeUpTo(n int) {
	for ; n > 0 && len(p.tasks) == 0 && p.wake(); n-- {
	}
}

// wake sends a nil on tasks, if there is room or a worker waiting for it,
// and reports whether it did. Workers take a nil as a wake-up to look at
// closing again, and terminate fills the buffer with them; nils counts them.
// An unbuffered pool needs none before terminate, and sends none.
func (p *Pool) wake() bool {
	if cap(p.tasks) == 0 {
		return false
	}
	p.term.Lock()
	defer p.term.Unlock()
	return p.sendNil()
}

// sendNil sends a nil on tasks if it can without waiting, counts it, and
// reports whether it did. The caller holds term.
func (p *Pool) sendNil() bool {
	select {
	case p.tasks <- nil:
		p.nils++
		return true
	default:
		return false
	}
}

// tookNil counts a nil that a worker has received from tasks.
func (p *Pool) tookNil() {
	p.term.Lock()
	p.nils--
	p.term.Unlock()
}

// quietBit marks busy once the pool is quiet.
const quietBit = 1 << 62

// declareQuiet reports whether the pool is quiet, and makes it so if Shutdown
// has begun (the caller has read closing as true) and no worker is inside a
// run of tasks. Every worker that has read closing as true calls it before
// it waits or exits, so the last one to go idle (or, if that one's task
// called runtime.Goexit, its replacement) declares it.
//
// Quiet means no task can still submit successfully: a task that returned
// has finished its Submits, and every run of tasks that starts later begins
// with an add to busy that observes the swap below, which this worker made
// after reading closing as true; so those tasks' Submits read closing as
// true too, and return ErrClosed. (That is why the swap is made even though
// busy is already 0: a load would give later runs nothing to observe.)
func (p *Pool) declareQuiet() bool {
	for {
		b := p.busy.Load()
		if b&quietBit != 0 {
			return true
		}
		if b != 0 {
			return false
		}
		if p.busy.CompareAndSwap(0, quietBit) {
			close(p.quiet)
			p.wakeUpTo(int(p.live.Load()) - 1)
			return true
		}
	}
}

// terminate is next for the last worker, once Shutdown has begun, the pool
// is quiet and every other worker has exited. It returns each task still
// sent to the channel, and nil once it has shut the channel, which it does
// without closing it: a Submit that read closing before Shutdown set it may
// still be about to send, and closing a channel under a sender would make
// it panic.
//
// Instead it fills the channel's buffer with nils (Submit never sends nil;
// some may be there already, and Shutdown may still send some, all counted
// in nils under term), running every task it finds on the way, until the
// buffer holds nothing but nils. Then every task ever sent has been taken,
// and since no goroutine will receive from the channel again, no send can
// ever succeed: a Submit still in flight finds no room and returns
// ErrClosed. Only Submits from outside the pool can still be in flight (the
// pool is quiet), each sends at most once, so the filling ends.
//
// The price is paid by Shutdown, even of an idle pool: a lock and a send per
// slot of the buffer (about 2 ms for 65,536 slots on a small machine), and
// for each task found behind the nils, a rotation of the nils ahead of it.
// An unbuffered channel needs none of it.
func (p *Pool) terminate(l *loop) func() {
	p.rest(l) // the task it returned last has finished
	if h := p.testHookTerminate; h != nil {
		p.testHookTerminate = nil // once
		h()
	}
	for {
		p.term.Lock()
		if p.nils == cap(p.tasks) {
			p.term.Unlock()
			break
		}
		if p.sendNil() {
			p.term.Unlock()
			continue
		}
		// The buffer is full and only this goroutine receives: this cannot
		// block. Taking the oldest value lets a task queued behind the
		// nils reach the front.
		task := <-p.tasks
		if task == nil {
			p.nils--
		}
		p.term.Unlock()
		if task != nil {
			return task
		}
	}
	close(p.stopped)
	return nil
}

// rest ends l's run of tasks, and publishes that its worker runs nothing.
func (p *Pool) rest(l *loop) {
	if l.shown {
		l.w.state.Store(2 * l.completed)
		l.shown = false
	}
	if !l.idle {
		p.busy.Add(-1)
		l.idle = true
	}
}

// finished accounts for a task that returned or panicked.
func (p *Pool) finished(l *loop) {
	l.completed++
	if p.nonblocking {
		p.pending.Add(-1)
	}
	if l.completed%publishEvery == 0 {
		// Between tasks: not running one (a Stats call now must not count
		// one), and the next task publishes again.
		l.w.state.Store(2 * l.completed)
		l.shown = false
	}
}

// Shutdown stops intake, lets the workers run every accepted task (running and
// queued), waits for every worker goroutine to finish, and returns nil. Submit
// calls blocked on a full queue return ErrClosed at once, or are accepted if
// room appears first. If ctx ends before the workers have finished, Shutdown
// returns ctx.Err(); the workers still finish the accepted tasks and exit, and
// a later Shutdown waits for them. Shutdown may be called any number of times,
// from many goroutines at once.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.shutdown.Do(func() {
		p.closing.Store(true)
		close(p.done)
		// If no worker is running a task, wake those waiting for one (see
		// next), so that they find the pool quiet and leave. Otherwise
		// every worker running tasks leaves busy after this load, so it
		// reads closing as true, and whichever makes the pool quiet wakes
		// them in declareQuiet; and no nil takes room in the buffer that a
		// task still running may need for a Submit of its own.
		if p.busy.Load()&^quietBit == 0 {
			p.wakeUpTo(len(p.workers))
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

// Stats returns a snapshot of the pool's gauges and counters. Running counts
// tasks being run, and may miss one for a moment after every 32nd task a
// worker runs in a row; Completed may trail by up to 32 tasks per busy worker.
// Both are exact whenever the pool is idle. Submitted is derived
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
	p.term.Lock()
	// A nil received and not yet counted by tookNil is in neither.
	queued := max(len(p.tasks)-p.nils, 0)
	p.term.Unlock()
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
