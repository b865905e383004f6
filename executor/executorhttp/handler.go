package executorhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// DefaultRetryAfter is the Retry-After a Handler with a zero RetryAfter sends
// with its 503 when the executor is overloaded.
const DefaultRetryAfter = time.Second

// ErrWaitBudget is the error a Handler's Reject receives for a request that
// waited longer than MaxWait for a worker, in Submit and in the queue
// together. It also matches context.DeadlineExceeded (errors.Is), so code
// that treats every deadline alike needs no case for it.
var ErrWaitBudget error = waitBudgetError{}

type waitBudgetError struct{}

func (waitBudgetError) Error() string {
	return "executorhttp: request waited longer than MaxWait for a worker"
}

// Is makes ErrWaitBudget match context.DeadlineExceeded.
func (waitBudgetError) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout reports true, as context.DeadlineExceeded's does.
func (waitBudgetError) Timeout() bool { return true }

// Handler is an http.Handler that serves each request by running Handler on
// Executor, as described in the package documentation. Its fields are read
// on every request and must not change once it serves. A Handler is safe for
// concurrent use; it keeps CoDel's state (see Target), so it must not be
// copied once it serves.
type Handler struct {
	// Executor runs the requests. Nil means no executor: Handler runs on
	// net/http's goroutine as if it were not wrapped.
	//
	// Requests are submitted with executor.SubmitContext and the request's
	// context. An Executor that implements executor.ContextSubmitter waits
	// for room at no extra cost; for any other, SubmitContext's fallback
	// tries TrySubmit if there is one and otherwise submits from a
	// goroutine of its own, per request, since every request from
	// net/http's server has a context that can end.
	Executor executor.Executor

	// Handler serves the requests. Nil means http.NotFoundHandler().
	Handler http.Handler

	// RetryAfter is the delay sent in the Retry-After header, rounded up to
	// whole seconds, when the executor is overloaded or a request ran out
	// of time waiting for a worker. Zero or less means DefaultRetryAfter.
	RetryAfter time.Duration

	// MaxWait is the most a request may wait for a worker, counted from
	// ServeHTTP's start: waiting for room in Submit and waiting in the
	// executor's queue together. A request that cannot start within it is
	// rejected with ErrWaitBudget (by default 503 with Retry-After) and its
	// handler never runs. Zero or less means no bound: a request waits as
	// long as its context lasts.
	//
	// The wait is bounded by a deadline on a context derived from the
	// request's, which costs a timer per request; a Handler with no MaxWait
	// arms none. The queue is also checked at dequeue, as CoDel drops at
	// dequeue: a task that a worker reaches after the budget is dropped
	// without running the handler, even if the timer has not fired yet.
	MaxWait time.Duration

	// Target, if positive, turns on Facebook's CoDel for the wait for a
	// worker (folly::Codel; Ben Maurer, "Fail at Scale", ACM Queue 13(8),
	// 2015): each request's wait is measured when a worker reaches it, and
	// when no request waited less than Target during a whole Interval (a
	// standing queue, not a burst), a request a worker reaches after more
	// than 2*Target is dropped at dequeue, as for MaxWait, until an
	// Interval passes in which some request waited less than Target.
	// Otherwise only MaxWait applies. So a queue that absorbs a burst may
	// hold requests up to MaxWait, and one that stays full serves requests
	// that waited at most about 2*Target. folly's default target is 5 ms.
	// Zero or less means a fixed budget: MaxWait alone, as without CoDel.
	//
	// The check happens only at dequeue: a request still waiting in Submit
	// is not cut short by it (MaxWait's timer, if any, still is), so with
	// a first-in first-out executor the oldest waiters reach a worker first
	// and are dropped there at the cost of a few microseconds each. A
	// request dropped by it gets ErrWaitBudget, like one past MaxWait, and
	// reports executor.Ignored through SubmitSampled. The state costs each
	// request three atomic loads, a compare-and-swap while its wait is the
	// interval's least, and no lock.
	Target time.Duration

	// Interval is CoDel's interval for Target: how long the queue must
	// stay above Target before requests are dropped, and how often the
	// verdict is reviewed. Zero or less means DefaultInterval (100 ms,
	// folly's). A Target of Interval or more counts as Interval (as folly
	// caps its target).
	Interval time.Duration

	// LIFO, if true, makes requests that find the executor full wait on a
	// list of the Handler's own, and gives each freed place to the newest
	// of them while a queue stands (see Target), as Facebook's adaptive
	// LIFO does (Ben Maurer, "Fail at Scale", ACM Queue 13(8), 2015) and
	// Netflix's LifoBlockingLimiter (concurrency-limits) does always: the
	// requests served are the ones that waited least, while the oldest
	// wait until MaxWait or their context ends them, instead of every
	// served request waiting nearly as long as the oldest. With a positive
	// Target the order is first in first out until the queue stands (the
	// oldest waiter has waited more than Target, or CoDel's verdict is
	// overloaded), and newest first while it does; with none it is always
	// newest first. Pair it with MaxWait: without a bound, the oldest
	// waiter of a queue that never empties waits as long as its context
	// lasts.
	//
	// It needs an executor that can try without waiting: one implementing
	// executor.TrySubmitter, or, if it has SubmitSampled, a
	// TrySubmitSampled(func() executor.Outcome) error method
	// (executor/adaptive's). Otherwise LIFO is ignored. A request the
	// executor refuses at once waits on the list, except one: it waits in
	// the executor's SubmitContext, so that the executor, which alone
	// knows when a place frees, admits it then (on Resize growing the
	// bound too); once it is in, it hands its turn to the next waiter in
	// the order. A request that finds room is admitted at once, even past
	// waiters. The executor's own queue (QueueSize) stays first in first
	// out: LIFO orders only the requests it refuses.
	LIFO bool

	// lifo is the waiting room LIFO turns on.
	lifo lifo
	// onListed, if not nil, is called each time a request has joined the
	// LIFO list. Tests set it.
	onListed func()

	// now is the clock: nil means time.Now. Tests set it.
	now func() time.Time

	// codel is the state of the CoDel that Target turns on.
	codel codel

	// Reject, if not nil, writes the response for a request that will not
	// be served, in place of the defaults listed in the package
	// documentation. It runs on net/http's goroutine, before ServeHTTP
	// returns, and owns w like any handler. err is one of:
	//
	//   - an error matching executor.ErrOverloaded (the executor is full);
	//   - an error matching executor.ErrClosed (the executor is shutting down);
	//   - ErrWaitBudget (MaxWait passed before a worker was free);
	//   - the request's context error, when the context ended before the
	//     handler started for a reason other than the client leaving: a
	//     deadline set by an outer middleware (matching
	//     context.DeadlineExceeded), or a cancellation with a cause of its
	//     own (matching that cause, from context.Cause);
	//   - any other error Submit returned.
	//
	// Reject is not called for a request whose client has gone (its context
	// canceled with no other cause, as net/http does when the connection
	// closes): nothing is written for it.
	Reject func(w http.ResponseWriter, r *http.Request, err error)
}

