package executor

import "sync/atomic"

// Stats is a snapshot of an executor's state and counters.
//
// The counters (Submitted, Completed, Rejected, Panicked) never decrease from
// one snapshot to the next, so they can be exported as Prometheus counters,
// and Completed never exceeds Submitted. Each is counted before the call
// that it counts returns: Submitted before Submit (or SubmitContext, or
// TrySubmit) returns nil, Rejected before it returns its error, so a
// snapshot taken after the call sees it. Completed and Panicked count a
// task once it has finished, and are final for every accepted task when
// Shutdown returns nil: from then on Submitted == Completed, and only
// Rejected still grows, by the calls made after Shutdown began.
//
// The gauges (Running, Queued) are read one at a time while the executor
// works, so a snapshot taken under load need not add up; they are never
// negative, Running never exceeds Workers (or, just after a Resize that
// shrank the executor, the bound before it), and Running+Queued never
// exceeds the room there is, Workers+QueueSize. Once the executor is idle
// or shut down, Running == Queued == 0.
type Stats struct {
	Workers int // bound on tasks running at once: Config.Workers, or the last Resize
	Running int // tasks running now
	Queued  int // tasks accepted and not yet started

	Submitted uint64 // tasks accepted (Submit returned nil)
	Completed uint64 // accepted tasks that have finished, including those that panicked
	Rejected  uint64 // Submit, SubmitContext and TrySubmit calls that returned an error other than ErrNilTask
	Panicked  uint64 // tasks that panicked
}

// StatsReporter is implemented by executors that can report Stats. Callers
// discover it with a type assertion:
//
//	if r, ok := ex.(executor.StatsReporter); ok {
//		log.Printf("%+v", r.Stats())
//	}
type StatsReporter interface {
	// Stats returns a snapshot; it is safe to call at any time, also during
	// and after Shutdown.
	Stats() Stats
}

// Counters holds the monotonic counters of Stats for a backend. Every method
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

// Rejected records a Submit that returned an error other than ErrNilTask.
func (c *Counters) Rejected() { c.rejected.Add(1) }

// Completed records a finished task; panicked says whether it panicked.
func (c *Counters) Completed(panicked bool) {
	if panicked {
		c.panicked.Add(1)
	}
	c.completed.Add(1)
}

// Fill copies the counters into s and returns it.
func (c *Counters) Fill(s Stats) Stats {
	// Completed is read before Submitted, so a snapshot never shows more
	// tasks completed than submitted.
	s.Completed = c.completed.Load()
	s.Submitted = c.submitted.Load()
	s.Rejected = c.rejected.Load()
	s.Panicked = c.panicked.Load()
	return s
}

// HighWater keeps a derived counter monotonic: a backend that computes a
// counter from several reads (Submitted as completed plus pending, say) can
// see it dip for a moment when a task finishes between the reads. The zero
// value is ready; it is safe for concurrent use.
type HighWater struct {
	max atomic.Uint64
}

// Raise returns the larger of v and every value Raise has returned before.
func (h *HighWater) Raise(v uint64) uint64 {
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
