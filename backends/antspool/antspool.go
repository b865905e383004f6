package antspool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/ants/v2"

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
	errClosed     = fmt.Errorf("antspool: %w", executor.ErrClosed)
	errOverloaded = fmt.Errorf("antspool: %w", executor.ErrOverloaded)
	errNilTask    = fmt.Errorf("antspool: %w", executor.ErrNilTask)
)

// PackageGoroutines returns the fully qualified names of the functions run
// by the two goroutines that importing ants starts for its default pool
// (ants.Submit and friends). They live as long as the program and belong to
// no Pool. Tests that check for leaked goroutines ignore exactly these, for
// example with goleak.IgnoreAnyFunction. A Pool's own purge and ticktock
// goroutines run the same functions but end before Shutdown returns nil, so
// a check that ignores goroutines by identity (goleak.IgnoreCurrent taken
// before the Pool was built) still sees them if they leak.
func PackageGoroutines() []string {
	return []string{
		"github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers",
		"github.com/panjf2000/ants/v2.(*poolCommon).ticktock",
	}
}

// The Pool's state word packs four things, so that admitting a task is one
// compare-and-swap and finishing one is one add:
//
//	bit 63      closed: Shutdown has begun
//	bits 48-62  epoch: changed by every Resize (see Resize)
//	bits 24-47  active: run slots held, by workers inside work and by
//	            submitters and kickers about to hand one a task (see hand
//	            and kick); taken only while fewer than the bound are held
//	bits 0-23   pending: tasks accepted and not yet finished
//
// executor.MaxCapacity bounds Workers+QueueSize, so pending (at most the
// limit, plus one unit per dying worker, see exited) and active (at most the
// largest bound, plus kickers) fit in 24 bits each.
const (
	closedBit   = uint64(1) << 63
	epochOne    = uint64(1) << 48
	epochMask   = (uint64(1)<<15 - 1) << 48
	activeOne   = uint64(1) << 24
	activeMask  = (uint64(1)<<24 - 1) << 24
	pendingMask = uint64(1)<<24 - 1
)

// Fails to compile if 24 bits could not hold twice MaxCapacity.
const _ = pendingMask - 2*executor.MaxCapacity

// How admit admitted a task, or why not.
const (
	admitFull   = iota // Workers+QueueSize tasks pending: no room
	admitClosed        // Shutdown has begun
	admitHand          // admitted with a run slot: hand it to an ants worker
	admitQueue         // admitted, every run slot held: queue it
)

