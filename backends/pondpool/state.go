package pondpool

import (
	"context"

	"github.com/swapexec/swapexec/executor"
)

// Admission. pond's Go cannot stop waiting for one caller (its only way out
// is the pool's context, which would end every wait), so the Pool admits
// tasks itself and gives pond only tasks it has admitted, which pond then
// never refuses (see New).
//
// Submits and finishing tasks write separate words, so that a task that
// finishes on one core does not take from a Submit on another the cache
// line that Submit writes next:
//
//   - in, written by Submit: bits 0..39 count the tasks admitted, ever
//     (modulo 1<<40); bits 40..62 hold the capacity, Workers+QueueSize
//     (Resize changes it); bit 63 is set once Shutdown has begun, after
//     which in never changes again. A Submit admits its task with one
//     CompareAndSwap of in.
//   - out, written by each finishing task: the tasks finished, ever. The
//     tasks admitted and not finished (queued or running), taken, are in's
//     count minus out; a task is admitted only while taken is below the
//     capacity (after a Resize down taken may exceed it until tasks finish).
//   - outSeen, beside in: a value out had lately. Submit reckons taken
//     from it, which can only overstate taken; only when that shows no room
//     does Submit read out itself, so a Pool with room costs a Submit no read
//     of a line that finishing tasks write.
//   - flags, written only under mu and rarely: waiting (the waiter list is
//     not empty) and closing (Shutdown has begun). A finishing task reads
//     it after adding to out, and has nothing more to do while it is 0.
//
// A finishing task and a Submit about to wait each write one word and then
// read the other's (out, then flags; flags, then out): with Go's
// sequentially consistent atomics at least one sees the other, so either the
// Submit sees the room or the task sees the waiter and wakes it. Shutdown
// and the last finishing task meet the same way over closing and out.
//
// Waiting is x/sync/semaphore's: a FIFO list of waiters, each with its own
// channel, and a finishing task hands its room to the first waiter. While
// anyone waits, Submit does not take room ahead of them (TrySubmit does: it
// never waits, and rejects only when the Pool is full). A waiter whose ctx
// ends leaves the list and holds no room.
const (
	countBits = 40
	countMask = 1<<countBits - 1
	capShift  = countBits
	capMask   = 1<<23 - 1 // holds 0..executor.MaxCapacity
	closedBit = 1 << 63
)

// Bits of flags.
const (
	waitingFlag = 1 << iota
	closingFlag
)

// A compile-time check that executor.MaxCapacity fits in capMask: the
// constant overflows uint (an error) if it does not.
const _ = uint(capMask - executor.MaxCapacity)

// taken is the number of tasks admitted and not finished, given in and a
// value out had no later than in was read (so out never exceeds in's count).
func taken(in, out uint64) int { return int((in - out) & countMask) }

// capacity is Workers+QueueSize in in.
func capacity(in uint64) int { return int(in >> capShift & capMask) }

// admitResult is what tryAdmit found.
type admitResult int

const (
	admitted admitResult = iota
	admitFull
	admitClosed
)

// tryAdmit admits one task if there is room and Shutdown has not begun. It
// returns the task's ticket (the count of tasks admitted before it), which
// spreads tasks over the slots.
func (p *Pool) tryAdmit() (uint64, admitResult) {
	for {
		// out's value is read before in, so that it is never ahead of
		// in's count.
		seen := p.outSeen.Load()
		s := p.in.Load()
		if s&closedBit != 0 {
			return 0, admitClosed
		}
		if taken(s, seen) >= capacity(s) {
			out := p.out.Load()
			if out != seen {
				p.outSeen.Store(out) // stale stores are harmless: any value out had will do
			}
			if taken(s, out) >= capacity(s) {
				// Read in again: a Submit and a finishing task may
				// both have come between the two loads.
				if p.in.Load() != s {
					continue
				}
				return 0, admitFull
			}
		}
		// The count wraps within its 40 bits, never carrying into the
		// capacity (after about 10^12 tasks).
		if p.in.CompareAndSwap(s, s&^countMask|(s+1)&countMask) {
			return s & countMask, admitted
		}
	}
}

// waiter is one Submit waiting for room.
type waiter struct {
	ready      chan struct{} // buffered (1): the one send that ends the wait, made under mu
	prev, next *waiter       // the list, under mu
	queued     bool          // in the list; under mu
	granted    bool          // room was taken for it (else Shutdown ended the wait); written under mu before the send
	ticket     uint64        // the ticket tryAdmit gave it, when granted
}

