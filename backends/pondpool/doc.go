// Package pondpool is an executor.Executor over github.com/alitto/pond/v2,
// registered in package backends as "pond". It keeps the executor contract
// exactly, so a program can switch to it from any other backend by name, and
// it has every optional ability: Stats, SubmitContext, TrySubmit and Resize.
//
// Pick it when many goroutines each submit a task or a few (a server's
// handlers, say): pond starts workers on demand, each ending when the queue
// is empty, so an idle pool holds no goroutines, and in the bench shapes
// with 10,000 and 100,000 submitters it was the fastest pool. What it
// costs: handing over a tiny task takes a few times longer than chanpool's
// channel send, and more from many submitters at once.
//
// # Who does what
//
// pond runs the tasks: it bounds how many run at once, queues the rest, and
// starts and ends its worker goroutines. The Pool decides which tasks pond
// gets: it admits a task only while fewer than Workers+QueueSize are
// admitted and not finished, and makes the callers that find no room wait,
// first come first served, each on its own channel (as
// golang.org/x/sync/semaphore does). pond is built non-blocking with a queue
// far larger than the Pool ever admits, so it never refuses nor blocks a
// task the Pool gives it; pond's own blocking Go could not stop waiting for
// one caller (its only way out is the pool's context, which would end every
// wait), and its TrySubmit allocates a future per call.
//
// # How Config maps onto pond
//
//   - Workers is pond's maxConcurrency. pond starts a worker goroutine when
//     a task arrives and fewer than Workers exist, and a worker ends as soon
//     as it finds the queue empty, so an idle Pool holds no goroutines.
//   - QueueSize is enforced by the Pool: Workers+QueueSize tasks may be
//     admitted and not finished. pond's queue holds the admitted tasks that
//     have not started (pond.WithQueueSize(executor.MaxCapacity), a bound
//     never reached), and grows in chunks as tasks arrive, so New allocates
//     no queue up front.
//   - Nonblocking: with no room, Submit returns executor.ErrOverloaded
//     instead of waiting; TrySubmit does so on any Pool.
//   - PanicHandler receives every task panic: pond's Go would recover a
//     panic and only count it, so each task runs under the Pool's own
//     deferred recover (backend.RunTask's rules, written out to save a
//     call and a closure per task), and pond's own recovery is switched off
//     (pond.WithoutPanicRecovery), as nothing reaches it. The Pool counts a panic before calling the
//     handler, so a handler that calls runtime.Goexit is counted too. To
//     wrap tasks without allocating a closure per Submit, New makes a fixed
//     set of slots, each with its own func: Submit stores the task in a free
//     slot and gives pond that slot's func, so the task travels in pond's own
//     hand-off to the worker. When the few slots it probes are taken, Submit
//     gives pond a closure instead (one allocation).
//
// # The abilities
//
//   - SubmitContext waits, like Submit, on the Pool's waiter list, and also
//     on ctx.Done(): no goroutine, no timer. When ctx ends first the caller
//     leaves the list and holds no room. With a ctx whose Done is nil it is
//     Submit.
//   - TrySubmit takes room if there is any, never waits, and returns
//     ErrOverloaded when Workers+QueueSize tasks are admitted and not
//     finished.
//   - Resize changes the Pool's room to workers+QueueSize, wakes waiting
//     Submits that now have room, and calls pond's Resize (v2.7.1), which
//     sets pond's bound and starts a worker for each queued task it may now
//     run. pond's workers check the bound before each task
//     they take and leave while more workers than the bound exist, so a
//     shrink never interrupts a running task and holds as tasks finish, and
//     a grow right after a shrink starts nothing beyond the new bound. The
//     slots are sized from Workers+QueueSize in New; a Resize beyond that
//     replaces them with a larger set (up to 1<<15), so Submit keeps handing
//     tasks over without allocating.
//
// # Differences from pond that this package hides
//
// pond's StopAndWait takes no context. Shutdown marks the Pool closed (every
// later or waiting Submit gets executor.ErrClosed), waits for every admitted
// task to finish, then calls pond's Stop and waits on its Done channel, or
// for ctx, whichever comes first; a later Shutdown waits on the same stop.
// pond's Stop runs its wait on pond's default pool, in a goroutine that pond
// starts and ends; it is gone shortly after Shutdown returns nil.
//
// pond's counters are read at different moments, and its WaitingTasks reads
// two counters without a lock (it can wrap around below zero), so Stats
// counts Submitted, Completed, Rejected and Panicked itself, and derives
// Running and Queued from the tasks it admitted, within their bounds.
package pondpool