// Pool runs tasks on an ants pool of Workers goroutines, with a buffer of
// QueueSize tasks in front of it. Create it with New; the zero Pool is not
// usable. All methods are safe for concurrent use.
type Pool struct {
	ants        *ants.PoolWithFuncGeneric[func()]
	onPanic     func(any) // counts the panic, then calls Config.PanicHandler
	queueSize   int
	nonblocking bool

	// The bound, set by New and Resize. limit is Workers+QueueSize, the most
	// pending tasks; allActive is Workers run slots, in active units.
	// Submitters read them after loading state, so a Resize that changes
	// them and then the epoch makes a compare-and-swap based on the old
	// values fail.
	limit     atomic.Uint64
	allActive atomic.Uint64

	// state is described above its constants. Every change that can end
	// the last pending task or give back the last run slot after Shutdown
	// began goes through settle, which closes drained.
	state atomic.Uint64

	// queue holds accepted tasks that found no run slot, or every ants worker
	// busy. Its capacity is Workers+QueueSize as given to New; a task enters
	// only after it was admitted (pending < limit), so, while the bound has
	// not grown past New's, a send never finds it full. After a Resize up, a
	// task that finds it full goes to overflow instead (see push). queued
	// counts tasks put in either minus tasks taken out; it is incremented
	// after the put and decremented after the take, so it may dip below zero
	// for a moment, and it is positive only while some task is queued or
	// being taken out.
	queue  chan func()
	queued atomic.Int64

	// overflow is the rest of the queue once Resize has grown the bound past
	// the channel's capacity: a FIFO slice, guarded by overflowMu, holding at
	// most the growth. overflowN is its length, read without the lock so
	// that pop pays one atomic load while it is empty.
	overflowMu   sync.Mutex
	overflow     []func()
	overflowHead int
	overflowN    atomic.Int64

	// mu guards waitList, the submitters waiting for room, oldest first,
	// each woken through its own channel (as golang.org/x/sync/semaphore
	// does, so that a waiter can also stop waiting when its ctx ends; a
	// sync.Cond cannot wait on a ctx). waiterPool holds reusable waiters.
	// waiters counts them plus any caller checking for room under mu; it is
	// incremented before that check, and finish reads it after lowering
	// pending, so either the waiter sees the lower count or finish sees the
	// waiter and wakes it under mu (no lost wake-up).
	mu         sync.Mutex
	waitList   waitList
	waiters    atomic.Int32
	waiterPool sync.Pool

	// workers is Stats.Workers: the bound last set. shrinking is non-zero
	// while workers may hold more run slots than the bound, after a Resize
	// down; a worker seeing it checks whether it must leave (see shed).
	// resizeMu serializes Resize calls; gen numbers the shrinks.
	workers   atomic.Int64
	shrinking atomic.Uint32
	resizeMu  sync.Mutex
	gen       uint32

	counters backend.Counters // submitted, completed, rejected
	panicked atomic.Uint64    // counted in onPanic, see New

	// testHookGaveUp, if set (by tests, before the Pool is used), is called
	// by a SubmitContext whose ctx ended while it waited, before it takes
	// mu to leave the waitList.
	testHookGaveUp func()

	drained     chan struct{} // closed once closed is set and pending and active are zero
	drainOnce   sync.Once
	released    chan struct{} // closed once the ants pool and all its goroutines are gone
	releaseOnce sync.Once
}

// New builds a Pool. It returns an error wrapping executor.ErrInvalidConfig
// if cfg has a negative Workers or QueueSize, or if Workers+QueueSize exceeds
// executor.MaxCapacity. It allocates the queue, about 8 bytes per slot of
// Workers+QueueSize, at once. No goroutine runs tasks until the first
// Submit; ants' purge and ticktock goroutines for this pool start at once
// and end in Shutdown.
func New(cfg executor.Config) (*Pool, error) {
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, fmt.Errorf("antspool: %w", err)
	}
	p := &Pool{
		queueSize:   cfg.QueueSize,
		nonblocking: cfg.Nonblocking,
		queue:       make(chan func(), cfg.Workers+cfg.QueueSize),
		drained:     make(chan struct{}),
		released:    make(chan struct{}),
	}
	p.waiterPool.New = newWaiter
	// Counted before the user's handler runs: a handler that calls
	// runtime.Goexit (t.FailNow does) never returns to RunTask.
	handler := cfg.PanicHandler
	p.onPanic = func(v any) {
		p.panicked.Add(1)
		handler(v)
	}
	p.setBound(cfg.Workers)
	// Non-blocking, so that no caller ever waits inside ants: a caller woken
	// there by Release would get ants.ErrPoolClosed after being admitted.
	p.ants, err = ants.NewPoolWithFuncGeneric(cfg.Workers, p.work, ants.WithNonblocking(true))
	if err != nil {
		return nil, fmt.Errorf("antspool: %w", err)
	}
	return p, nil
}

// setBound stores the bound for workers.
func (p *Pool) setBound(workers int) {
	p.workers.Store(int64(workers))
	p.limit.Store(uint64(workers + p.queueSize))
	p.allActive.Store(uint64(workers) * activeOne)
}

