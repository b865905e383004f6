package pondpool

import (
	"context"

	"github.com/swapexec/swapexec/executor"
)

// Admission. pond's Go cannot stop waiting for one caller (its only way out
// is the pool's context, which would end every wait), so the Pool admits
// tasks itself and gives pond only tasks it has admitted, which pond then
// never refuses (see New). Everything admission needs is one word, state, so
// that a Submit, a finishing task, Resize and Shutdown each see the others
// in a single order:
//
//	bits  0..22  taken: tasks admitted and not finished (queued or running)
//	bits 23..45  capacity: Workers+QueueSize, changed by Resize
//	bit  46      waitingBit: the waiter list is not empty
//	bit  47      closedBit: Shutdown has begun; taken never grows again
//	bit  48      behindBit: pond's bound is below Workers (see resize.go)
//
// A Submit admits its task with one CompareAndSwap that adds 1 to taken
// while taken < capacity and no bit is set; a finishing task subtracts 1 with
// one Add, and looks at the bits in the result to see whether it has more to
// do (wake a waiter, finish Shutdown, raise pond's bound). Anything else
// takes the slow path, under mu.
//
// Waiting is x/sync/semaphore's: a FIFO list of waiters, each with its own
// channel, and a finishing task hands its room to the first waiter. While
// anyone waits, Submit does not take room ahead of them (TrySubmit does: it
// never waits, and rejects only when the Pool is full). A waiter whose ctx
// ends leaves the list and holds no room.
const (
	countBits  = 23 // taken and capacity: 0..executor.MaxCapacity
	countMask  = 1<<countBits - 1
	capShift   = countBits
	waitingBit = 1 << (2 * countBits)
	closedBit  = waitingBit << 1
	behindBit  = closedBit << 1
)

// A compile-time check that executor.MaxCapacity fits in countBits: the
// constant overflows uint (an error) if it does not.
const _ = uint(countMask - executor.MaxCapacity)

// taken is the number of tasks admitted and not finished in state s.
func taken(s uint64) int { return int(s & countMask) }

// capacity is Workers+QueueSize in state s.
func capacity(s uint64) int { return int(s >> capShift & countMask) }

// waiter is one Submit waiting for room.
type waiter struct {
	ready      chan struct{} // buffered (1): the one send that ends the wait, made under mu
	prev, next *waiter       // the list, under mu
	queued     bool          // in the list; under mu
	granted    bool          // room was taken for it (else Shutdown ended the wait); written under mu before the send
}

// admitSlow admits one task when Submit's fast path could not: it takes
// room when there is some and nobody waits (or try is set), and otherwise
// returns ErrClosed, ErrOverloaded if try is set, or waits for room, ctx's
// Done (done; nil for Submit) or Shutdown. A nil error means the caller
// holds one unit of taken and must hand its task to pond. Every error is
// counted in Rejected.
func (p *Pool) admitSlow(ctx context.Context, done <-chan struct{}, try bool) error {
	p.mu.Lock()
	if p.state.Load()&behindBit != 0 {
		p.catchUpLocked()
	}
	for {
		s := p.state.Load()
		if s&closedBit != 0 {
			p.mu.Unlock()
			p.rejected.Add(1)
			return errClosed
		}
		if taken(s) < capacity(s) && (try || p.head == nil) {
			if !p.state.CompareAndSwap(s, s+1) {
				continue
			}
			p.mu.Unlock()
			return nil
		}
		if try {
			p.mu.Unlock()
			p.rejected.Add(1)
			return errOverloaded
		}
		// Setting the bit in a CompareAndSwap against the state that showed
		// no room orders this wait with every finishing task: one that
		// finishes after it sees the bit and takes mu to wake a waiter.
		if s&waitingBit != 0 || p.state.CompareAndSwap(s, s|waitingBit) {
			break
		}
	}
	w := p.waiters.Get().(*waiter)
	w.queued = true
	w.prev = p.tail
	if p.tail == nil {
		p.head = w
	} else {
		p.tail.next = w
	}
	p.tail = w
	p.mu.Unlock()

	select {
	case <-w.ready:
	case <-done:
		p.mu.Lock()
		if w.queued {
			p.unlinkLocked(w)
			p.mu.Unlock()
			p.waiters.Put(w)
			p.rejected.Add(1)
			return ctx.Err()
		}
		p.mu.Unlock()
		<-w.ready // sent under mu, before queued was cleared
		if w.granted {
			// Room came as ctx ended. As x/sync/semaphore does, the
			// caller's ctx wins: give the room to the next waiter.
			w.granted = false
			p.release()
		}
		p.waiters.Put(w)
		p.rejected.Add(1)
		return ctx.Err()
	}
	granted := w.granted
	w.granted = false
	p.waiters.Put(w)
	if !granted {
		p.rejected.Add(1)
		return errClosed
	}
	return nil
}

