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
)

var (
	_ executor.Executor      = (*Pool)(nil)
	_ executor.StatsReporter = (*Pool)(nil)
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

// The Pool's state word packs three things, so that admitting a task is one
// compare-and-swap and finishing one is one add:
//
//	bit 63      closed: Shutdown has begun
//	bits 32-62  active: workers inside work, plus submitters and kickers
//	            about to hand one a task (see hand and kick)
//	bits 0-31   pending: tasks accepted and not yet finished
const (
	closedBit   = uint64(1) << 63
	activeOne   = uint64(1) << 32
	activeMask  = (uint64(1)<<31 - 1) << 32
	pendingMask = uint64(1)<<32 - 1

	// maxOutstanding bounds Workers+QueueSize so that pending, and active
	// (at most one unit per pending task plus one per kicker), fit.
	maxOutstanding = 1 << 30
)

// Pool runs tasks on an ants pool of Workers goroutines, with a buffer of
// QueueSize tasks in front of it. Create it with New; the zero Pool is not
// usable. All methods are safe for concurrent use.
type Pool struct {
	ants        *ants.PoolWithFuncGeneric[func()]
	onPanic     func(any)
	workers     int
	limit       uint64 // Workers+QueueSize: the most pending tasks
	allActive   uint64 // Workers active units: every ants worker may be inside work
	nonblocking bool

	// state is described above its constants. Every change that can end
	// the last pending task after Shutdown began goes through finish, which
	// closes drained.
	state atomic.Uint64

	// queue holds accepted tasks that found every ants worker busy. Its
	// capacity is limit, and a task enters it only after it was admitted
	// (pending < limit), so a send never blocks. queued counts tasks sent
	// minus tasks received; it is incremented after the send and decremented
	// after the receive, so it may dip below zero for a moment, and it is
	// positive only while some task is in queue or being taken out of it.
	queue  chan func()
	queued atomic.Int64

	// mu and cond let blocking submitters wait for a pending slot. waiters
	// counts them; it is written only with mu held, and finish reads it after
	// lowering pending, so either the waiter sees the lower count or finish
	// sees the waiter and signals under mu (no lost wake-up).
	mu      sync.Mutex
	cond    *sync.Cond
	waiters atomic.Int32

	counters executor.Counters // submitted, completed, rejected, panicked

	drained     chan struct{} // closed once closed is set and pending is zero
	drainOnce   sync.Once
	released    chan struct{} // closed once the ants pool and all its goroutines are gone
	releaseOnce sync.Once
}

// New builds a Pool. It returns an error wrapping executor.ErrInvalidConfig
// if cfg has a negative Workers or QueueSize, or if Workers+QueueSize exceeds
// 1<<30. No goroutine runs tasks until the first Submit; ants' purge and
// ticktock goroutines for this pool start at once and end in Shutdown.
func New(cfg executor.Config) (*Pool, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, fmt.Errorf("antspool: %w", err)
	}
	if cfg.Workers > maxOutstanding || cfg.QueueSize > maxOutstanding-cfg.Workers {
		return nil, fmt.Errorf("antspool: %w: Workers+QueueSize is %d+%d; want at most %d",
			executor.ErrInvalidConfig, cfg.Workers, cfg.QueueSize, maxOutstanding)
	}
	p := &Pool{
		onPanic:     cfg.PanicHandler,
		workers:     cfg.Workers,
		limit:       uint64(cfg.Workers + cfg.QueueSize),
		allActive:   uint64(cfg.Workers) * activeOne,
		nonblocking: cfg.Nonblocking,
		queue:       make(chan func(), cfg.Workers+cfg.QueueSize),
		drained:     make(chan struct{}),
		released:    make(chan struct{}),
	}
	p.cond = sync.NewCond(&p.mu)
	// Non-blocking, so that no caller ever waits inside ants: a caller woken
	// there by Release would get ants.ErrPoolClosed after being admitted.
	p.ants, err = ants.NewPoolWithFuncGeneric(cfg.Workers, p.work, ants.WithNonblocking(true))
	if err != nil {
		return nil, fmt.Errorf("antspool: %w", err)
	}
	return p, nil
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
	s := p.state.Load()
	for {
		if s&closedBit != 0 {
			p.counters.Rejected()
			return errClosed
		}
		if s&pendingMask >= p.limit {
			return p.submitFull(task)
		}
		// Admit the task and, in the same step, count this caller as active
		// until hand knows whether an ants worker took the task.
		if p.state.CompareAndSwap(s, s+1+activeOne) {
			break
		}
		s = p.state.Load()
	}
	p.counters.Submitted() // before hand, so the task cannot finish uncounted
	return p.hand(task)
}

