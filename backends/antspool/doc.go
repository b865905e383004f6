// Package antspool is an executor.Executor over github.com/panjf2000/ants/v2,
// registered in package backends as "ants". It keeps the executor contract
// exactly, so a program can switch to it from any other backend by name.
//
// # How Config maps onto ants
//
//   - Workers is the ants pool's capacity: at most Workers ants worker
//     goroutines, so at most Workers tasks run at once. ants starts a worker
//     when a task finds none idle, and reaps workers left idle for a second
//     (ants' default ExpiryDuration), so an idle Pool holds no goroutines
//     beyond ants' two per-pool timers.
//   - QueueSize is honoured, although ants has no task queue of its own (a
//     caller blocked in ants' Submit is its queue, and such a caller has not
//     been told its task was accepted). The Pool admits at most
//     Workers+QueueSize tasks that are accepted and unfinished; a task that
//     finds every ants worker busy waits in the Pool's own buffer, and a
//     worker that finishes a task takes the next one from that buffer before
//     it goes back to ants. QueueSize 0 therefore means what the contract
//     says: Submit succeeds only when a worker can take the task.
//   - Nonblocking decides what Submit does when Workers+QueueSize tasks are
//     outstanding: wait for one to finish, or return executor.ErrOverloaded.
//     The ants pool itself always runs non-blocking, so no caller ever waits
//     inside ants.
//   - PanicHandler receives every task panic: each task runs inside
//     executor.RunTask, so ants' own panic handling (which would end the
//     worker goroutine) never sees one.
//
// # Differences from ants that this package hides
//
// ants' Release wakes callers blocked in Submit with ants.ErrPoolClosed, and
// its ReleaseContext can return while a task that raced with it still runs.
// Here no caller ever blocks inside ants, tasks are counted from admission to
// completion, and the ants pool is released only after the last accepted
// task has finished, so Shutdown returning nil means every accepted task ran
// and every goroutine the Pool started (ants' workers and its purge and
// ticktock goroutines) has ended.
//
// Importing ants starts its default pool, whose two goroutines,
// github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers and
// github.com/panjf2000/ants/v2.(*poolCommon).ticktock, run for the life of
// the program. They do not belong to any Pool; tests that use goleak must
// ignore them (see LeakOptions).
package antspool
