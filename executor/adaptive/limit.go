package adaptive

import (
	"fmt"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// Sample is one finished task as a Limit sees it.
type Sample struct {
	// RTT is how long the task ran, from the moment a worker started it to
	// the moment it returned: time spent waiting for room or in the queue is
	// not in it. For a Dropped task, it is the time the task took to give
	// up.
	RTT time.Duration

	// Inflight is how many of the Executor's tasks were running when this
	// one started, itself included (Netflix's AbstractLimiter counts the
	// same way, at acquire).
	Inflight int

	// Dropped reports a loss: the task ran, and its work was lost, as when
	// a downstream timed out or refused it, or its caller gave up while it
	// ran (Netflix's limiters call this onDropped, and AIMD backs off on
	// it). An Executor sets it for a task that returns executor.Dropped
	// (see Executor.SubmitSampled); a task shed before its work and a
	// submission the executor refused give no sample at all (see the
	// package documentation, "Refusals").
	Dropped bool
}

// Bounds are the limits within which a Limit moves, and where it starts.
type Bounds struct {
	Min     int // the least limit Update returns; at least 1
	Max     int // the most limit Update returns; at least Min
	Initial int // the limit before any sample; within [Min, Max]
}

// check returns an error wrapping executor.ErrInvalidConfig unless b is
// usable.
func (b Bounds) check() error {
	switch {
	case b.Min < 1:
		return fmt.Errorf("adaptive: %w: Min is %d; want 1 or more", executor.ErrInvalidConfig, b.Min)
	case b.Max < b.Min:
		return fmt.Errorf("adaptive: %w: Max is %d, below Min %d; want Max >= Min", executor.ErrInvalidConfig, b.Max, b.Min)
	case b.Max > executor.MaxCapacity:
		return fmt.Errorf("adaptive: %w: Max is %d; want at most %d (executor.MaxCapacity)", executor.ErrInvalidConfig, b.Max, executor.MaxCapacity)
	case b.Initial < b.Min || b.Initial > b.Max:
		return fmt.Errorf("adaptive: %w: Initial is %d; want it within [Min, Max] = [%d, %d]", executor.ErrInvalidConfig, b.Initial, b.Min, b.Max)
	}
	return nil
}

// clamp returns v moved into [b.Min, b.Max].
func (b Bounds) clamp(v int) int {
	if v < b.Min {
		return b.Min
	}
	if v > b.Max {
		return b.Max
	}
	return v
}

// Limit is an algorithm that turns samples into a concurrency limit: what
// Netflix's concurrency-limits calls a Limit, apart from the Limiter that
// enforces it (here, the Executor and its backend's Resize).
//
// An Executor calls a Limit's methods from one goroutine at a time (it holds
// a mutex around them), so an implementation needs no lock of its own. A
// Limit keeps state: give each Executor its own.
type Limit interface {
	// Reset forgets every sample and starts over at b.Initial, never to
	// leave [b.Min, b.Max]. New calls it once, before any Update, with
	// bounds it has checked.
	Reset(b Bounds)

	// Update folds s, which ended at now, into the estimate and returns the
	// limit to use from now on, within the bounds given to Reset. It is
	// called for every task that finished (not one that panicked), so it
	// must be cheap: no allocation, no blocking.
	Update(s Sample, now time.Time) int
}