// Submit hands task to a worker, or to the Pool's buffer when every worker is
// busy. It returns nil once the task is accepted; the task then runs exactly
// once, even if Shutdown follows at once. When Workers+QueueSize tasks are
// outstanding, Submit waits for one to finish, or, if the Pool is
// Nonblocking, returns an error matching executor.ErrOverloaded. After
// Shutdown has begun it returns an error matching executor.ErrClosed, also
// to a caller that was waiting. Submit(nil) returns an error matching
// executor.ErrNilTask.
func (p *Pool) Submit(task func()) error {
	if task == nil {
		return errNilTask
	}
	// admit, written out: this is the path every benchmark measures.
	s := p.state.Load()
	for {
		if s&closedBit != 0 {
			p.counters.Rejected()
			return errClosed
		}
		if s&pendingMask >= p.limit.Load() {
			return p.waitForRoom(context.Background(), task)
		}
		if s&activeMask < p.allActive.Load() {
			if p.state.CompareAndSwap(s, s+1+activeOne) {
				p.counters.Submitted()
				return p.hand(task)
			}
		} else if p.state.CompareAndSwap(s, s+1) {
			p.counters.Submitted()
			p.push(task)
			return nil
		}
		s = p.state.Load()
	}
}

// SubmitContext is Submit, except that a wait for room ends when ctx is
// done: it then returns ctx.Err() and the task never runs. If ctx is done
// on entry it returns ctx.Err() at once, even after Shutdown; the task
// never runs. A caller that gives up holds no room: a wake-up meant for it
// passes to the next waiter. It starts no goroutine and no timer; with a ctx
// that is never done (ctx.Done() returns nil) it is Submit. Every error but
// the one for a nil task counts in Stats.Rejected.
func (p *Pool) SubmitContext(ctx context.Context, task func()) error {
	if task == nil {
		return errNilTask
	}
	if done := ctx.Done(); done != nil {
		select {
		case <-done:
			p.counters.Rejected()
			return ctx.Err()
		default:
		}
	}
	if how := p.admit(); how != admitFull {
		return p.accept(task, how)
	}
	return p.waitForRoom(ctx, task)
}

// TrySubmit is Submit that never waits, also on a blocking Pool: when
// Workers+QueueSize accepted tasks are unfinished (Workers run and
// QueueSize wait) it returns an error matching executor.ErrOverloaded, and
// only then. After Shutdown has begun it returns an error matching
// executor.ErrClosed; TrySubmit(nil) returns one matching
// executor.ErrNilTask. Every error but the last counts in Stats.Rejected.
func (p *Pool) TrySubmit(task func()) error {
	if task == nil {
		return errNilTask
	}
	if how := p.admit(); how != admitFull {
		return p.accept(task, how)
	}
	p.counters.Rejected()
	return errOverloaded
}

// admit admits a task if there is room, taking a run slot for it too if
// one is free, and says how (see the admit constants).
func (p *Pool) admit() int {
	s := p.state.Load()
	for {
		if s&closedBit != 0 {
			return admitClosed
		}
		// The bound is read after state, so a Resize between the two
		// changes the epoch and the compare-and-swap below fails.
		if s&pendingMask >= p.limit.Load() {
			return admitFull
		}
		d, how := uint64(1), admitQueue
		if s&activeMask < p.allActive.Load() {
			d, how = 1+activeOne, admitHand
		}
		if p.state.CompareAndSwap(s, s+d) {
			return how
		}
		s = p.state.Load()
	}
}

// accept finishes a submission that admit did not find full.
func (p *Pool) accept(task func(), how int) error {
	if how == admitClosed {
		p.counters.Rejected()
		return errClosed
	}
	p.counters.Submitted() // before the task is handed, so it cannot finish uncounted
	if how == admitHand {
		return p.hand(task)
	}
	p.push(task)
	return nil
}