// unlinkLocked takes w out of the waiter list, and clears waitingBit when
// the list is left empty. Called with mu held.
func (p *Pool) unlinkLocked(w *waiter) {
	if w.prev == nil {
		p.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		p.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	if p.head == nil {
		p.setBitLocked(waitingBit, false)
	}
}

// setBitLocked sets or clears bit in state. Called with mu held, which every
// change of these bits takes; the CompareAndSwap loop keeps the changes
// that Submits and finishing tasks make to taken meanwhile.
func (p *Pool) setBitLocked(bit uint64, on bool) {
	for {
		s := p.state.Load()
		n := s &^ bit
		if on {
			n = s | bit
		}
		if n == s || p.state.CompareAndSwap(s, n) {
			return
		}
	}
}

// grantLocked takes room for waiters, first come first served, while there
// is room and the Pool is not closed, and wakes each. Called with mu held.
func (p *Pool) grantLocked() {
	for p.head != nil {
		s := p.state.Load()
		if s&closedBit != 0 || taken(s) >= capacity(s) {
			return
		}
		if !p.state.CompareAndSwap(s, s+1) {
			continue
		}
		w := p.head
		p.unlinkLocked(w)
		w.granted = true
		w.ready <- struct{}{} // never blocks: one send per wait into a buffer of 1
	}
}

// release frees the room an admitted task held: when the task finished, or
// when its admission is undone. Usually one Add; the bits in its result say
// whether a waiter is to be woken, Shutdown finished, or pond's bound raised.
func (p *Pool) release() {
	if s := p.state.Add(^uint64(0)); s&(waitingBit|closedBit|behindBit) != 0 {
		p.released(s)
	}
}

// released is release's slow path; s is the state just after the release.
func (p *Pool) released(s uint64) {
	if s&closedBit != 0 {
		// taken reaches 0 once after closedBit is set (it never grows
		// again), here or in close, so finish runs once.
		if taken(s) == 0 {
			p.finish()
		}
		return
	}
	p.mu.Lock()
	if p.state.Load()&behindBit != 0 {
		p.catchUpLocked()
	}
	p.grantLocked()
	p.mu.Unlock()
}

// close begins Shutdown: it sets closedBit, so that nothing is admitted
// again, ends every wait with ErrClosed, and finishes at once if no admitted
// task is left. It runs once, from Shutdown.
func (p *Pool) close() {
	p.mu.Lock()
	var s uint64
	for {
		s = p.state.Load()
		if p.state.CompareAndSwap(s, (s|closedBit)&^waitingBit) {
			break
		}
	}
	for w := p.head; w != nil; {
		next := w.next
		w.prev, w.next, w.queued = nil, nil, false
		w.ready <- struct{}{} // granted stays false: the wait ends with ErrClosed
		w = next
	}
	p.head, p.tail = nil, nil
	p.mu.Unlock()
	if taken(s) == 0 {
		p.finish()
	}
}
