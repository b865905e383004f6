// Package chanpool is the hand-rolled executor: the Rust book's thread pool
// (chapter 21, "Turning Our Single-Threaded Server into a Multithreaded
// Server") done in Go and hardened.
//
// Pick it for many small tasks on a pool of fixed size: handing over a task
// is one channel send and allocates nothing (tens of nanoseconds on a small
// machine, close to a bare channel), blocked submitters and idle workers
// cost no polling, and an idle Shutdown takes the same time whatever the
// queue size. What it costs: its Config.Workers goroutines live as long as
// the pool (unless Resize retires some), so an idle pool keeps their stacks,
// where ants reaps idle workers and pond starts them on demand; and every
// Submit writes two shared counters and every task's worker one, so from
// many submitters on many cores those cache lines are contended.
//
// It keeps the executor contract, checked by executortest, and has every
// optional ability: Stats, SubmitContext, TrySubmit and Resize (see Pool's
// methods). The design notes (how Shutdown can close the channel safely
// while Submits may still send, how TrySubmit and Resize work underneath)
// are comments in chanpool.go.
package chanpool
