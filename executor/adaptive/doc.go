// Package adaptive sets an executor's bound on running tasks from what it
// measures, instead of from a number someone guessed.
//
// An [Executor] wraps any executor.Executor that implements
// executor.Resizer. It times every task it runs (from the moment a worker
// starts it, so time spent waiting is not in it), counts how many run at
// once, and counts every task that was shed: a submission refused with
// executor.ErrOverloaded or cut short by its context, or a task given to
// [Executor.SubmitSampled] that reports it did no work. A [Limit] turns
// those samples into a limit, and the Executor resizes the backend to it,
// within [Options] Min and Max. The current limit is visible in
// Stats().Workers, in [Executor.Limit], and as a Prometheus gauge
// ([Executor.Collector]).
//
// The algorithms are those of Netflix's concurrency-limits
// (https://github.com/Netflix/concurrency-limits), with its parameters and
// defaults: [AIMD], loss-based, and [Gradient2], latency-based and the
// default. A Limit is what Netflix calls a Limit; the Executor plays the part
// of its Limiter, and the backend's Resize that of its adjustable semaphore.
// Vegas is not here: against a downstream whose latency rises with
// concurrency, Gradient2 does what it does without probing for a minimum
// RTT.
//
// # What a limit does not do
//
// A limit bounds how many tasks run, not how long the others wait. Netflix's
// SimpleLimiter rejects a request at once when the limit is reached; a
// blocking executor instead makes Submit wait, and with a queue, holds tasks
// in it, without bound on time, however low the limit goes. So pair an
// adaptive limit with a bound on waiting: a wait budget (executorhttp's
// MaxWait, or a context deadline given to SubmitContext or SubmitSampled),
// a Nonblocking backend, or TrySubmit. Without one, an adaptive limit
// protects what is behind the tasks (the downstream sees at most the limit
// at once) while the latency callers see still grows with the backlog.
//
// # Cost
//
// Each task costs two reads of the clock, an atomic add and subtract, and a
// short mutex-held call to Limit.Update; the backend's Resize is called only
// when the integer limit changes, by one goroutine at a time, outside the
// mutex.
package adaptive
