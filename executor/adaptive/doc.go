// Package adaptive sets an executor's bound on running tasks from what it
// measures, instead of from a number someone guessed.
//
// An [Executor] wraps any executor.Executor that implements
// executor.Resizer. It times every task it runs (from the moment a worker
// starts it, so time spent waiting is not in it), counts how many run at
// once, and learns from tasks that report how they ended
// ([Executor.SubmitSampled]) which were shed, and so give no sample, and
// which lost their work to overload (drops). A [Limit] turns those samples
// into a limit, and the Executor resizes the backend to it, within
// [Options] Min and Max. The current limit is visible in Stats().Workers,
// in [Executor.Limit], and as a Prometheus gauge ([Executor.Collector]).
//
// The algorithms are those of Netflix's concurrency-limits
// (https://github.com/Netflix/concurrency-limits), with its parameters and
// defaults: [AIMD], loss-based (with TCP's rule of one cut and one step
// up per round trip, for reasons it gives), and [Gradient2],
// latency-based and the default. A Limit is what Netflix calls a Limit;
// the Executor plays the part of its Limiter, and the backend's Resize
// that of its adjustable semaphore.
// For a limit with a wait budget in front of it (executorhttp's MaxWait),
// [QueuedGradient2Config] departs from Netflix's Gradient2 defaults, for
// reasons it gives, and takes two rules from Envoy's adaptive concurrency
// filter: an unsmoothed update every window, and a baseline RTT that follows
// the downstream when it changes speed (Gradient2Config.Rebase).
// Vegas is not here: on the simulated downstream of this package's tests,
// fed sample by sample as Netflix feeds it, its limit wandered between 8
// and 37 at twice the capacity, where Gradient2's settled at 16 or 17
// within a second.
//
// # Refusals
//
// A submission the backend refuses (executor.ErrOverloaded, or a context
// that ends while it waits for room) gives the Limit no sample, as Netflix's
// SimpleLimiter feeds its Limit none of its own rejections: refusals say the
// limit is reached, not that it is too high, and there are more of them the
// lower it is. Counted as drops, they drove a simulated AIMD limit to 1 at
// twice the capacity, a third of the goodput. The backend's
// Stats().Rejected counts them. A task that reports it was shed before its
// work (SubmitSampled's task returning executor.Ignored, as executorhttp's
// does for a request past its wait budget or dropped by CoDel) is a refusal
// made late, and gives no sample either.
//
// # Drops
//
// A loss-based limit needs losses: AIMD backs off only on a drop or a run
// time past its Timeout. An Executor counts a task as dropped when it
// says so (SubmitSampled's task returning executor.Dropped): executorhttp's
// does when the request's context ended while its handler ran (a client
// that left, a deadline that passed), as Netflix's gRPC interceptor reports
// a canceled or DEADLINE_EXCEEDED call as dropped; a task of your own can
// when what it calls times out or refuses it. Netflix's servlet filter
// reports no drops at all, and its example server, a fair semaphore that
// makes callers wait (the model of httpdemo's /work), never fails: against
// such a downstream, with callers that wait as long as it takes, AIMD sees
// no loss and grows to Max. Gradient2, which reads latency, is the one to
// use there.
//
// # What a limit does not do
//
// A limit bounds how many tasks run, not how long the others wait. Netflix's
// SimpleLimiter rejects a request at once when the limit is reached; a
// blocking executor instead makes Submit wait, and with a queue, holds tasks
// in it, without bound on time, however low the limit goes. So pair an
// adaptive limit with a bound on waiting: a wait budget (executorhttp's
// MaxWait, or a context deadline given to SubmitContext or SubmitSampled),
// a Nonblocking backend, or TrySubmit. Without one, an adaptive limit still
// protects what is behind the tasks (the downstream sees at most the limit
// at once), while the latency callers see grows with the backlog.
//
// # Cost
//
// Each task costs two reads of the clock, an atomic add and subtract, one
// small allocation, and a short mutex-held call to Limit.Update; the
// backend's Resize is called only when the integer limit changes, by one
// goroutine at a time, outside the mutex. On the 2-core test machine, where
// time.Now alone costs about 115 ns, that is about 0.3 µs a task over the
// backend's own cost: nothing beside a task that calls a database, a
// multiple of a task that adds two numbers. Tasks shorter than
// Gradient2Config.MinRTT (100 µs) never move a Gradient2 limit anyway.
package adaptive
