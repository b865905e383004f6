package backend

import (
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"

	"github.com/swapexec/swapexec/executor"
)

// Normalize returns c, a backend's Config, with its defaults filled in (Workers from GOMAXPROCS,
// PanicHandler from executor.DefaultPanicHandler), or an error wrapping
// executor.ErrInvalidConfig that names the offending field, its value and what is
// allowed: negative sizes, and Workers+QueueSize above executor.MaxCapacity. Backends call it first thing in their constructors.
func Normalize(c executor.Config) (executor.Config, error) {
	if c.Workers < 0 {
		return c, fmt.Errorf("%w: Workers is %d; want 0 (GOMAXPROCS) or more", executor.ErrInvalidConfig, c.Workers)
	}
	if c.QueueSize < 0 {
		return c, fmt.Errorf("%w: QueueSize is %d; want 0 (no queue) or more", executor.ErrInvalidConfig, c.QueueSize)
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Workers > executor.MaxCapacity || c.QueueSize > executor.MaxCapacity-c.Workers {
		return c, fmt.Errorf("%w: Workers+QueueSize is %d+%d; want at most %d (executor.MaxCapacity)",
			executor.ErrInvalidConfig, c.Workers, c.QueueSize, executor.MaxCapacity)
	}
	if c.PanicHandler == nil {
		c.PanicHandler = executor.DefaultPanicHandler
	}
	return c, nil
}

// CheckResize returns nil if workers is a bound Resize accepts for an
// executor with queueSize (at least 1, and workers+queueSize at most
// executor.MaxCapacity), or else an error wrapping executor.ErrInvalidConfig that names the
// value and what is allowed. Backends call it first thing in Resize.
func CheckResize(workers, queueSize int) error {
	if workers < 1 {
		return fmt.Errorf("%w: Resize(%d); want 1 or more workers", executor.ErrInvalidConfig, workers)
	}
	if workers > executor.MaxCapacity-queueSize {
		return fmt.Errorf("%w: Resize(%d) with QueueSize %d; want workers+QueueSize at most %d (executor.MaxCapacity)",
			executor.ErrInvalidConfig, workers, queueSize, executor.MaxCapacity)
	}
	return nil
}

// RunTask calls task and recovers a panic from it, handing the value to
// onPanic. It reports whether task panicked. A panic inside onPanic is
// recovered too and logged with log/slog, so RunTask returns normally unless
// task calls runtime.Goexit, which RunTask lets proceed: it ends the calling
// goroutine, and onPanic is not called. panic(nil) under GODEBUG=panicnil=1,
// which recovers as nil, is a panic all the same: onPanic gets a
// *runtime.PanicNilError (called after the unwinding, so a stack it prints
// shows RunTask's caller, not the panic). Backends call RunTask around every
// task so that a panic never kills a worker.
//
// An onPanic that calls runtime.Goexit (t.FailNow does) ends the goroutine
// before RunTask returns: a backend that counts panics from RunTask's result
// misses that one, so count inside onPanic, before calling the user's
// handler.
func RunTask(task func(), onPanic func(any)) (panicked bool) {
	// The returned flag, not a deferred recover alone, tells a finished task
	// from one that unwound: recover is only called when task did not return.
	returned := false
	func() {
		defer func() {
			if returned {
				return
			}
			// A nil value here means runtime.Goexit, which must not be
			// stopped and goes on unwinding past this function, or
			// panic(nil) under GODEBUG=panicnil=1, which this recover
			// stopped: then RunTask goes on below.
			if v := recover(); v != nil {
				panicked = true
				HandlePanic(v, onPanic)
			}
		}()
		task()
		returned = true
	}()
	// Reached after task neither returned nor panicked with a value: it
	// called panic(nil) under GODEBUG=panicnil=1 (Goexit never gets here).
	if !returned && !panicked {
		panicked = true
		HandlePanic(new(runtime.PanicNilError), onPanic)
	}
	return panicked
}

// HandlePanic hands v, the value recovered from a panicking task, to
// onPanic, as RunTask does: a panic inside onPanic is recovered and logged
// with log/slog, so HandlePanic always returns. It is for backends that
// recover panics themselves rather than through RunTask, for example with
// one deferred recover around a worker's whole run of tasks. Call it from
// the deferred function that recovered v, so that a handler that prints the
// stack (executor.DefaultPanicHandler) shows where the task panicked.
func HandlePanic(v any, onPanic func(any)) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("executor: PanicHandler panicked", "panic", r, "task_panic", v, "stack", string(debug.Stack()))
		}
	}()
	onPanic(v)
}
