package group

import (
	"context"
	"sync"
	"sync/atomic"
)

// limiter bounds a group's outstanding tasks. Unlike a buffered channel used
// as a semaphore (errgroup's), its bound can change while tasks are
// outstanding: they count against the new bound, and raising it wakes
// waiters at once. Waiters are served in arrival order.
//
// Every slot is counted in out, limit or not, so that a limit set later
// counts the tasks already outstanding. With no limit (the usual case, and
// a fast one: the submitter and the tasks are on different goroutines, and
// on different CPUs) taking and giving back a slot is one atomic add and
// loads of limited, with no lock: only a limit makes them take mu, to
// compare out with it and to hand slots to waiters.
//
// A slot taken without the lock races with SetLimit turning the limit on:
// SetLimit stores limited and then reads out (under mu, in wakeLocked and in
// later acquires), the fast path adds to out and then loads limited again,
// and those atomics are sequentially consistent, so either SetLimit's read
// sees the slot or the fast path sees the limit, gives the slot back and
// asks again under mu. Likewise a release without the lock adds to out and
// then loads limited, while a waiter reads out under mu after limited was
// stored: either the waiter sees the slot free, or the release sees the
// limit and wakes it.
//
// The zero limiter has no limit.
type limiter struct {
	out     atomic.Int64 // outstanding slots: acquired and not released
	limited atomic.Bool  // there is a limit; stored under mu

	// mu guards limit and waiters, and every change of out made when
	// limited; it is never held while calling out, so it cannot take part
	// in a deadlock.
	mu      sync.Mutex
	limit   int             // most outstanding slots, if limited
	waiters []chan struct{} // FIFO; a waiter's channel is closed when it is handed a slot
}

// tryAcquire takes a slot if one is free, without waiting.
func (l *limiter) tryAcquire() bool {
	if l.acquireUnlimited() {
		return true
	}
	l.mu.Lock()
	ok := l.freeLocked()
	if ok {
		l.out.Add(1)
	}
	l.mu.Unlock()
	return ok
}

// acquireUnlimited takes a slot without the lock if there is no limit, and
// reports whether it did; if not, the caller asks under the lock.
func (l *limiter) acquireUnlimited() bool {
	if l.limited.Load() {
		return false
	}
	l.out.Add(1)
	if !l.limited.Load() {
		return true
	}
	// SetLimit turned the limit on meanwhile and may not have counted
	// this slot: give it back, so that the caller asks under the lock.
	l.release()
	return false
}

// freeLocked reports whether a new slot may be taken: no limit, or fewer
// outstanding than the limit and nobody waiting for one (a release lowers
// out before it takes mu to hand its slot to the oldest waiter, and a new
// caller must not take that slot first). l.mu must be held.
func (l *limiter) freeLocked() bool {
	return !l.limited.Load() || (len(l.waiters) == 0 && l.out.Load() < int64(l.limit))
}

// acquire takes a slot, waiting for one until ctx is done; it then returns
// ctx.Err() and holds no slot.
func (l *limiter) acquire(ctx context.Context) error {
	if l.acquireUnlimited() {
		return nil
	}
	l.mu.Lock()
	if l.freeLocked() {
		l.out.Add(1)
		l.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	l.waiters = append(l.waiters, ready)
	l.mu.Unlock()

	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		for i, w := range l.waiters {
			if w == ready {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				l.mu.Unlock()
				return ctx.Err()
			}
		}
		l.mu.Unlock()
		// A releaser handed this waiter a slot as ctx ended: pass it on,
		// so that giving up never strands a slot.
		l.release()
		return ctx.Err()
	}
}

// release gives back a slot and, under a limit, hands free slots to
// waiters in order.
func (l *limiter) release() {
	l.out.Add(-1)
	if l.limited.Load() {
		l.mu.Lock()
		l.wakeLocked()
		l.mu.Unlock()
	}
}

// setLimit changes the bound; tasks already outstanding count against it.
func (l *limiter) setLimit(n int) {
	l.mu.Lock()
	l.limit = n
	l.limited.Store(n >= 0)
	l.wakeLocked()
	l.mu.Unlock()
}

// wakeLocked hands free slots to waiters, oldest first. l.mu must be held.
func (l *limiter) wakeLocked() {
	for len(l.waiters) > 0 && (!l.limited.Load() || l.out.Load() < int64(l.limit)) {
		l.out.Add(1)
		close(l.waiters[0])
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
	}
}
