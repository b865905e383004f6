package executor

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
