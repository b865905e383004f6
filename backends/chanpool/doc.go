// Package chanpool is the hand-rolled executor: the Rust book's thread pool
// (chapter 21, "Turning Our Single-Threaded Server into a Multithreaded
// Server") done in Go and hardened.
//
// A set of Config.Workers goroutines, started by New, receive tasks from one
// channel whose buffer is Config.QueueSize (Workers+QueueSize when
// Nonblocking). Shutdown is the book's "drop the sender, then join": it stops
// intake, lets the workers drain what is queued, and waits for them to exit,
// bounded here by a context. Go cannot drop the sender while a Submit may
// still be sending (closing the channel would make that send panic), so
// every Submit registers in one counter before it sends, and stays counted
// until its task has finished (or it gave up). Shutdown marks that counter
// closed; whoever brings it to zero afterwards (Shutdown itself for an idle
// pool, else the last task to finish or the last Submit to give up) closes
// the channel, and the workers range out of it. An idle Shutdown thus costs
// the same whatever QueueSize is. A blocking Submit that finds room pays two
// atomic adds beside its send (the registration, and Stats' Submitted), and
// the worker one per task (the deregistration): on a 2-core machine, about
// 10 ns a tiny task (some 20%) over the earlier design, which wrote no
// shared counter per task and paid at Shutdown instead, by filling the
// channel's buffer with nils.
//
// Beyond the book: a panicking task is recovered, its value handed to
// Config.PanicHandler through backend.HandlePanic, and its worker keeps
// serving (one deferred recover covers a worker's whole run of tasks, so a
// task that returns pays for none); a task that calls runtime.Goexit ends
// only its worker's goroutine, which is replaced at once; Submit never
// panics after Shutdown; submitters waiting for room are woken by Shutdown;
// and a Nonblocking pool admits exactly Workers+QueueSize outstanding tasks,
// whether or not the workers have reached their receive yet.
//
// # Abilities
//
// Pool implements executor.ContextSubmitter, executor.TrySubmitter and
// executor.Resizer natively:
//
//   - SubmitContext waits for room in one select on the task channel,
//     Shutdown and ctx.Done(): no goroutine, no timer. With a ctx whose Done
//     is nil it is Submit.
//   - TrySubmit registers only while fewer than Workers+QueueSize tasks are
//     registered (running, queued, on their way, or Submits waiting for
//     room), as a Nonblocking Submit does, so it never waits for a task to
//     finish. Its room may be a worker still on its way to the channel (a
//     new one, or one between tasks): then it waits for that worker, and a
//     blocking Submit that registers beyond the bound meanwhile waits until
//     such TrySubmits have handed over their tasks, so that it cannot take
//     that worker first. One race remains: if Resize shrinks the pool while
//     a TrySubmit waits so, the worker it waits for may retire instead, and
//     the TrySubmit then waits until a running task finishes (its task was
//     accepted under the old bound).
//   - Resize grows the pool by starting worker goroutines (or by keeping
//     ones that an earlier shrink had asked to retire), and shrinks it by
//     sending retire tokens on a second channel, one per worker too many.
//     A worker looks for a token before each task and while it waits, so an
//     idle worker retires at once and a busy one after its current task; a
//     running task is never interrupted. Only a waiting worker watches both
//     channels; one that finds its next task at once pays for a lock-free
//     look at the empty token channel.
//
// Unlike ants and pond, chanpool keeps its workers for its whole life unless
// Resize retires them: no reaping of idle workers, no spawning on demand.
package chanpool
