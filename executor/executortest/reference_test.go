package executortest_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

// bug is one deliberate mistake the reference executor can be built with,
// so that each broken executor differs from a correct one in exactly one
// place. bugNone is the reference itself.
type bug int

const (
	bugNone                bug = iota
	bugNoValidation            // negative Workers taken as GOMAXPROCS
	bugZeroMeansOne            // Workers 0 means 1 worker, not GOMAXPROCS
	bugExtraWorker             // starts Workers+1 workers
	bugMissingWorker           // starts Workers-1 workers
	bugIfNotFor                // waits for room with if, not for, and a full queue drops its oldest task
	bugAcceptNil               // Submit(nil) accepted and handed to a worker
	bugAcceptAfterClose        // Submit after Shutdown returns nil; task never runs
	bugShutdownSkipsQueue      // workers quit on Shutdown, leaving the queue
	bugSubmitIgnoresClose      // a blocked Submit waits for room even after Shutdown
	bugIgnoreCtx               // Shutdown waits for the tasks whatever ctx says
	bugDropQueueOnDeadline     // Shutdown abandons the queue when ctx ends
	bugShutdownTwiceErrs       // a second Shutdown returns ErrClosed
	bugShutdownRacy            // concurrent Shutdowns can close a channel twice
	bugHandlerTwice            // the PanicHandler is called twice per panic
	bugWorkerDiesOnPanic       // a worker exits after its task panicked
	bugQueueOffByOne           // room for only QueueSize-1 queued tasks
	bugNonblockingBlocks       // Config.Nonblocking ignored
	bugRejectedNotCounted      // Stats.Rejected misses ErrClosed
	bugLeak                    // starts a goroutine Shutdown never ends
	bugCtxIgnored              // SubmitContext waits for room whatever ctx says
	bugCtxTaskRuns             // SubmitContext returns ctx's error but queues the task anyway
	bugCtxSwallowsWake         // a SubmitContext that gives up stays in line, and takes a wake-up meant for the next waiter
	bugTryBlocks               // TrySubmit waits for room like Submit
	bugTryEarly                // TrySubmit refuses as soon as every worker is busy, with room in the queue
	bugResizeNoWake            // growing starts no worker and wakes nobody
	bugResizeStale             // Stats.Workers keeps the old bound after Resize
	bugResizeKeepsWorkers      // shrinking retires no worker
	bugResizeAcceptsZero       // Resize(0) and negative sizes return nil, and change nothing

	// bugShutdownSkipsQueueWhenFull is bugShutdownSkipsQueue for the
	// ShutdownRacesSubmit subtest, where Submits race Shutdown and the bug
	// loses tasks only if some are queued at the moment Shutdown marks the
	// pool closed. So that the suite meets the bug every run, not only when
	// Shutdown happens to land on a queued task, Shutdown marks the pool
	// closed only once the pool is full (Workers running or fewer, so at
	// least QueueSize queued): an order that a busy machine, slow to run
	// the Shutdown goroutine, produces anyway. Intake still stops before
	// Shutdown returns, so this wait alone breaks no part of the contract
	// that ShutdownRacesSubmit checks. On a pool that never fills again
	// Shutdown waits forever: use it only where Submits keep coming.
	bugShutdownSkipsQueueWhenFull
)

// refPool is a small, obviously correct executor: one mutex guards all
// state, one condition variable announces every change, and Workers
// goroutines take tasks from a slice.
type refPool struct {
	cfg  executor.Config
	bug  bug
	done chan struct{} // closed by the last worker to exit

	mu      sync.Mutex // guards every field below; nothing else is locked while it is held
	cond    *sync.Cond // on mu; broadcast on every change of queue, running, live, limit or closed
	queue   []func()
	running int
	live    int // workers that have not exited
	limit   int // the bound on tasks running at once: cfg.Workers, or the last Resize

	closed bool
	// wakes is for bugCtxSwallowsWake: a FIFO of waiters, each woken alone
	// when a task finishes, as a careless hand-written semaphore does.
	wakes []chan struct{}

	counters backend.Counters
	leak     chan struct{} // bugLeak: never closed
	shutOnce bool          // bugShutdownRacy: read and written without mu, on purpose
}

var (
	_ executor.StatsReporter    = (*refPool)(nil)
	_ executor.ContextSubmitter = (*refPool)(nil)
	_ executor.TrySubmitter     = (*refPool)(nil)
	_ executor.Resizer          = (*refPool)(nil)
)

