package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
)

// Executor runs tasks on a bounded set of goroutines.
//
// Implementations must keep the contract described in the package
// documentation; executortest.Run checks it.
type Executor interface {
	// Submit hands task to the executor. A nil error means the task has been
	// accepted and will run exactly once, even if Shutdown follows at once.
	// When there is no room, Submit waits for room, unless the executor was
	// built with Config.Nonblocking, in which case it returns ErrOverloaded
	// at once. After Shutdown has begun it returns ErrClosed and the task
	// never runs. Submit(nil) returns ErrNilTask.
	Submit(task func()) error

	// Shutdown stops intake, waits for every accepted task to finish and for
	// every goroutine the executor started to end, and returns nil. If ctx
	// ends first it returns ctx.Err(); the accepted tasks still finish in the
	// background and a later call waits for them. Shutdown may be called any
	// number of times, from many goroutines at once.
	Shutdown(ctx context.Context) error
}

// Errors returned by executors. Implementations may wrap them with context;
// callers test them with errors.Is.
var (
	// ErrClosed is returned by Submit once Shutdown has begun.
	ErrClosed = errors.New("executor: closed")

	// ErrOverloaded is returned by a Nonblocking executor's Submit when
	// Workers tasks are running and QueueSize tasks are waiting.
	ErrOverloaded = errors.New("executor: overloaded")

	// ErrNilTask is returned by Submit when the task is nil.
	ErrNilTask = errors.New("executor: nil task")

	// ErrInvalidConfig is wrapped by constructors that reject a Config; the
	// message names the field, the value and what is allowed.
	ErrInvalidConfig = errors.New("executor: invalid config")
)

// MaxCapacity is the most Workers+QueueSize any executor accepts, in New and
// in Resize; a larger sum is an error wrapping ErrInvalidConfig. Backends
// allocate their queue up front, about 8 bytes per slot of Workers+QueueSize
// (so at most 32 MiB at this limit), and some start Workers goroutines at
// once: the limit keeps a mistyped size an error rather than an
// out-of-memory crash.
const MaxCapacity = 1 << 22

// Config configures an executor. The zero value is valid: GOMAXPROCS workers,
// no queue, blocking Submit, and panics logged with log/slog.
type Config struct {
	// Workers is the most tasks that run at once. Zero means
	// runtime.GOMAXPROCS(0); a negative value is an error.
	Workers int

	// QueueSize is the most tasks accepted but not yet started. Zero means
	// none: Submit succeeds only when a worker can take the task. A negative
	// value is an error, and so is a Workers+QueueSize above MaxCapacity.
	// The queue's memory (about 8 bytes a slot) is allocated up front.
	QueueSize int

	// Nonblocking selects what Submit does when there is no room: false, it
	// waits; true, it returns ErrOverloaded at once.
	Nonblocking bool

	// PanicHandler receives the value of each task that panics, on the
	// goroutine that ran the task, from inside the deferred recover, so
	// debug.Stack shows where the panic happened. Nil means
	// DefaultPanicHandler. A PanicHandler that itself panics is recovered and
	// logged; it never kills a worker.
	PanicHandler func(any)
}

// Normalize returns c with its defaults filled in (Workers from GOMAXPROCS,
// PanicHandler from DefaultPanicHandler), or an error wrapping
// ErrInvalidConfig that names the offending field, its value and what is
// allowed: negative sizes, and Workers+QueueSize above MaxCapacity. Backends call it first thing in their constructors.
func (c Config) Normalize() (Config, error) {
	if c.Workers < 0 {
		return c, fmt.Errorf("%w: Workers is %d; want 0 (GOMAXPROCS) or more", ErrInvalidConfig, c.Workers)
	}
	if c.QueueSize < 0 {
		return c, fmt.Errorf("%w: QueueSize is %d; want 0 (no queue) or more", ErrInvalidConfig, c.QueueSize)
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Workers > MaxCapacity || c.QueueSize > MaxCapacity-c.Workers {
		return c, fmt.Errorf("%w: Workers+QueueSize is %d+%d; want at most %d (executor.MaxCapacity)",
			ErrInvalidConfig, c.Workers, c.QueueSize, MaxCapacity)
	}
	if c.PanicHandler == nil {
		c.PanicHandler = DefaultPanicHandler
	}
	return c, nil
}

// DefaultPanicHandler logs a task's panic value and the current goroutine's
// stack with log/slog's default logger, at level Error. Called from a
// deferred recover, the stack shows where the task panicked.
func DefaultPanicHandler(v any) {
	slog.Error("executor: task panicked", "panic", v, "stack", string(debug.Stack()))
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
// stack (DefaultPanicHandler) shows where the task panicked.
func HandlePanic(v any, onPanic func(any)) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("executor: PanicHandler panicked", "panic", r, "task_panic", v, "stack", string(debug.Stack()))
		}
	}()
	onPanic(v)
}
