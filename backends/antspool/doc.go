// Package antspool is an executor.Executor over github.com/panjf2000/ants/v2,
// registered in package backends as "ants". It keeps the executor contract
// exactly, so a program can switch to it from any other backend by name.
//
// Pick it when load comes in bursts with idle spells between them, or when
// memory comes first: ants starts workers as tasks arrive and reaps those
// idle for a second, so an idle pool holds no worker goroutines, and in the
// bench shapes it had the lowest peak memory. What it costs: handing over a
// tiny task takes a few times longer than chanpool's channel send; each pool
// runs two timer goroutines until Shutdown; and importing ants starts two
// package-level goroutines for the life of the program (see
// PackageGoroutines for the goleak option).
//
// # How Config maps onto ants
//
//   - Workers is the ants pool's capacity, and the number of run slots the
//     Pool counts itself: a task is handed to ants only with a slot, so at
//     most Workers tasks run at once (see Resize for why ants' capacity alone
//     is not enough). ants starts a worker when a task finds none idle, and
//     reaps workers left idle for a second (ants' default ExpiryDuration), so
//     an idle Pool holds no goroutines beyond ants' two per-pool timers.
//   - QueueSize is honoured, although ants has no task queue of its own (a
//     caller blocked in ants' Submit is its queue, and such a caller has not
//     been told its task was accepted). The Pool admits at most
//     Workers+QueueSize tasks that are accepted and unfinished; a task that
//     finds every run slot held (or, for a moment, every ants worker busy)
//     waits in the Pool's own buffer, and a worker that finishes a task takes
//     the next one from that buffer before it goes back to ants. QueueSize 0
//     therefore means what the contract says: Submit succeeds only when a
//     worker can take the task.
//   - Nonblocking decides what Submit does when Workers+QueueSize tasks are
//     outstanding: wait for one to finish, or return executor.ErrOverloaded.
//     The ants pool itself always runs non-blocking, so no caller ever waits
//     inside ants.
//   - PanicHandler receives every task panic: each task runs inside
//     backend.RunTask, so ants' own panic handling (which would end the
//     worker goroutine) never sees one. A panic is counted in
//     Stats.Panicked before the handler is called, so one whose handler
//     calls runtime.Goexit (as t.FailNow does) is counted too.
//   - Sizes: Workers+QueueSize is at most executor.MaxCapacity, checked by
//     backend.Normalize, so New never allocates more than about 32 MiB of
//     queue; ants itself preallocates nothing.
//
// # SubmitContext, TrySubmit and Resize
//
// The Pool implements executor.ContextSubmitter, executor.TrySubmitter and
// executor.Resizer natively; ants has no equivalent of the first two.
//
//   - SubmitContext waits for room like Submit, in the Pool's own FIFO list
//     of waiters, each with its own channel, so the wait can also end when
//     ctx is done; a waiter that gives up passes any wake-up meant for it to
//     the next one. No goroutine or timer is started, and with a ctx that
//     is never done it costs what Submit does.
//   - TrySubmit is Submit on a Nonblocking Pool, for one call: it refuses
//     with executor.ErrOverloaded only when Workers+QueueSize accepted tasks
//     are unfinished.
//   - Resize calls ants' Tune, but does not rely on it for the bound: after
//     Tune lowers ants' capacity, ants still hands tasks to the idle workers
//     it already has, however many. The Pool counts run slots itself (a
//     submitter takes one only while fewer than Workers are held, else its
//     task is queued), so a worker over a lowered bound leaves when its
//     task ends instead of taking the next, and at most the new Workers run
//     once enough tasks have finished. Growing calls Tune first, then starts
//     ants workers for queued tasks and wakes as many waiting submitters as
//     there is new room. The buffer stays the channel New made for its
//     Workers+QueueSize: reallocating it would cost every Submit a lock or
//     an indirection, and sizing it for MaxCapacity up front would cost 32
//     MiB per Pool. A task that finds it full after a Resize up waits in an
//     overflow list, which holds at most the growth.
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
// ignore them (see PackageGoroutines).
package antspool
