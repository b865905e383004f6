package pondpool

import (
	"fmt"

	"github.com/swapexec/swapexec/executor"
)

// Resize sets the most tasks that run at once to workers. It returns an
// error wrapping executor.ErrInvalidConfig if workers is below 1 or
// workers+QueueSize exceeds executor.MaxCapacity, and one matching
// executor.ErrClosed once Shutdown has begun. Stats().Workers reports the
// new bound as soon as Resize returns, and the room for new tasks is
// workers+QueueSize from then on.
//
// Growing wakes waiting Submits at once and lets pond start workers for
// the tasks it has queued. Shrinking never interrupts a running task: pond
// ends a worker when it finishes a task and more than workers are left,
// so the new bound holds once enough running tasks have finished. Resize
// never waits for a task.
//
// pond's own Resize, grown while more workers still run than its old bound
// (after a shrink), would start a worker for each queued task up to the
// difference, beyond the new bound; so Resize raises pond's bound only as
// far as the workers running allow, and finishing tasks and later Submits
// raise it the rest of the way.
func (p *Pool) Resize(workers int) error {
	if err := executor.CheckResize(workers, p.queueSize); err != nil {
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
	p.workers = workers
	if workers <= p.pondMax {
		// A shrink: pond starts no worker for it, and ends its extra
		// workers as they finish their tasks.
		p.pondMax = workers
		p.pond.Resize(workers)
	}
	p.catchUpLocked()
	p.grantLocked()
	return nil
}

// catchUpLocked raises pond's bound towards workers as far as it can
// without more than workers running, and sets behindFlag while it is still
// below. Called with mu held.
//
// pond's Resize(x) starts a worker for each queued task, up to x minus its
// old bound m. pond starts workers only under its mutex and only while
// fewer than m run, so r workers read now can only fall while r > m, and
// can only rise to m otherwise: at most max(r, m) run until pond's bound
// changes again, and raising it to x = m + workers - max(r, m) keeps at
// most workers running.
func (p *Pool) catchUpLocked() {
	for p.pondMax < p.workers {
		room := p.workers - max(int(p.pond.RunningWorkers()), p.pondMax)
		if room <= 0 {
			break
		}
		p.pondMax += room
		p.pond.Resize(p.pondMax)
	}
	if p.pondMax < p.workers {
		p.flags.Store(p.flags.Load() | behindFlag)
	} else {
		p.flags.Store(p.flags.Load() &^ behindFlag)
	}
}
