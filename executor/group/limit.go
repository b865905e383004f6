package group

import (
	"context"
	"sync"
	"sync/atomic"
)

// limitedBit marks limiter.state while there is a limit; the bits below it
// count the outstanding slots.
const limitedBit = 1 << 62

// limiter bounds a group's outstanding tasks. Unlike a buffered channel used
// as a semaphore (errgroup's), its bound can change while tasks are
// outstanding: they count against the new bound, and raising it wakes
// waiters at once. Waiters are served in arrival order.
//
// Every slot is counted, limit or not, so that a limit set later counts the
// tasks already outstanding. The count and whether there is a limit share
// one word, state, so that taking or giving back a slot is one atomic add
// whose result says whether a limit was on at that very moment. With no
// limit (the usual case, and a hot one: the submitting goroutine and the
// tasks run on different CPUs) that add is all: no lock. Under a limit,
// slots are taken under mu, which compares the count with the limit, and a
// release takes mu to hand its slot to the oldest waiter. There are waiters
// only while limitedBit is set (SetLimit sets it under mu before anyone can
// wait, and wakes every waiter when it clears it), so a release whose add
// found no limit had no waiter to wake, and one that found a limit wakes
// under mu any waiter that read the count before the add.
//
// The zero limiter has no limit.
type limiter struct {
	state atomic.Int64 // limitedBit if there is a limit, plus the outstanding slots

	// mu guards limit and waiters, and every slot taken under a limit; it
	// is never held while calling out, so it cannot take part in a
	// deadlock.
	mu      sync.Mutex
	limit   int             // most outstanding slots, while limitedBit is set
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
		l.state.Add(1)
	}
	l.mu.Unlock()
	return ok
}

// acquireUnlimited takes a slot, without the lock, if there is no limit,
// and reports whether it did; if not, the caller asks under the lock.
func (l *limiter) acquireUnlimited() bool {
	if l.state.Load()&limitedBit != 0 {
		return false
	}
	if l.state.Add(1)&limitedBit == 0 {
		return true
	}
	// SetLimit set a limit since the load: give the slot back (waking a
	// waiter it may have kept out) so that the caller asks under the lock.
	l.release()
	return false
}

// freeLocked reports whether a new slot may be taken: no limit, or fewer
// outstanding than the limit and nobody waiting for one (a release lowers
// the count before it takes mu to hand its slot to the oldest waiter, and a
// new caller must not take that slot first). l.mu must be held.
func (l *limiter) freeLocked() bool {
	s := l.state.Load()
	return s&limitedBit == 0 || (len(l.waiters) == 0 && s&^limitedBit < int64(l.limit))
}

// acquire takes a slot, waiting for one until ctx is done; it then returns
// ctx.Err() and holds no slot.
func (l *limiter) acquire(ctx context.Context) error {
	if l.acquireUnlimited() {
		return nil
	}
	l.mu.Lock()
	if l.freeLocked() {
		l.state.Add(1)
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
	if l.state.Add(-1)&limitedBit != 0 {
		l.mu.Lock()
		l.wakeLocked()
		l.mu.Unlock()
	}
}

// setLimit changes the bound, n < 0 meaning none; tasks already outstanding
// count against it.
func (l *limiter) setLimit(n int) {
	l.mu.Lock()
	l.limit = n
	for {
		s := l.state.Load()
		t := s &^ limitedBit
		if n >= 0 {
			t |= limitedBit
		}
		if l.state.CompareAndSwap(s, t) {
			break
		}
	}
	l.wakeLocked()
	l.mu.Unlock()
}

// outstanding returns the number of slots taken and not given back.
func (l *limiter) outstanding() int64 {
	return l.state.Load() &^ limitedBit
}

// wakeLocked hands free slots to waiters, oldest first. l.mu must be held.
func (l *limiter) wakeLocked() {
	for len(l.waiters) > 0 {
		if s := l.state.Load(); s&limitedBit != 0 && s&^limitedBit >= int64(l.limit) {
			return
		}
		l.state.Add(1)
		close(l.waiters[0])
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
	}
}
