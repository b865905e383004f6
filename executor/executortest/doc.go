// Package executortest is the conformance suite for implementations of
// executor.Executor, as testing/fstest is for file systems and
// golang.org/x/net/nettest for net.Conn.
//
// A backend proves it keeps the contract documented in package executor by
// running [Run] from one of its tests, with its constructor:
//
//	func TestConformance(t *testing.T) {
//		executortest.Run(t, mypool.New)
//	}
//
// where mypool.New has the type func(executor.Config) (executor.Executor, error).
// A constructor that returns a concrete type is adapted with a closure:
//
//	executortest.Run(t, func(cfg executor.Config) (executor.Executor, error) {
//		return mypool.New(cfg)
//	})
//
// The suite checks for goroutine leaks with go.uber.org/goleak, so the
// calling test must not use t.Parallel, and the package's TestMain should
// call goleak.VerifyTestMain as every swapexec package does. A backend built
// on a library that starts package-level goroutines lists them in
// Options.LeakOptions and calls [RunWithOptions] instead.
//
// # Subtests
//
// Each subtest builds fresh executors, shuts them down in t.Cleanup, fails
// after Options.Timeout instead of hanging, and after a Shutdown that
// returned nil checks that no goroutine started since the executor was built
// is still running. Failures say what was got and what was wanted; a subtest
// goes on after a failure wherever its later checks still mean something.
//
//   - InvalidConfig: a negative Workers or QueueSize makes the constructor
//     return an error wrapping executor.ErrInvalidConfig that names the field
//     and its value, and start no goroutine.
//   - ZeroConfig: the zero Config works, with GOMAXPROCS workers: exactly
//     that many tasks run at once and a further blocking Submit waits.
//   - MaxConcurrency: under load never more than Workers tasks run at once,
//     and Workers tasks do run at once (the pool is not smaller).
//   - NoTaskLost: 8 goroutines submit thousands of tasks each; every task
//     whose Submit returned nil runs exactly once, no rejected task runs, and
//     Stats (when reported) count them all.
//   - NilTask: Submit(nil) returns an error matching executor.ErrNilTask at
//     once, also when the executor is full, and no worker is handed nil.
//   - SubmitAfterShutdown: Submit after Shutdown returns an error matching
//     executor.ErrClosed, never panics, and its task never runs.
//   - ShutdownDrainsQueue: Shutdown waits for running and queued tasks, also
//     when called right after many Submits. (The full executor's tasks are
//     released once a Submit on it has returned ErrClosed, so Shutdown has
//     surely begun: a Submit that stays blocked fails here too.)
//   - ShutdownUnblocksSubmitters: Submits blocked on a full executor return
//     ErrClosed once Shutdown begins, without waiting for room.
//   - ShutdownRacesSubmit: with Submits racing Shutdown, every task accepted
//     has run by the time Shutdown returns nil, and Submit after that returns
//     ErrClosed; Stats (when reported) count exactly the accepted tasks.
//   - ShutdownDeadline: Shutdown whose context ends (deadline or canceled)
//     while a task runs returns ctx.Err() promptly and stops intake; the
//     accepted tasks, queued ones included, still finish in the background
//     with no further call, and a later Shutdown waits for them and returns
//     nil.
//   - ConcurrentShutdown: many goroutines calling Shutdown at once all wait
//     for the tasks and return nil (those with a canceled context return
//     ctx.Err()); repeated calls return nil.
//   - Panics: the PanicHandler sees each panic value exactly once, unwrapped
//     (custom error values and panic(nil) included), from the panicking
//     goroutine's deferred recover; a PanicHandler that panics is survived;
//     Workers tasks still run at once after more than Workers panics. (An
//     executor using backend.RunTask logs the PanicHandler's own panic
//     with log/slog: one ERROR line per run is expected.)
//   - Nonblocking: a fresh Nonblocking executor accepts Workers+QueueSize
//     tasks at once, before its workers could get ready; the next Submit
//     returns an error matching executor.ErrOverloaded without blocking; once
//     the tasks finish, it accepts again.
//   - NestedSubmit: a task that submits to its own full Nonblocking executor
//     gets ErrOverloaded instead of waiting forever, and what was accepted runs.
//   - QueueSize: with every worker busy exactly QueueSize more tasks are
//     accepted and none of them starts; a further Submit returns ErrOverloaded
//     (Nonblocking) or blocks until a task finishes (blocking).
//   - Stats: checked when the executor implements executor.StatsReporter
//     (else logged and skipped): Workers, Running and Queued while tasks are
//     blocked, and Submitted, Completed, Rejected (ErrOverloaded and
//     ErrClosed, not ErrNilTask) and Panicked, exact after Shutdown.
//
// The optional abilities are checked when the executor implements them (else
// logged and skipped):
//
//   - SubmitContext (executor.ContextSubmitter): a ctx done on entry is
//     refused at once, with room to spare, and the task never runs; on a full
//     executor a waiting call ends with its ctx (deadline and cancel) with
//     ctx's error; a waiter that gave up takes no room nor wake-up from the
//     one waiting behind it; an accepted task runs exactly once; after
//     Shutdown, ErrClosed; Stats.Rejected counts every refusal. Under churn
//     (callers giving up at random) nothing refused runs, nothing accepted
//     is lost, and the executor still has all its room afterwards.
//   - TrySubmit (executor.TrySubmitter): never waits, on blocking and
//     Nonblocking executors alike; a fresh executor takes Workers tasks and
//     then QueueSize more; the next returns ErrOverloaded, also while a
//     blocking Submit waits; after Shutdown, ErrClosed.
//   - Resize (executor.Resizer): a size below 1 or above executor.MaxCapacity
//     less QueueSize is an error wrapping executor.ErrInvalidConfig naming
//     the value, and after Shutdown ErrClosed; growing starts the queued
//     tasks and the waiting submitters at once and lets the new bound run
//     (and Nonblocking takes QueueSize more, then refuses); shrinking
//     interrupts no running task, and the new bound holds as tasks finish;
//     Stats.Workers is the new bound as soon as Resize returns; Resize racing
//     Submit, SubmitContext, TrySubmit, other Resizes and Shutdown loses no
//     accepted task, runs no refused one, and leaks nothing.
//
// The suite keeps task counts small enough that a correct backend passes in
// well under a second, so that backends can run it with go test -race
// -count=20.
package executortest