func newRef(cfg executor.Config) (executor.Executor, error) { return newBuggy(cfg, bugNone) }

func newBuggy(cfg executor.Config, b bug) (executor.Executor, error) {
	if b == bugNoValidation && cfg.Workers < 0 {
		cfg.Workers = 0
	}
	if b == bugZeroMeansOne && cfg.Workers == 0 {
		cfg.Workers = 1
	}
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, fmt.Errorf("refpool: %w", err)
	}
	p := &refPool{cfg: cfg, bug: b, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	n := cfg.Workers
	switch {
	case b == bugExtraWorker:
		n++
	case b == bugMissingWorker && n > 1:
		n--
	}
	p.live = n
	p.limit = n
	for i := 0; i < n; i++ {
		go p.work()
	}
	if b == bugLeak {
		p.leak = make(chan struct{})
		go func() { <-p.leak }()
	}
	return p, nil
}

func (p *refPool) work() {
	p.mu.Lock()
	for {
		for len(p.queue) == 0 && !p.closed && !p.retired() {
			p.cond.Wait()
		}
		if p.retired() {
			break // Resize shrank the pool: this worker leaves, its task done
		}
		if len(p.queue) == 0 || (p.skipsQueue() && p.closed) {
			break // closed and drained
		}
		task := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.running++
		p.mu.Unlock()

		if p.run(task) && p.bug == bugWorkerDiesOnPanic {
			break
		}
	}
	p.live--
	if p.live == 0 {
		close(p.done)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

// run runs task on a worker, with p.mu not held, and returns with p.mu held
// and the task accounted for, reporting whether it panicked. It returns
// only if neither the task nor the PanicHandler called runtime.Goexit; if
// one did, this goroutine is ending, and run starts another worker in its
// place.
func (p *refPool) run(task func()) (panicked bool) {
	returned := false
	onPanic := func(v any) {
		panicked = true // before the handler, which may call runtime.Goexit
		p.cfg.PanicHandler(v)
		if p.bug == bugHandlerTwice {
			p.cfg.PanicHandler(v)
		}
	}
	defer func() {
		p.mu.Lock()
		p.counters.Completed(panicked)
		p.running--
		p.cond.Broadcast()
		p.wakeOne()
		if !returned {
			go p.work()
			p.mu.Unlock()
		}
	}()
	backend.RunTask(task, onPanic)
	returned = true
	return panicked
}

// retired reports whether this worker must leave because Resize lowered
// the bound below the workers alive; p.mu is held.
func (p *refPool) retired() bool {
	return p.live > p.limit && p.bug != bugResizeKeepsWorkers
}

// wakeOne wakes the first waiter of bugCtxSwallowsWake; p.mu is held.
func (p *refPool) wakeOne() {
	if len(p.wakes) > 0 {
		close(p.wakes[0])
		p.wakes = p.wakes[1:]
	}
}

// skipsQueue reports whether the workers quit on Shutdown, leaving the
// queue.
func (p *refPool) skipsQueue() bool {
	return p.bug == bugShutdownSkipsQueue || p.bug == bugShutdownSkipsQueueWhenFull
}

// full reports whether there is no room for another task; p.mu is held.
func (p *refPool) full() bool {
	room := p.limit + p.cfg.QueueSize
	if p.bug == bugQueueOffByOne && p.cfg.QueueSize > 0 {
		room--
	}
	return p.running+len(p.queue) >= room
}

func (p *refPool) Submit(task func()) error {
	return p.submit(context.Background(), task, p.cfg.Nonblocking)
}

func (p *refPool) SubmitContext(ctx context.Context, task func()) error {
	return p.submit(ctx, task, p.cfg.Nonblocking)
}

func (p *refPool) TrySubmit(task func()) error {
	return p.submit(context.Background(), task, p.bug != bugTryBlocks)
}

// submit is every Submit: it waits for room unless try, giving up when ctx
// is done.
func (p *refPool) submit(ctx context.Context, task func(), try bool) error {
	if task == nil && p.bug != bugAcceptNil {
		return fmt.Errorf("refpool: %w", executor.ErrNilTask)
	}
	if p.bug == bugCtxIgnored {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil && p.bug != bugCtxTaskRuns {
		p.counters.Rejected()
		return fmt.Errorf("refpool: %w", err)
	}
	if ctx.Done() != nil {
		// Wake the waiters when ctx ends, so this one sees it. The reference
		// may spend a goroutine on it; backends must not.
		stop := context.AfterFunc(ctx, func() {
			p.mu.Lock()
			p.cond.Broadcast()
			p.mu.Unlock()
		})
		defer stop()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed && p.bug == bugAcceptAfterClose {
		p.counters.Submitted()
		return nil
	}
	for !p.closed || p.bug == bugSubmitIgnoresClose {
		if !p.full() && !(try && p.bug == bugTryEarly && p.running >= p.limit) {
			break
		}
		if try && p.bug != bugNonblockingBlocks {
			p.counters.Rejected()
			return fmt.Errorf("refpool: %w", executor.ErrOverloaded)
		}
		if err := ctx.Err(); err != nil {
			if p.bug == bugCtxTaskRuns {
				p.queue = append(p.queue, task)
				p.counters.Submitted()
			}
			p.counters.Rejected()
			return fmt.Errorf("refpool: %w", err)
		}
		if p.bug == bugCtxSwallowsWake && ctx.Done() != nil {
			if err := p.waitTurn(ctx); err != nil {
				p.counters.Rejected()
				return fmt.Errorf("refpool: %w", err)
			}
			continue
		}
		p.cond.Wait()
		if p.bug == bugIfNotFor {
			// The classic mistake: the room seen by the Broadcast may be
			// taken by another woken Submit before this one runs.
			break
		}
	}
	if p.closed {
		if p.bug != bugRejectedNotCounted {
			p.counters.Rejected()
		}
		return fmt.Errorf("refpool: %w", executor.ErrClosed)
	}
	if p.bug == bugIfNotFor && p.full() && len(p.queue) > 0 {
		// A bounded ring overwrites its oldest entry.
		p.queue = p.queue[1:]
	}
	p.queue = append(p.queue, task)
	p.counters.Submitted()
	p.cond.Broadcast()
	return nil
}

// waitTurn is bugCtxSwallowsWake's wait: in line for one wake-up, which a
// waiter that gives up takes with it instead of passing it on. p.mu is held.
func (p *refPool) waitTurn(ctx context.Context) error {
	ch := make(chan struct{})
	p.wakes = append(p.wakes, ch)
	p.mu.Unlock()
	select {
	case <-ch:
		p.mu.Lock()
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		// The bug: leave without taking ch out of the line, so the next
		// wake-up goes to nobody.
		return ctx.Err()
	}
}

func (p *refPool) Resize(workers int) error {
	if workers < 1 && p.bug == bugResizeAcceptsZero {
		return nil
	}
	if err := backend.CheckResize(workers, p.cfg.QueueSize); err != nil {
		return fmt.Errorf("refpool: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("refpool: %w", executor.ErrClosed)
	}
	p.limit = workers
	if p.bug == bugResizeNoWake {
		return nil
	}
	for ; p.live < p.limit; p.live++ {
		go p.work()
	}
	p.cond.Broadcast()
	for range p.wakes {
		p.wakeOne()
	}
	return nil
}

func (p *refPool) Shutdown(ctx context.Context) (err error) {
	// bugShutdownRacy: the classic mistake, a flag read with no lock before
	// the drain and set after it, guarding a close: calls that overlap the
	// drain all see it unset.
	racyFirst := p.bug == bugShutdownRacy && !p.shutOnce
	defer func() {
		if racyFirst && err == nil {
			p.shutOnce = true
			close(p.leakOrMake())
		}
	}()
	p.mu.Lock()
	again := p.closed
	if !p.closed {
		for p.bug == bugShutdownSkipsQueueWhenFull && !p.full() {
			p.cond.Wait()
		}
		p.closed = true
		p.cond.Broadcast()
	}
	p.mu.Unlock()
	if again && p.bug == bugShutdownTwiceErrs {
		return fmt.Errorf("refpool: %w", executor.ErrClosed)
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	if p.bug == bugIgnoreCtx {
		<-p.done
		return nil
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		if p.bug == bugDropQueueOnDeadline {
			p.mu.Lock()
			p.queue = nil
			p.cond.Broadcast()
			p.mu.Unlock()
		}
		return ctx.Err()
	}
}

// leakOrMake returns the channel bugShutdownRacy closes, made on first use.
func (p *refPool) leakOrMake() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leak == nil {
		p.leak = make(chan struct{})
	}
	return p.leak
}

func (p *refPool) Stats() executor.Stats {
	p.mu.Lock()
	workers := p.limit
	if p.bug == bugResizeStale {
		workers = p.cfg.Workers
	}
	s := executor.Stats{Workers: workers, Running: p.running, Queued: len(p.queue)}
	p.mu.Unlock()
	return p.counters.Fill(s)
}