// waitForRoom is the path of Submit (with context.Background()) and
// SubmitContext when Workers+QueueSize tasks are pending.
func (p *Pool) waitForRoom(ctx context.Context, task func()) error {
	if p.nonblocking {
		p.counters.Rejected()
		return errOverloaded
	}
	done := ctx.Done() // nil for Submit's context.Background()
	var w *waiter
	defer func() {
		if w != nil {
			p.waiterPool.Put(w) // its channel is empty: every wake-up was received
		}
	}()
	for {
		p.mu.Lock()
		p.waiters.Add(1)
		if how := p.admit(); how != admitFull {
			p.waiters.Add(-1)
			p.mu.Unlock()
			return p.accept(task, how)
		}
		if w == nil {
			w = p.waiterPool.Get().(*waiter)
			p.waitList.pushBack(w)
		} else {
			// Woken, and a submitter that did not wait took the room first:
			// keep this caller's turn.
			p.waitList.pushFront(w)
		}
		p.mu.Unlock()
		if done == nil {
			<-w.ready // cheaper than a select, which locks every channel it names
			continue
		}
		select {
		case <-w.ready:
			continue
		case <-done:
		}
		if p.testHookGaveUp != nil {
			p.testHookGaveUp()
		}
		p.mu.Lock()
		if w.listed {
			p.waitList.remove(w)
			p.waiters.Add(-1)
		} else {
			// Woken as ctx ended: the room this wake-up announced is the
			// next waiter's.
			<-w.ready
			p.wakeLocked(1)
		}
		p.mu.Unlock()
		p.counters.Rejected()
		return ctx.Err()
	}
}

// wakeLocked wakes up to n waiting submitters, oldest first. p.mu is held.
func (p *Pool) wakeLocked(n int) {
	for ; n > 0; n-- {
		w := p.waitList.popFront()
		if w == nil {
			return
		}
		p.waiters.Add(-1)
		w.ready <- struct{}{} // never blocks: one wake-up per listing, received before the next
	}
}

// A waiter is a submitter waiting for room, in a waitList. Waiters are
// reused through Pool.waiterPool, so that waiting allocates nothing.
type waiter struct {
	ready      chan struct{} // capacity 1: a wake-up is a send, under Pool.mu
	prev, next *waiter
	listed     bool
}

func newWaiter() any { return &waiter{ready: make(chan struct{}, 1)} }

// waitList is a doubly linked FIFO of waiters, guarded by Pool.mu.
type waitList struct {
	head, tail *waiter
	n          int
}

func (l *waitList) pushBack(w *waiter) {
	w.prev, w.next, w.listed = l.tail, nil, true
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
	l.n++
}

func (l *waitList) pushFront(w *waiter) {
	w.prev, w.next, w.listed = nil, l.head, true
	if l.head == nil {
		l.tail = w
	} else {
		l.head.prev = w
	}
	l.head = w
	l.n++
}

