package backend

import (
	"sync/atomic"

	"github.com/swapexec/swapexec/executor"
)

// Counters holds the monotonic counters of executor.Stats for a backend. Every method
// is safe for concurrent use; the zero value is ready. Each counter is a
// separate atomic, so a backend pays only for the ones it touches.
type Counters struct {
	submitted atomic.Uint64
	completed atomic.Uint64
	rejected  atomic.Uint64
	panicked  atomic.Uint64
}

// Submitted records an accepted task.
func (c *Counters) Submitted() { c.submitted.Add(1) }

// Rejected records a Submit that returned an error other than executor.ErrNilTask.
func (c *Counters) Rejected() { c.rejected.Add(1) }

// Completed records a finished task; panicked says whether it panicked.
func (c *Counters) Completed(panicked bool) {
	if panicked {
		c.panicked.Add(1)
	}
	c.completed.Add(1)
}

// Fill copies the counters into s and returns it.
func (c *Counters) Fill(s executor.Stats) executor.Stats {
	// Completed is read before Submitted, so a snapshot never shows more
	// tasks completed than submitted.
	s.Completed = c.completed.Load()
	s.Submitted = c.submitted.Load()
	s.Rejected = c.rejected.Load()
	s.Panicked = c.panicked.Load()
	return s
}

// Monotonic keeps a derived counter monotonic: a backend that computes a
// counter from several reads (Submitted as completed plus pending, say) can
// see it dip for a moment when a task finishes between the reads. The zero
// value is ready; it is safe for concurrent use.
type Monotonic struct {
	max atomic.Uint64
}

// Raise returns the larger of v and every value Raise has returned before.
func (h *Monotonic) Raise(v uint64) uint64 {
	for {
		prev := h.max.Load()
		if v <= prev {
			return prev
		}
		if h.max.CompareAndSwap(prev, v) {
			return v
		}
	}
}
