package pondpool

import (
	"fmt"

	"github.com/swapexec/swapexec/executor/backend"
)

// Resize sets the most tasks that run at once to workers. It returns an
// error wrapping executor.ErrInvalidConfig if workers is below 1 or
// workers+QueueSize exceeds executor.MaxCapacity, and one matching
// executor.ErrClosed once Shutdown has begun. Stats().Workers reports the
// new bound as soon as Resize returns, and the room for new tasks is
// workers+QueueSize from then on. Resize never waits for a task.
//
// Underneath is pond's Resize, which only sets pond's bound and starts a
// worker for each queued task it may now run. pond's workers check the
// bound, under pond's mutex, each time before they take a task, and leave
// when more workers than the bound exist: so growing wakes waiting Submits
// (here) and starts queued tasks at once, up to the new bound; shrinking
// never interrupts a running task, and no task starts until fewer than the
// new bound run. A worker pond starts for a grow while more still run than
// the new bound (right after a shrink) finds that out before it takes a
// task, and leaves.
func (p *Pool) Resize(workers int) error {
	if err := backend.CheckResize(workers, p.queueSize); err != nil {
		return fmt.Errorf("pondpool: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// close sets closedBit under mu, so it cannot be set while Resize runs,
	// and pond is stopped only after it is set.
	if p.in.Load()&closedBit != 0 {
		return errClosed
	}
	p.growSlots(workers + p.queueSize)
	for {
		s := p.in.Load()
		n := s&^(capMask<<capShift) | uint64(workers+p.queueSize)<<capShift
		if p.in.CompareAndSwap(s, n) {
			break
		}
	}
	p.pond.Resize(workers)
	p.grantLocked()
	return nil
}