func (l *waitList) remove(w *waiter) {
	if w.prev == nil {
		l.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		l.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.listed = nil, nil, false
	l.n--
}

func (l *waitList) popFront() *waiter {
	w := l.head
	if w != nil {
		l.remove(w)
	}
	return w
}

// hand gives an admitted task to an idle ants worker, or queues it. The
// caller holds one run slot, which passes to the worker on success.
func (p *Pool) hand(task func()) error {
	err := p.ants.Invoke(task)
	if err == nil {
		return nil
	}
	if !errors.Is(err, ants.ErrPoolOverload) {
		// ants is released only after every admitted task finished, so it
		// cannot be closed while this task is pending. Should it be anyway,
		// the task is not accepted: undo and say so, never drop it silently.
		p.finish(1 + activeOne)
		p.counters.Rejected()
		return fmt.Errorf("%w (ants: %v)", errClosed, err)
	}
	// Every ants worker is busy, or finishing a task and not yet idle again.
	// This task is pending, so giving back the slot cannot end the drain.
	p.state.Add(^(activeOne - 1))
	p.push(task)
	return nil
}

// push queues an admitted task for which its submitter holds no run slot,
// and makes sure a worker will take it.
func (p *Pool) push(task func()) {
	select {
	case p.queue <- task:
	default:
		// Only after a Resize up: the channel is sized for New's bound.
		p.overflowMu.Lock()
		p.overflow = append(p.overflow, task)
		p.overflowN.Add(1)
		p.overflowMu.Unlock()
	}
	p.queued.Add(1)
	if p.state.Load()&activeMask < p.allActive.Load() {
		p.kick(1)
	}
}

// kick starts up to n ants workers for the queued tasks, each with a run
// slot, and stops early when the queue is empty or every slot is held. A
// queued task may wait only while every run slot is held, each by a worker
// in work, from which it looks at the queue before it leaves, or by a
// submitter or kicker that will either start such a worker or come back
// here itself, so the last one to give up its slot sees the true count.
// With a slot free and ants still refusing, some ants worker has finished a
// task and is on its way back to ants' idle list or out of the pool (or was
// just handed one), so the loop ends after a few turns, unless that worker
// is the caller: kick must not run on an ants worker goroutine that holds
// no slot (see exited and work).
func (p *Pool) kick(n int) {
	for n > 0 && p.queued.Load() > 0 {
		if !p.takeSlot() {
			return
		}
		err := p.ants.Invoke(nil) // a worker that starts with no task drains the queue
		if err == nil {
			n--
			continue
		}
		s := p.finish(activeOne)
		if s&activeMask >= p.allActive.Load() || !errors.Is(err, ants.ErrPoolOverload) {
			return
		}
		runtime.Gosched()
	}
}

// takeSlot takes a run slot for a worker that will look at the queue, if
// one is free and some task is pending (a queued task is; with none, the
// Pool may have drained, and nothing may start after that).
func (p *Pool) takeSlot() bool {
	s := p.state.Load()
	for s&pendingMask != 0 && s&activeMask < p.allActive.Load() {
		if p.state.CompareAndSwap(s, s+activeOne) {
			return true
		}
		s = p.state.Load()
	}
	return false
}

// work is the ants pool's function. It runs task (nil when started by kick),
// then every task it can take from the queue, and returns the worker to
// ants. It is entered holding one run slot, and task, if not nil, holds one
// pending unit.
func (p *Pool) work(task func()) {
	left := false
	defer func() {
		if !left {
			p.exited(task)
		}
	}()
	// A task handed over just before a Resize down runs all the same, as if
	// it had started before; its worker leaves after it if it is over the
	// bound. (Putting the task back in the queue from here would need a
	// kick, and this goroutine is the ants worker that kick may be waiting
	// for: ants counts it as busy until work returns.)
	for {
		if task != nil {
			backend.RunTask(task, p.onPanic) // panics are counted in onPanic
			p.counters.Completed(false)
		}
		if p.shrinking.Load() != 0 {
			var d uint64
			if task != nil {
				d = 1
			}
			if p.shed(d) {
				left = true
				return
			}
		}
		if next := p.pop(); next != nil {
			if task != nil {
				p.finish(1)
			}
			task = next
			continue
		}
		d := activeOne
		if task != nil {
			d++
		}
		task = nil
		p.finish(d)
		// A submitter that queued a task after the pop above may have seen
		// every slot held, this one included, and left the task to their
		// holders: look again after leaving. Either this load sees the task,
		// or the submitter sees this slot free and kicks.
		if p.queued.Load() <= 0 || !p.takeSlot() {
			left = true
			return
		}
		runtime.Gosched() // the task may still be on its way into queue
	}
}

// shed gives up the caller's run slot, and d pending units for the task it
// finished, if more slots are held than the bound allows (after a Resize
// down), and reports whether it did. It leaves at least the bound's worth of
// slots held, whose holders look at the queue, so nothing queued is
// stranded. When it finds no excess it clears shrinking, unless a later
// Resize set it again.
func (p *Pool) shed(d uint64) bool {
	g := p.shrinking.Load()
	s := p.state.Load()
	for {
		// The bound is read after state, as in admit: a slot taken against
		// an older, larger bound was taken before the epoch changed, and is
		// counted in s.
		if s&activeMask <= p.allActive.Load() {
			if g != 0 {
				p.shrinking.CompareAndSwap(g, 0)
			}
			return false
		}
		if p.state.CompareAndSwap(s, s-activeOne-d) {
			p.settle(s-activeOne-d, d)
			return true
		}
		s = p.state.Load()
	}
}

// exited settles the accounts of a worker whose task, or whose
// PanicHandler, called runtime.Goexit, which ends the ants worker goroutine
// without returning from work.
func (p *Pool) exited(task func()) {
	d := activeOne
	if task != nil {
		p.counters.Completed(false)
		d++
	}
	// Hold one pending unit for a possible kicker, so that it may take a slot
	// and Shutdown waits for it, and leave first: a kicker that saw this dying
	// worker's slot held could take it for one that will drain the queue.
	p.state.Add(1)
	p.finish(d)
	if p.queued.Load() <= 0 {
		p.finish(1)
		return
	}
	// This goroutine cannot take the queue: it is ending. Another must, and
	// it cannot be kicked from here, because ants counts this goroutine as
	// busy until after this deferred call returns.
	go func() {
		p.kick(1)
		p.finish(1)
	}()
}

// pop takes a task from the queue without waiting, or returns nil.
func (p *Pool) pop() func() {
	select {
	case t := <-p.queue:
		p.queued.Add(-1)
		return t
	default:
		if p.overflowN.Load() > 0 {
			return p.popOverflow()
		}
		return nil
	}
}

// popOverflow takes the oldest task from overflow, or returns nil.
func (p *Pool) popOverflow() func() {
	p.overflowMu.Lock()
	if p.overflowHead == len(p.overflow) {
		p.overflowMu.Unlock()
		return nil
	}
	t := p.overflow[p.overflowHead]
	p.overflow[p.overflowHead] = nil
	p.overflowHead++
	if p.overflowHead == len(p.overflow) {
		// Empty: reuse the array from the start. It holds at most the
		// growth of the bound since New.
		p.overflow = p.overflow[:0]
		p.overflowHead = 0
	}
	p.overflowN.Add(-1)
	p.overflowMu.Unlock()
	p.queued.Add(-1)
	return t
}

// finish subtracts d (active and pending units) from state, settles the
// change and returns the new state.
func (p *Pool) finish(d uint64) uint64 {
	s := p.state.Add(-d)
	// settle's own tests, first the cheap ones, so that finish inlines.
	if (d&pendingMask != 0 && p.waiters.Load() > 0) || s&closedBit != 0 {
		p.settle(s, d)
	}
	return s
}

// settle follows a change that took d units from state, leaving s: when d
// freed a pending slot it wakes a waiting submitter, and it closes drained
// if the change ended the last pending task or gave back the last run slot
// after Shutdown began.
func (p *Pool) settle(s, d uint64) {
	if d&pendingMask != 0 && p.waiters.Load() > 0 {
		p.mu.Lock()
		p.wakeLocked(1)
		p.mu.Unlock()
	}
	if s&closedBit != 0 && s&(activeMask|pendingMask) == 0 {
		p.drainOnce.Do(func() { close(p.drained) })
	}
}

// Resize sets the most tasks that run at once to workers, and the most
// outstanding to workers+QueueSize; Stats().Workers reports it as soon as
// Resize returns. It returns an error wrapping executor.ErrInvalidConfig if
// workers is below 1 or workers+QueueSize exceeds executor.MaxCapacity, and
// one matching executor.ErrClosed once Shutdown has begun.
//
// Underneath it calls ants' Tune. Growing wakes as many waiting submitters
// as there is new room, and starts ants workers for queued tasks at once.
// Shrinking interrupts no task: each worker over the new bound leaves when
// its task ends, instead of taking the next from the queue, so once enough
// running tasks have finished at most workers run at once. The Pool counts
// run slots itself because ants' Tune alone does not hold a lower bound:
// ants hands tasks to idle workers it already has, however many.
//
// The buffer is a channel sized for New's Workers+QueueSize, because it is
// the fastest queue for Submit and workers; it is not reallocated. After a
// Resize past New's bound, a task that finds it full waits in an overflow
// list instead, which never holds more than the growth and whose array is
// kept for reuse. Resize may be called concurrently with every other method.
func (p *Pool) Resize(workers int) error {
	if err := backend.CheckResize(workers, p.queueSize); err != nil {
		return fmt.Errorf("antspool: %w", err)
	}
	p.resizeMu.Lock()
	defer p.resizeMu.Unlock()
	if p.state.Load()&closedBit != 0 {
		return errClosed
	}
	old := int(p.workers.Load())
	if workers == old {
		return nil
	}
	if workers > old {
		// ants first, so that the workers the new slots start find room.
		p.ants.Tune(workers)
	}
	p.setBound(workers)
	// Make every compare-and-swap on a state read before the new bound was
	// stored fail, so that no slot or room is taken against the old bound
	// once Resize returns. (15 bits: a submitter would have to stall for
	// 32768 Resizes for its stale swap to succeed.)
	for {
		s := p.state.Load()
		if p.state.CompareAndSwap(s, s&^epochMask|(s+epochOne)&epochMask) {
			break
		}
	}
	if workers < old {
		p.gen++
		if p.gen == 0 {
			p.gen = 1
		}
		p.shrinking.Store(p.gen)
		// ants' workers beyond the new capacity leave ants when they next
		// return to it, instead of waiting idle.
		p.ants.Tune(workers)
		return nil
	}
	// Queued tasks were accepted first: start them before waking waiters.
	p.kick(workers - old)
	p.mu.Lock()
	p.wakeLocked(workers - old)
	p.mu.Unlock()
	return nil
}

// Shutdown stops intake: every later Submit, and every Submit waiting for
// room, returns an error matching executor.ErrClosed. It then waits for
// every accepted task, running or queued, to finish, releases the ants pool
// and waits for its worker, purge and ticktock goroutines to end, and
// returns nil. If ctx ends first, Shutdown returns ctx.Err(); the accepted
// tasks still run, and a later Shutdown waits for them and returns nil.
// Shutdown may be called any number of times, from many goroutines at once.
func (p *Pool) Shutdown(ctx context.Context) error {
	for {
		s := p.state.Load()
		if s&closedBit != 0 {
			break
		}
		if p.state.CompareAndSwap(s, s|closedBit) {
			if s&(activeMask|pendingMask) == 0 {
				p.drainOnce.Do(func() { close(p.drained) })
			}
			break
		}
	}
	// Wake every waiting submitter; each sees closed and returns ErrClosed.
	p.mu.Lock()
	p.wakeLocked(p.waitList.n)
	p.mu.Unlock()

	if err := wait(ctx, p.drained); err != nil {
		return err
	}
	// Only now is ants released: a queued task still needs an ants worker,
	// and ants' own Release would turn it away.
	p.releaseOnce.Do(func() { go p.release() })
	return wait(ctx, p.released)
}

// release releases the ants pool and waits, however long it takes, for its
// goroutines to end. ants' ReleaseContext cannot be asked twice, so it runs
// once, here, and every Shutdown waits on released.
func (p *Pool) release() {
	defer close(p.released)
	// The error can only say the pool was already released; nothing else
	// releases it.
	_ = p.ants.ReleaseContext(context.Background())
}

// wait waits for done to be closed or ctx to end, preferring done.
func wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	default:
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns a snapshot of the Pool's counters. Workers is the bound last
// set by New or Resize. Running and Queued come from the Pool's own
// accounts: Queued is at most QueueSize, and Running at most ants' Running
// (its live worker goroutines, idle ones included until ants reaps them) and
// Workers (after a Resize down, tasks that started under the old bound still
// run, but are reported as at most the new bound). ants counts no tasks, so
// the counters are kept here: Submitted is counted as a task is admitted,
// before any worker can finish it, and Panicked before the PanicHandler is
// called. Once the Pool is idle or shut down, Submitted == Completed and
// Running == Queued == 0.
func (p *Pool) Stats() executor.Stats {
	workers := p.workers.Load()
	s := p.counters.Fill(executor.Stats{Workers: int(workers)})
	// A panic is counted before its task completes: no snapshot shows more
	// panics than completed tasks, and both counters only grow, so neither
	// does their minimum.
	s.Panicked = min(p.panicked.Load(), s.Completed)
	// Fill reads Completed before Submitted, so Submitted is never below it.
	pending := int64(p.state.Load() & pendingMask)
	// A task can sit in the buffer for a moment beyond QueueSize (while a
	// worker holding a slot is about to take it, or after ants turned it
	// away): it counts as running, the state it is about to be in.
	queued := min(max(p.queued.Load(), 0), pending, int64(p.queueSize))
	s.Queued = int(queued)
	s.Running = int(min(pending-queued, int64(p.ants.Running()), workers))
	return s
}
