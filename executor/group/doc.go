// Package group runs batches of tasks on any executor.Executor with the shape
// of golang.org/x/sync/errgroup: Go, TryGo, SetLimit, Wait and WithContext,
// plus Map for ordered results. A batch on chanpool, ants or pond reads like
// errgroup, but its tasks run on the executor's bounded goroutines instead
// of a goroutine each.
//
// A Group waits only for its own tasks, so many groups (one per request,
// say) can share one executor, and SetLimit caps one group's share of it.
// The group never shuts the executor down.
//
// # Errors
//
// Wait returns the group's first error: a task's non-nil error, a task's
// panic as a *PanicError, or the reason a task could not be submitted
// (executor.ErrClosed, executor.ErrOverloaded from a Nonblocking executor,
// the group's context ending while Go waited), wrapped. A task that was not
// submitted never runs, and nothing waits for it. With WithContext, the
// first error cancels the derived Context, which also ends Go calls waiting
// for room.
//
// # Panics
//
// A task that panics is recovered on the goroutine that ran it, and Wait
// returns it as a *PanicError with the value and the stack: never a lost
// value, and never a crash of the process, nor of the executor's worker.
// The executor's PanicHandler does not see it, and its Stats do not count it
// as a panic. With WithContext the panic cancels the derived Context at
// once, like any error, so the rest of the batch stops promptly.
//
// Wait does not panic again with the value. golang.org/x/sync's errgroup
// did that (golang/go#53757, accepted in 2022, released in x/sync v0.15.0)
// and reverted it in v0.16.0, weeks later: carrying a panic to Wait delays
// it arbitrarily far into the future, or forever when Wait is called late
// or never (a group waited for only at shutdown), so mistakes that used to
// crash at once became latent (golang/go#74275 and #74306, closed with
// "revert it and allow crashes to happen"). errgroup went back to letting
// the panic crash the process at once. Here the task runs on a shared
// executor whose contract is that a panicking task never brings it down, so
// crashing is not an option either; re-panicking in Wait would bring back
// the latency errgroup backed away from and crash a caller (an HTTP
// handler, say) that can handle an error. The panic is an ordinary error
// instead, which the caller already has to check, at the one place it
// checks the batch's outcome, and which cancels the batch at once rather
// than at Wait.
//
// # Tasks that call Go
//
// A task may call Go on its own group, or on another (a tree walk, a
// fan-out inside a fan-out). If Go waited for room there, it could deadlock:
// when every worker runs a task that is waiting in Go, no worker is ever
// freed. So Go never waits when it is called from inside a task: when the
// group is at its limit, or the executor has no room, the task calls f
// itself, at once, on its own goroutine (Java's CallerRunsPolicy), and Go
// returns when f has. Otherwise f is submitted as usual and runs in
// parallel.
//
// "The executor has no room" means TrySubmit returned ErrOverloaded, on an
// executor that implements executor.TrySubmitter (all of swapexec's
// backends do). An executor without TrySubmit cannot be asked without
// waiting, so on one a task's Go always runs f itself: nested work runs,
// but not in parallel.
//
// A task is recognized by the group's task runner on the calling
// goroutine's stack. The stack walk costs some 70 ns a frame of the
// caller's stack (a third of a microsecond from a shallow one); it is done
// only when Go would otherwise wait: at the limit, or when TrySubmit finds
// no room, so never on the fast path of an executor with TrySubmit, but on
// every Go on one without it. So it is a task of any Group, not only this one,
// which is what keeps nested groups on one executor from deadlocking too;
// and a goroutine that a task starts is not a task: its Go waits, as any
// outside caller's does.
//
// What this does to the bounds: f run by a task runs on a goroutine that
// is already running one of the executor's tasks, so the executor never
// has more than Workers goroutines running tasks. The inline f counts as
// one of the group's outstanding tasks when it holds a slot of SetLimit
// (the executor was full), and runs without one when the group was at its
// limit (the calling task holds a slot already), so the group never has more
// than its limit of goroutines running its tasks either. The executor's
// Stats do not count an inline f: it is part of the calling task.
//
// Waiting inside a task for work submitted to the same executor (a nested
// group's Wait, or a channel fed by a queued task) can still deadlock, as
// the executor package documentation warns: only the waits inside Go are
// taken care of here.
package group
