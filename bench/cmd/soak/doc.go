// Command soak keeps the attack on swapexec's backends running: it runs
// each backend (built by name with backends.New) under a mixed load for
// -duration, samples the heap, the goroutine count and Stats every -every,
// checks every Stats snapshot while the load runs, shuts the executor down
// and exits 1, with a message naming what went wrong, if anything grew or
// any count is off. It prints a Markdown table, one row per backend.
//
// Usage, from the repository root:
//
//	go run ./bench/cmd/soak                                 # 2 minutes per backend
//	go run ./bench/cmd/soak -backend pond -duration 10m
//	go run ./bench/cmd/soak -duration 10s                   # what CI runs
//
// # The load
//
// -submitters goroutines submit without pause to one executor (-workers,
// -queue, blocking unless -nonblocking). Per call: 85% Submit of a short
// CPU task (15% of all calls allocate 1 to 64 KiB, one in 64 of those kept
// in a bounded cache), 8% SubmitContext with a 1 ms deadline of a task that
// sleeps up to 2 ms as a call to another service would, 5% TrySubmit, 1% a
// task that panics, 1% a task that TrySubmits a child and runs it inline
// when refused. Every -resize-every the bound is halved or restored, as an
// adaptive limiter would. An executor without SubmitContext, TrySubmit or
// Resize gets Submit instead, or is not resized; the table names what was
// used. No task calls runtime.Goexit: in a service that is a bug, and the
// fuzz target in executortest covers it.
//
// # What fails a soak
//
//   - A Stats snapshot, read every -scrape while the load runs and at each
//     sample, with a gauge negative or above its bound (Running above
//     -workers, Queued above -queue), Completed above Submitted, Panicked
//     above Completed, or a counter lower than in the snapshot before.
//   - After Shutdown: Submitted != Completed, anything running or queued,
//     Submitted different from the submits the load saw accepted, a task run
//     other than exactly once, Rejected or Panicked different from the load's
//     own counts, a PanicHandler call missing, or more goroutines than before
//     the executor was built (2 s after Shutdown returned).
//   - Shutdown not returning nil within 30 s; a submit returning an error
//     the call cannot return (ErrClosed before Shutdown, say).
//   - Growth. Samples taken during the warm-up (-warmup; a fifth of
//     -duration by default) are left out. Of the rest, the first window and
//     the last window each hold a fifth of them (at least 3). The soak grew
//     if the last window's lowest live heap (runtime/metrics
//     /gc/heap/live:bytes, what the last GC marked) is above the first
//     window's highest × 1.5 + 4 MiB, or its lowest goroutine count is
//     above the first window's highest + 8. Lowest against highest makes one
//     odd sample harmless; a leak raises every sample after it. A leak is
//     caught once what it adds between the windows exceeds half the heap
//     plus 4 MiB, so a longer soak catches a slower leak.
package main
