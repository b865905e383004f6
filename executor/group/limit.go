package group

import (
	"context"
	"sync"
)

// limiter bounds a group's outstanding tasks. Unlike a buffered channel used
// as a semaphore (errgroup's), its bound can change while tasks are
// outstanding: they count against the new bound, and raising it wakes
// waiters at once. Waiters are served in arrival order.
type limiter struct {
	// mu guards every field; it is never held while calling out, so it
	// cannot take part in a deadlock.
	mu      sync.Mutex
	limit   int             // most outstanding tasks; negative: no limit
	out     int             // outstanding tasks: acquired and not released
	waiters []chan struct{} // FIFO; a waiter's channel is closed when it is handed a slot
}

// tryAcquire takes a slot if one is free, without waiting.
func (l *limiter) tryAcquire() bool {
	l.mu.Lock()
	ok := l.limit < 0 || l.out < l.limit
	if ok {
		l.out++
	}
	l.mu.Unlock()
	return ok
}

// acquire takes a slot, waiting for one until ctx is done; it then returns
// ctx.Err() and holds no slot.
func (l *limiter) acquire(ctx context.Context) error {
	l.mu.Lock()
	if l.limit < 0 || l.out < l.limit {
		l.out++
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

// release gives back a slot and hands free slots to waiters in order.
func (l *limiter) release() {
	l.mu.Lock()
	l.out--
	l.wakeLocked()
	l.mu.Unlock()
}

// setLimit changes the bound; tasks already outstanding count against it.
func (l *limiter) setLimit(n int) {
	l.mu.Lock()
	if n < 0 {
		n = -1
	}
	l.limit = n
	l.wakeLocked()
	l.mu.Unlock()
}

// wakeLocked hands free slots to waiters, oldest first. l.mu must be held.
func (l *limiter) wakeLocked() {
	for len(l.waiters) > 0 && (l.limit < 0 || l.out < l.limit) {
		l.out++
		close(l.waiters[0])
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
	}
}