// admitSlow admits one task when Submit's fast path could not: it takes
// room when there is some and nobody waits (or try is set), and otherwise
// returns ErrClosed, ErrOverloaded if try is set, or waits for room, for
// done (ctx's Done, read once by the caller; nil for Submit) or for
// Shutdown. A nil error means the caller holds one unit of taken, and the
// ticket, and must hand its task to pond. Every error is counted in
// Rejected.
func (p *Pool) admitSlow(ctx context.Context, done <-chan struct{}, try bool) (uint64, error) {
	p.mu.Lock()
	if try || p.head == nil {
		ticket, res := p.tryAdmit()
		switch {
		case res == admitted:
			p.mu.Unlock()
			return ticket, nil
		case res == admitClosed:
			p.mu.Unlock()
			p.rejected.Add(1)
			return 0, errClosed
		case try:
			p.mu.Unlock()
			p.rejected.Add(1)
			return 0, errOverloaded
		}
		// Announce the wait, then look for room once more: a task that
		// finished before the flag was set has freed room that this
		// look sees (see the comment on the words above).
		p.flags.Store(p.flags.Load() | waitingFlag)
		ticket, res = p.tryAdmit()
		if res != admitFull {
			p.flags.Store(p.flags.Load() &^ waitingFlag)
			p.mu.Unlock()
			if res == admitClosed {
				p.rejected.Add(1)
				return 0, errClosed
			}
			return ticket, nil
		}
	}
	// Queued behind others, or first with no room: close sets closedBit
	// and empties the list under mu, so a non-empty list means not closed,
	// and this waiter is woken by a grant or by close.
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

	if done == nil {
		<-w.ready // a plain receive: cheaper than a select with a nil case
	} else if p.waitOrLeave(done, w) {
		p.waiters.Put(w)
		p.rejected.Add(1)
		return 0, ctx.Err()
	}
	granted, ticket := w.granted, w.ticket
	w.granted = false
	p.waiters.Put(w)
	if !granted {
		p.rejected.Add(1)
		return 0, errClosed
	}
	return ticket, nil
}

// waitOrLeave waits for w's wait to end or for done. If done comes first
// and w is still in the list, it takes w out and reports true: the caller
// holds no room. If w's wait ended as done came (room granted, or
// Shutdown), it reports false like a plain wait; granted room is kept, and
// the task runs: giving it back would count as submitted a task that never
// was.
func (p *Pool) waitOrLeave(done <-chan struct{}, w *waiter) (left bool) {
	select {
	case <-w.ready:
		return false
	case <-done:
	}
	p.mu.Lock()
	if w.queued {
		p.unlinkLocked(w)
		p.mu.Unlock()
		return true
	}
	p.mu.Unlock()
	<-w.ready // sent under mu, before queued was cleared
	return false
}

// unlinkLocked takes w out of the waiter list, and clears waitingFlag when
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
		p.flags.Store(p.flags.Load() &^ waitingFlag)
	}
}

// grantLocked takes room for waiters, first come first served, while there
// is room and Shutdown has not begun, and wakes each. Called with mu held.
func (p *Pool) grantLocked() {
	for p.head != nil {
		ticket, res := p.tryAdmit()
		if res != admitted {
			return
		}
		w := p.head
		p.unlinkLocked(w)
		w.granted, w.ticket = true, ticket
		w.ready <- struct{}{} // never blocks: one send per wait into a buffer of 1
	}
}

// release counts one admitted task as finished and frees its room.
// Usually one Add and one read of flags; the flags say whether a waiter is
// to be woken or Shutdown finished.
func (p *Pool) release() {
	out := p.out.Add(1)
	if f := p.flags.Load(); f != 0 {
		p.released(f, out)
	}
}

// released is release's slow path: f is flags and out what release's Add
// returned.
func (p *Pool) released(f uint32, out uint64) {
	if f&closingFlag != 0 {
		// in no longer changes; the task whose Add brought out level with
		// it was the last. close checks the same, so finishOnce.
		if taken(p.in.Load(), out) == 0 {
			p.finishOnce.Do(p.finish)
		}
		return
	}
	p.mu.Lock()
	p.grantLocked()
	p.mu.Unlock()
}

// close begins Shutdown: it sets closedBit, so that nothing is admitted
// again, ends every wait with ErrClosed, and finishes at once if no admitted
// task is left. It runs once, from Shutdown.
func (p *Pool) close() {
	p.mu.Lock()
	for {
		s := p.in.Load()
		if p.in.CompareAndSwap(s, s|closedBit) {
			break
		}
	}
	p.flags.Store(p.flags.Load()&^waitingFlag | closingFlag)
	for w := p.head; w != nil; {
		next := w.next
		w.prev, w.next, w.queued = nil, nil, false
		w.ready <- struct{}{} // granted stays false: the wait ends with ErrClosed
		w = next
	}
	p.head, p.tail = nil, nil
	p.mu.Unlock()
	if taken(p.in.Load(), p.out.Load()) == 0 {
		p.finishOnce.Do(p.finish)
	}
}
