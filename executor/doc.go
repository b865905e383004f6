// Package executor defines the contract that swapexec's goroutine pools keep:
// an [Executor] runs submitted tasks on a bounded set of goroutines and shuts
// down without losing any task it accepted.
//
// The package imports no backend, as database/sql/driver knows no driver.
// Implementations live in other packages (see github.com/swapexec/swapexec/backends)
// and prove they keep the contract by passing
// github.com/swapexec/swapexec/executor/executortest.Run. What only their
// authors need (config validation, panic recovery, counters) is in
// github.com/swapexec/swapexec/executor/backend, as database/sql/driver holds
// what only drivers need.
//
// # The contract
//
//   - Every task whose Submit returned nil runs exactly once, also when
//     Shutdown follows at once. Nothing accepted is ever dropped.
//   - Submit after Shutdown began returns an error that matches [ErrClosed]
//     (errors.Is); it never panics and the task never runs. A Submit that is
//     blocked when Shutdown begins either is accepted (and its task runs
//     before Shutdown returns nil) or returns ErrClosed; it never hangs.
//   - At most Config.Workers tasks run at once.
//   - With Config.Nonblocking, Submit never blocks, and it returns
//     [ErrOverloaded] only when Workers tasks are running and QueueSize are
//     waiting. A fresh executor with idle workers accepts.
//   - Submit(nil) returns an error matching [ErrNilTask].
//   - Shutdown stops intake, lets every accepted task (running and queued)
//     finish, ends every goroutine the executor started, and returns nil. If
//     its context ends first it returns ctx.Err() promptly; the accepted tasks
//     still finish in the background, and a later Shutdown waits for them and
//     returns nil. Shutdown is safe to call any number of times, from many
//     goroutines at once.
//   - A panicking task never kills a worker nor reduces capacity;
//     Config.PanicHandler sees its value exactly once.
//
// # Nested submits
//
// A task that submits to its own executor and waits for the result can
// deadlock: when every worker is busy and the queue is full, a blocking Submit
// from inside a task waits for a worker that only that task can free. With
// Config.Nonblocking the nested Submit returns ErrOverloaded instead, and the
// caller can run the work inline or give up; [TrySubmitter] does the same for
// one call on a blocking executor, and the tasks of
// github.com/swapexec/swapexec/executor/group run nested work inline when there
// is no room. Never wait, inside a task, for work submitted to the same
// blocking executor.
//
// # Optional abilities
//
// The Executor interface stays two methods. Further abilities are small
// interfaces found by type assertion, as io.WriterTo is:
//
//   - [StatsReporter]: Stats, a snapshot of gauges and counters.
//   - [ContextSubmitter]: SubmitContext(ctx, task), a Submit whose wait for
//     room ends when ctx is done; it then returns an error matching
//     ctx.Err() and the task never runs. The package-level [SubmitContext]
//     keeps that promise for any Executor.
//   - [TrySubmitter]: TrySubmit(task), a Submit that never waits, per call,
//     on a blocking executor too: ErrOverloaded when Workers tasks run and
//     QueueSize wait, and only then.
//   - [Resizer]: Resize(workers), a new bound on tasks running at once,
//     while the executor runs. Growing starts waiting work at once;
//     shrinking never interrupts a running task, and the new bound holds as
//     soon as enough running tasks have finished. Stats.Workers reports it.
//
// Every backend in github.com/swapexec/swapexec/backends implements all four,
// natively: a SubmitContext that waits costs no goroutine, and one whose ctx
// can never be done costs what Submit costs. Whatever the method, every
// refused task counts in Stats.Rejected, and the errors are the same:
// ErrNilTask for a nil task, then ctx's error if ctx is done on entry, then
// ErrClosed once Shutdown has begun.
package executor
