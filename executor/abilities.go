package executor

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
)

// ContextSubmitter is implemented by executors whose Submit can stop waiting.
// Callers discover it with a type assertion, or call the package-level
// [SubmitContext], which works on any Executor.
type ContextSubmitter interface {
	// SubmitContext is Submit, except that a wait for room ends when ctx is
	// done: it then returns an error matching ctx.Err() (errors.Is), and the
	// task never runs. If ctx is done on entry it returns at once and the task
	// never runs. A nil error means the task runs exactly once, as with Submit.
	//
	// A caller that waits inside SubmitContext holds no room: when it gives
	// up, the next waiter can take the room it would have had. With a ctx
	// that can never be done (context.Background), SubmitContext is Submit.
	SubmitContext(ctx context.Context, task func()) error
}

// TrySubmitter is implemented by executors that can try once, per call.
type TrySubmitter interface {
	// TrySubmit is Submit that never waits, on a blocking executor too: it
	// returns an error matching ErrOverloaded when Workers tasks run and
	// QueueSize wait, and only then. Like Submit it returns ErrClosed once
	// Shutdown has begun and ErrNilTask for a nil task.
	TrySubmit(task func()) error
}

// Resizer is implemented by executors whose bound can change while they run.
type Resizer interface {
	// Resize sets the most tasks that run at once to workers (at least 1; an
	// error wrapping ErrInvalidConfig otherwise; ErrClosed once Shutdown began).
	// Growing lets waiting submitters and queued tasks start at once; shrinking
	// never interrupts a running task: the bound holds again as tasks finish.
	// QueueSize does not change. Stats.Workers reports the new bound as soon
	// as Resize returns.
	Resize(workers int) error
}

// Outcome is how a task that reports its own end ended, for executors that
// learn from their tasks (executor/adaptive's SubmitSampled) and the callers
// that tell them (executorhttp). The three are those of Netflix
// concurrency-limits' Limiter.Listener: onSuccess, onIgnore and onDropped.
type Outcome uint8

const (
	// Succeeded: the task did its work. Its run time is a sample of load.
	// It is the zero Outcome.
	Succeeded Outcome = iota

	// Ignored: the task was shed before its work (its wait budget had
	// passed, say), or ended in a way that says nothing about load. It gives
	// no sample.
	Ignored

	// Dropped: the task ran, and its work was lost to overload: what it
	// called timed out or refused it, or the caller it served gave up (its
	// deadline passed, or its client left) while it ran. Netflix's gRPC
	// interceptor reports a call the same way when it ends in
	// DEADLINE_EXCEEDED or is canceled. A loss-based limit (AIMD) backs off
	// on it.
	Dropped
)

// String returns the Outcome's name: "succeeded", "ignored", "dropped", or
// "Outcome(n)" for a value that is none of them.
func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Ignored:
		return "ignored"
	case Dropped:
		return "dropped"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// SubmitContext submits task to ex with ctx: through ex's own SubmitContext
// when it has one; otherwise it keeps the same promise (the task never runs
// when an error is returned) for any Executor.
//
// For an Executor without SubmitContext, a ctx that can never be done
// (ctx.Done() returns nil) makes this a plain Submit. Otherwise, if ex
// implements [TrySubmitter], one TrySubmit is tried first; when that finds no
// room, Submit is called on a new goroutine with task wrapped so that it
// runs only if ctx was not done first. If ctx ends while that Submit waits,
// SubmitContext returns ctx.Err() at once, and the goroutine goes on waiting
// until ex accepts the wrapper (which then runs as a no-op, and counts in
// ex's Stats as a completed task) or refuses it. Executors that implement
// ContextSubmitter cost no goroutine.
func SubmitContext(ctx context.Context, ex Executor, task func()) error {
	if cs, ok := ex.(ContextSubmitter); ok {
		return cs.SubmitContext(ctx, task)
	}
	if task == nil {
		return ex.Submit(nil) // the executor's own ErrNilTask
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := ctx.Done()
	if done == nil {
		return ex.Submit(task)
	}
	if ts, ok := ex.(TrySubmitter); ok {
		if err := ts.TrySubmit(task); err == nil || !errors.Is(err, ErrOverloaded) {
			return err
		}
	}
	return submitAbandonable(ctx, ex, task)
}

// Claim states of an abandonable submission: the wrapper and the caller race
// to move it out of claimOpen, and whoever wins decides whether task runs.
const (
	claimOpen int32 = iota
	claimRan
	claimAbandoned
)

// submitAbandonable calls ex.Submit on a new goroutine with a wrapper that
// runs task unless the caller gave up first.
func submitAbandonable(ctx context.Context, ex Executor, task func()) error {
	var state atomic.Int32
	wrapper := func() {
		if state.CompareAndSwap(claimOpen, claimRan) {
			task()
		}
	}
	result := make(chan error, 1) // buffered: the goroutine never waits for the caller
	go func() { result <- ex.Submit(wrapper) }()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		if state.CompareAndSwap(claimOpen, claimAbandoned) {
			return ctx.Err()
		}
		// The wrapper already started task, so Submit accepted it (or is
		// about to return nil): report what it says.
		return <-result
	}
}
