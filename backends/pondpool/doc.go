// Package pondpool is an executor.Executor over github.com/alitto/pond/v2,
// registered in package backends as "pond". It keeps the executor contract
// exactly, so a program can switch to it from any other backend by name.
//
// # How Config maps onto pond
//
//   - Workers is pond's maxConcurrency. pond starts a worker goroutine when
//     a task arrives and fewer than Workers exist, and a worker ends as soon
//     as it finds the queue empty, so an idle Pool holds no goroutines.
//   - QueueSize is pond.WithQueueSize: pond's queue holds at most QueueSize
//     tasks that wait for a worker, and 0 means none (Submit succeeds only
//     when a worker can start the task). pond's own default, an unbounded
//     queue, is never used.
//   - Nonblocking is pond.WithNonBlocking: with no room, Submit returns
//     executor.ErrOverloaded (pond's ErrQueueFull) instead of waiting.
//   - PanicHandler receives every task panic: pond's Go would recover a
//     panic and only count it, so each task runs inside executor.RunTask,
//     and pond's own recovery is switched off (pond.WithoutPanicRecovery),
//     as nothing reaches it. To wrap tasks without allocating a closure per
//     Submit, New makes a fixed set of slots, each with its own func: Submit
//     stores the task in a free slot and gives pond that slot's func, so the
//     task travels in pond's own hand-off to the worker. When no slot is
//     free (many callers blocked in Submit, or a queue longer than the
//     slots), pond is given one shared func and the task follows through a
//     channel of Workers+QueueSize slots, allocated in New.
//
// # Differences from pond that this package hides
//
// pond's StopAndWait takes no context; Shutdown calls Stop once and waits on
// its Done channel or ctx, whichever comes first, so a later Shutdown waits
// on the same stop. A caller blocked in pond's Go when the pool stops gets
// context.Canceled (the pool's context ends), and a later one
// pond.ErrPoolStopped; both are returned as executor.ErrClosed. Shutdown
// cancels the pool's context as it begins, so blocked callers return at
// once; tasks submitted with Go, queued or running, still all run.
//
// pond's Stop runs its wait on pond's default pool, in a goroutine that
// pond starts and ends; it is gone shortly after Shutdown returns nil.
package pondpool
