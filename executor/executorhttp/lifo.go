package executorhttp

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// sampledTrySubmitter is implemented by executors that learn from each
// task how it ended and can also try once (adaptive.Executor).
type sampledTrySubmitter interface {
	TrySubmitSampled(task func() executor.Outcome) error
}

// lifo is the waiting room of a Handler with LIFO set: the adaptive LIFO
// of Facebook's servers (Ben Maurer, "Fail at Scale", ACM Queue 13(8),
// 2015: "during normal operating conditions requests are processed in FIFO
// order, but when a queue is starting to form, the server switches to LIFO
// mode") in the shape of Netflix's LifoBlockingLimiter
// (concurrency-limits, com.netflix.concurrency.limits.limiter): a request
// the executor refuses at once waits in a backlog of the middleware's own,
// bounded by its MaxWait and its context, and a freed place goes to the
// newest waiter.
//
// The executor, not this list, knows when a place frees, and it does not
// say so: a task's function returns before the executor counts its worker
// free, so a waiter woken by a finishing task could try too early, fail,
// and sleep while room exists. So exactly one waiter, the doorman, waits
// inside the executor's own SubmitContext, whose promise is to admit it as
// soon as there is room (and on Resize growing the bound); every other
// waiter sleeps on this list, which is never non-empty without a doorman.
// A doorman that leaves, admitted or not, hands the door to the waiter the
// order picks, under mu: no wake-up is lost, and while the doorman is
// inside Submit, a backend such as chanpool counts it, so newcomers' tries
// do not take the place it waits for. A newcomer may still take a place
// between two doormen, as Netflix's limiter lets a newcomer take a token
// before the backlog's head: it is served at once, which is what the
// order is for.
//
// A waiter whose context ends while listed unlinks itself; one that was
// picked meanwhile has a token in turn, and hands the door on at once.
type lifo struct {
	mu sync.Mutex
	// door is true while a doorman waits in (or is on its way to) the
	// executor's SubmitContext.
	door bool
	// head is the oldest waiter, tail the newest; nil when none waits.
	head, tail *waiter
}

// waiter is one request on the list.
type waiter struct {
	prev, next *waiter
	since      time.Time     // when it was listed
	turn       chan struct{} // capacity 1: a token makes it the doorman
	listed     bool          // guarded by lifo.mu
}

// waiters recycles waiters; a waiter is put back only with turn empty.
var waiters = sync.Pool{New: func() any { return &waiter{turn: make(chan struct{}, 1)} }}

// trySubmit tries c once. ok is false when the executor cannot try
// without waiting (it implements neither TrySubmitter, nor, for one with
// SubmitSampled, TrySubmitSampled): the caller then waits as without LIFO.
func (h *Handler) trySubmit(c *call) (err error, ok bool) {
	if _, sampled := h.Executor.(sampledSubmitter); sampled {
		ts, ok := h.Executor.(sampledTrySubmitter)
		if !ok {
			return nil, false
		}
		return ts.TrySubmitSampled(c.sampled), true
	}
	ts, ok := h.Executor.(executor.TrySubmitter)
	if !ok {
		return nil, false
	}
	return ts.TrySubmit(c.task), true
}

// submitWait submits c, waiting for room as long as wait lasts.
func (h *Handler) submitWait(wait context.Context, c *call) error {
	if s, ok := h.Executor.(sampledSubmitter); ok {
		return s.SubmitSampled(wait, c.sampled)
	}
	return executor.SubmitContext(wait, h.Executor, c.task)
}

// submit hands c to the executor, through the LIFO waiting room when
// LIFO is set and the executor can try once. Its errors are
// submitWait's; a wait that ends returns an error matching wait.Err().
func (h *Handler) submit(wait context.Context, c *call) error {
	if !h.LIFO {
		return h.submitWait(wait, c)
	}
	err, ok := h.trySubmit(c)
	if !ok {
		return h.submitWait(wait, c)
	}
	if err == nil || !errors.Is(err, executor.ErrOverloaded) {
		return err
	}
	q := &h.lifo
	now := h.clock()
	q.mu.Lock()
	if !q.door {
		q.door = true
		q.mu.Unlock()
		return h.atDoor(wait, c)
	}
	w := waiters.Get().(*waiter)
	w.since, w.listed = now, true
	w.prev, w.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.mu.Unlock()
	if h.onListed != nil {
		h.onListed()
	}
	select {
	case <-w.turn:
		waiters.Put(w)
		return h.atDoor(wait, c)
	case <-wait.Done():
	}
	q.mu.Lock()
	listed := w.listed
	if listed {
		q.unlink(w)
	}
	q.mu.Unlock()
	if !listed {
		// Picked as it gave up: the door is its to pass on.
		<-w.turn
		h.passDoor()
	}
	waiters.Put(w)
	return wait.Err()
}

// atDoor waits in the executor's SubmitContext as the doorman, then hands
// the door on, whether c was admitted or not.
func (h *Handler) atDoor(wait context.Context, c *call) error {
	err := h.submitWait(wait, c)
	h.passDoor()
	return err
}

// passDoor makes the waiter the order picks the doorman, or leaves the
// door free when none waits. The newest waiter is picked when Target is
// zero (always LIFO, as Netflix's limiter), or, with a Target, while the
// queue stands: CoDel's verdict is overloaded, or the oldest waiter has
// waited longer than Target. Otherwise the oldest is, first in first out.
//
// The oldest waiter's age is part of the rule because CoDel alone cannot
// hold LIFO: the requests served newest first waited little, which CoDel
// reads as a queue that drains, so on its verdict alone the order would
// turn back to FIFO every other interval, and the served requests' waits
// climb again. While requests keep arriving faster than they are served,
// the oldest waiter ages until MaxWait or its client ends its wait, and
// the order stays LIFO.
func (h *Handler) passDoor() {
	q := &h.lifo
	now := h.clock()
	q.mu.Lock()
	w := q.tail
	if w != nil && h.Target > 0 && !h.codel.overloaded.Load() && now.Sub(q.head.since) <= h.Target {
		w = q.head
	}
	if w == nil {
		q.door = false
	} else {
		q.unlink(w)
	}
	q.mu.Unlock()
	if w != nil {
		w.turn <- struct{}{}
	}
}

// unlink takes w off the list. q.mu must be held and w listed.
func (q *lifo) unlink(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next, w.listed = nil, nil, false
}
