package executor

import (
	"context"
	"errors"
	"log/slog"
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

// DefaultPanicHandler logs a task's panic value and the current goroutine's
// stack with log/slog's default logger, at level Error. Called from a
// deferred recover, the stack shows where the task panicked.
func DefaultPanicHandler(v any) {
	slog.Error("executor: task panicked", "panic", v, "stack", string(debug.Stack()))
}