// submitFull is Submit's path when Workers+QueueSize tasks are pending.
func (p *Pool) submitFull(task func()) error {
	if p.nonblocking {
		p.counters.Rejected()
		return errOverloaded
	}
	p.mu.Lock()
	p.waiters.Add(1)
	for {
		s := p.state.Load()
		if s&closedBit != 0 {
			p.waiters.Add(-1)
			p.mu.Unlock()
			p.counters.Rejected()
			return errClosed
		}
		if s&pendingMask >= p.limit {
			p.cond.Wait()
			continue
		}
		if p.state.CompareAndSwap(s, s+1+activeOne) {
			p.waiters.Add(-1)
			p.mu.Unlock()
			p.counters.Submitted()
			return p.hand(task)
		}
	}
}

// hand gives an admitted task to an idle ants worker, or queues it. The
// caller holds one active unit, which passes to the worker on success.
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
	p.state.Add(^(activeOne - 1)) // give back the active unit
	p.queue <- task
	p.queued.Add(1)
	if p.state.Load()&activeMask < p.allActive {
		p.kick()
	}
	return nil
}

// kick makes sure the queued tasks do not wait while an ants worker could
// take them. A queued task may wait only while all Workers are active, each
// in work, from which it looks at the queue before it leaves. kick is called
// after a task was queued when fewer than Workers active units were seen.
// Each active unit belongs to a worker in work, or to a submitter or kicker
// that will either start such a worker or come back here itself, so the last
// one to give up its unit sees the true count. With fewer than Workers in
// work and ants still refusing, some ants worker has finished a task and is
// on its way back to ants' idle list (or was just handed one), so the loop
// ends after a few turns.
func (p *Pool) kick() {
	for p.queued.Load() > 0 {
		p.state.Add(activeOne)
		err := p.ants.Invoke(nil) // a worker that starts with no task drains the queue
		if err == nil {
			return
		}
		s := p.state.Add(^(activeOne - 1))
		if s&activeMask >= p.allActive || !errors.Is(err, ants.ErrPoolOverload) {
			return
		}
		runtime.Gosched()
	}
}

// work is the ants pool's function. It runs task (nil when started by kick),
// then every task it can take from the queue, and returns the worker to
// ants. It is entered holding one active unit, and task, if not nil, holds
// one pending unit.
func (p *Pool) work(task func()) {
	left := false
	defer func() {
		if !left {
			p.exited(task)
		}
	}()
	for {
		if task != nil {
			p.counters.Completed(executor.RunTask(task, p.onPanic))
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
		// all Workers active, this one included, and left the task to them:
		// look again after leaving. Either this load sees the task, or the
		// submitter sees this worker gone and kicks.
		if p.queued.Load() <= 0 {
			left = true
			return
		}
		p.state.Add(activeOne)
		runtime.Gosched() // the task may still be on its way into queue
	}
}

// exited settles the accounts of a worker whose task called runtime.Goexit,
// which ends the ants worker goroutine without returning from work.
func (p *Pool) exited(task func()) {
	d := activeOne
	if task != nil {
		p.counters.Completed(false)
		d++
	}
	// Hold one pending unit for a possible kicker, so that Shutdown waits for
	// it, and leave first: a kicker that saw this dying worker still active
	// could take it for one that will drain the queue.
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
		p.kick()
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
		return nil
	}
}

// finish subtracts d (active and pending units) from state. When d frees a
// pending slot it wakes a waiting submitter, and closes drained if that was
// the last pending task after Shutdown began.
func (p *Pool) finish(d uint64) {
	s := p.state.Add(-d)
	if d&pendingMask == 0 {
		return
	}
	if p.waiters.Load() > 0 {
		p.mu.Lock()
		p.cond.Signal()
		p.mu.Unlock()
	}
	if s&closedBit != 0 && s&pendingMask == 0 {
		p.drainOnce.Do(func() { close(p.drained) })
	}
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
			if s&pendingMask == 0 {
				p.drainOnce.Do(func() { close(p.drained) })
			}
			break
		}
	}
	// Wake every waiting submitter; each sees closed and returns ErrClosed.
	p.mu.Lock()
	p.cond.Broadcast()
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

// Stats returns a snapshot of the Pool's counters. Running and Queued come
// from the Pool's own accounts, bounded by ants' Running (its live worker
// goroutines, idle ones included until ants reaps them); ants counts no
// tasks, so the counters are kept here: Submitted is counted as a task is
// admitted, before any worker can finish it. Once the Pool is idle or shut
// down, Submitted == Completed and Running == Queued == 0.
func (p *Pool) Stats() executor.Stats {
	s := p.counters.Fill(executor.Stats{Workers: p.workers})
	// Fill reads Completed before Submitted, so Submitted is never below it.
	pending := int64(p.state.Load() & pendingMask)
	queued := min(max(p.queued.Load(), 0), pending)
	s.Queued = int(queued)
	s.Running = int(min(pending-queued, int64(p.ants.Running()), int64(p.workers)))
	return s
}