// PanicError is the value ServeHTTP panics with, on net/http's goroutine,
// when the wrapped handler panicked on the executor with any value other
// than http.ErrAbortHandler (which is raised again unchanged). Its Error
// message holds the handler's stack, which net/http's log would otherwise
// lose.
type PanicError struct {
	Value any    // the value the handler panicked with
	Stack []byte // the handler goroutine's stack, from debug.Stack
}

// Error returns the panic value and the handler's stack.
func (p *PanicError) Error() string {
	return fmt.Sprintf("executorhttp: handler panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error, else nil.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// sampledSubmitter is implemented by executors that learn from each task
// how it ended (adaptive.Executor): see call.run for what a request reports.
type sampledSubmitter interface {
	SubmitSampled(ctx context.Context, task func() executor.Outcome) error
}

// The states of a call. Exactly one of the task (pending → running) and
// ServeHTTP (pending → abandoned) wins the compare-and-swap out of pending;
// the winner owns w and r until ServeHTTP returns.
const (
	pending   int32 = iota // accepted, not started; ServeHTTP waits
	running                // the task owns w and r until it sends on done
	abandoned              // ServeHTTP stopped waiting first; the task must touch nothing
)

// Why a task that won the race did not run the handler; ServeHTTP reads it
// after receiving from done and writes the reply.
const (
	served   uint8 = iota // the handler ran (or panicked)
	ctxEnded              // the request's context ended before the start
	overdue               // the task started after startBy: dropped, as CoDel drops at dequeue
)

// call is one request handed to the executor. Calls are recycled through
// calls once ServeHTTP has received from done, so that a request through
// the middleware allocates nothing in the common case.
type call struct {
	task    func()                  // runs c.run, made once per call so Submit gets it without allocating
	sampled func() executor.Outcome // c.run itself, for SubmitSampled
	done    chan struct{}           // capacity 1: the task sends once it has finished with w and r
	next    http.Handler
	w       http.ResponseWriter
	r       *http.Request
	h       *Handler     // for its clock and CoDel, when start is not zero
	start   time.Time    // when ServeHTTP began; zero: neither MaxWait nor Target
	state   atomic.Int32 // pending, running or abandoned; see above

	// Written by the task before it sends on done, read by ServeHTTP after.
	outcome  uint8
	panicked bool
	panicVal any
	stack    []byte
}

// calls recycles calls: the pool, not the data, is shared.
var calls = sync.Pool{New: func() any {
	c := &call{done: make(chan struct{}, 1)}
	c.sampled = c.run
	c.task = func() { c.run() }
	return c
}}

// run is the task submitted to the executor. It reports how the request
// ended: Ignored when it was shed without running the handler; Dropped when
// its context ended (its client left, or a deadline passed) while the
// handler ran, so the work was lost, as Netflix's gRPC interceptor reports
// a canceled or DEADLINE_EXCEEDED call; Succeeded otherwise, a panicking
// handler included, since it did work.
func (c *call) run() (out executor.Outcome) {
	if !c.state.CompareAndSwap(pending, running) {
		// Abandoned: w and r may already be reused by net/http, and c is
		// never recycled, so nothing here is touched again.
		return executor.Ignored
	}
	// Sending is the task's last use of c: ServeHTTP may recycle it at once.
	defer func() { c.done <- struct{}{} }()
	if c.r.Context().Err() != nil {
		c.outcome = ctxEnded
		return executor.Ignored
	}
	if !c.start.IsZero() && c.h.overdue(c.start) {
		c.outcome = overdue
		return executor.Ignored
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		// A nil value means runtime.Goexit (panic(nil) recovers as a
		// *runtime.PanicNilError since Go 1.21), which must proceed.
		if v := recover(); v != nil {
			c.panicked, c.panicVal = true, v
			if v != http.ErrAbortHandler {
				c.stack = debug.Stack()
			}
		}
	}()
	out = executor.Succeeded // set first: a panicking handler did work too
	c.next.ServeHTTP(c.w, c.r)
	returned = true
	if c.r.Context().Err() != nil {
		return executor.Dropped
	}
	return out
}

// recycle clears c and returns it to calls. Only ServeHTTP calls it, once
// the task has sent on done or will never run.
func (c *call) recycle() {
	// Abandoned until reused: should an executor run a task it rejected,
	// breaking its contract, the task finds nothing to touch.
	c.state.Store(abandoned)
	c.next, c.w, c.r, c.h = nil, nil, nil, nil
	c.start = time.Time{}
	c.outcome, c.panicked, c.panicVal, c.stack = served, false, nil, nil
	calls.Put(c)
}

// ServeHTTP submits the request to h.Executor and waits until the wrapped
// handler has finished with it. When the handler will not run (the
// executor refused the request, MaxWait passed, or the request's context
// ended before the start) it writes the response described for Reject, or
// nothing when the client has gone. A panic in the wrapped handler is
// raised again here, unchanged if it is http.ErrAbortHandler and as a
// *PanicError otherwise.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	next := h.Handler
	if next == nil {
		next = http.NotFoundHandler()
	}
	if h.Executor == nil {
		next.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if ctx.Err() != nil {
		h.contextEnded(w, r) // do not spend a task on it
		return
	}
	// wait is what the request waits with: its own context, or one that
	// also ends with the budget. Only a budget costs a timer.
	wait := ctx
	var start time.Time
	if h.MaxWait > 0 || h.Target > 0 {
		start = h.clock()
	}
	if h.MaxWait > 0 {
		var cancel context.CancelFunc
		wait, cancel = context.WithDeadline(ctx, start.Add(h.MaxWait))
		defer cancel()
	}
	c := calls.Get().(*call)
	c.next, c.w, c.r, c.h, c.start = next, w, r, h, start
	c.state.Store(pending)
	if err := h.submit(wait, c); err != nil {
		c.recycle() // a rejected task never runs
		if werr := wait.Err(); werr != nil && errors.Is(err, werr) {
			h.contextEnded(w, r) // gave up waiting for room
			return
		}
		h.reject(w, r, err)
		return
	}
	select {
	case <-c.done:
	case <-wait.Done():
		if c.state.CompareAndSwap(pending, abandoned) {
			// The task has not started and now never will touch w. It
			// still holds c, which is therefore not recycled.
			h.contextEnded(w, r)
			return
		}
		// The task started first and owns w: wait for it, whatever the client does.
		<-c.done
	}
	outcome, panicked, v, stack := c.outcome, c.panicked, c.panicVal, c.stack
	c.recycle()
	switch outcome {
	case ctxEnded:
		h.contextEnded(w, r)
	case overdue:
		h.reject(w, r, ErrWaitBudget)
	}
	if panicked {
		if v == http.ErrAbortHandler {
			panic(http.ErrAbortHandler)
		}
		panic(&PanicError{Value: v, Stack: stack})
	}
}

// clock returns the time now.
func (h *Handler) clock() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

// overdue reports whether a request that started waiting at start, and
// that a worker reaches now, is to be dropped: past MaxWait, or shed by
// CoDel when Target is set. Every wait is fed to CoDel, dropped or not, as
// folly feeds it every dequeued request's.
func (h *Handler) overdue(start time.Time) bool {
	now := h.clock()
	waited := now.Sub(start)
	shed := false
	if h.Target > 0 {
		interval := h.Interval
		if interval <= 0 {
			interval = DefaultInterval
		}
		target := h.Target
		if target > interval {
			target = interval
		}
		shed = h.codel.shed(waited, target, interval, now.UnixNano())
	}
	return shed || (h.MaxWait > 0 && waited > h.MaxWait)
}

// contextEnded replies to a request that stopped waiting before its handler
// started: nothing if its client has gone, ErrWaitBudget if only the budget
// passed, and its context's error otherwise.
func (h *Handler) contextEnded(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := ctx.Err()
	if err == nil {
		h.reject(w, r, ErrWaitBudget)
		return
	}
	cause := context.Cause(ctx)
	if err == context.Canceled && cause == context.Canceled {
		// net/http cancels a request's context, with no cause, when its
		// connection closes: there is nobody to reply to.
		return
	}
	if cause != nil && cause != err {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	h.reject(w, r, err)
}

// reject writes the response for a request that will not be served.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, err error) {
	if h.Reject != nil {
		h.Reject(w, r, err)
		return
	}
	switch {
	case errors.Is(err, executor.ErrOverloaded):
		w.Header().Set("Retry-After", retryAfterSeconds(h.RetryAfter))
		http.Error(w, "503 service unavailable: server overloaded, retry later", http.StatusServiceUnavailable)
	case errors.Is(err, executor.ErrClosed):
		w.Header().Set("Connection", "close")
		http.Error(w, "503 service unavailable: server shutting down", http.StatusServiceUnavailable)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		w.Header().Set("Retry-After", retryAfterSeconds(h.RetryAfter))
		http.Error(w, "503 service unavailable: no worker free in time, retry later", http.StatusServiceUnavailable)
	default:
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
	}
}

// retryAfterSeconds renders d as a Retry-After value: whole seconds, rounded
// up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		d = DefaultRetryAfter
	}
	secs := (d + time.Second - 1) / time.Second
	return strconv.FormatInt(int64(secs), 10)
}
