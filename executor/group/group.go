package group

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

// errZeroGroup is the error of a Group not made by New or WithContext, or
// made with a nil Executor.
var errZeroGroup = errors.New("group: no executor; make the Group with New or WithContext and a non-nil Executor")

// errGoexit is recorded for a task that called runtime.Goexit (t.FailNow
// does): it neither returned nor panicked, so it did not succeed.
var errGoexit = errors.New("group: task called runtime.Goexit")

// Group is a set of tasks run on an executor.Executor, waited for together,
// whose first error is kept, as errgroup.Group's is. Its methods are safe
// for concurrent use. The zero Group is not usable: its Go records an error
// and runs nothing. Make one with New or WithContext.
type Group struct {
	// What every Go reads and every task writes comes first, so that it
	// shares as few cache lines as it can: the submitting goroutine and
	// the tasks run on different CPUs, and a task's end writes wg and
	// lim.out.
	ex executor.Executor
	ts executor.TrySubmitter // ex if it implements it, else nil: asserted once, not per Go
	// done is ctx.Done(), or nil for New: Go tests it with a non-blocking
	// receive, with no call through the interface and no lock.
	done <-chan struct{}
	wg   sync.WaitGroup // this group's tasks: accepted by ex (or run inline) and not finished
	lim  limiter

	// ctx bounds every wait inside Go: for a slot under SetLimit and for
	// room in ex. New uses context.Background; WithContext the derived ctx.
	ctx    context.Context
	cancel context.CancelCauseFunc // nil for New

	errOnce sync.Once
	err     error // the first error; written once under errOnce, read after wg.Wait
}

// New returns a Group that runs its tasks on ex, which it never shuts down
// and may share with other callers. Its Go calls wait for room in ex for as
// long as it takes; use WithContext to bound those waits.
func New(ex executor.Executor) *Group {
	ts, _ := ex.(executor.TrySubmitter)
	return &Group{ex: ex, ts: ts, ctx: context.Background()}
}

// WithContext returns a Group that runs its tasks on ex, and a Context
// derived from ctx. The derived Context is canceled, with the error as its
// cause (context.Cause), the first time a task returns a non-nil error,
// panics, or cannot be submitted, or the first time Wait returns, whichever
// comes first. Go calls that wait (for room in ex or for a slot under
// SetLimit) stop waiting when the derived Context is done, and a Go call
// made once it is done runs nothing: its error becomes the group's error
// unless an earlier one was recorded.
func WithContext(ctx context.Context, ex executor.Executor) (*Group, context.Context) {
	dctx, cancel := context.WithCancelCause(ctx)
	ts, _ := ex.(executor.TrySubmitter)
	return &Group{ex: ex, ts: ts, done: dctx.Done(), ctx: dctx, cancel: cancel}, dctx
}

// Go submits f to the group's executor, to be called once on one of its
// goroutines, and returns once the executor has accepted it, without
// waiting for f to run. If f returns a non-nil error or panics, that is the
// group's error unless an earlier one was recorded; a panic becomes a
// *PanicError.
//
// Go waits while the group is at its limit (SetLimit), then while the
// executor has no room, as Submit does; a Nonblocking executor's
// ErrOverloaded is not waited out. The waits end when the group's context
// (WithContext) is done; the wait for room is executor.SubmitContext's, so
// on an executor without a native SubmitContext it costs a goroutine. When f cannot be submitted (the wait ended, the
// context was done on entry, the executor returned ErrClosed or
// ErrOverloaded, or f is nil) f never runs, nothing waits for it, and the
// error, wrapped, is the group's error unless an earlier one was recorded.
//
// Go called from inside a task (see the package documentation, "Tasks that
// call Go") does not wait: when the group is at its limit or the executor
// has no room, it calls f itself, on the calling goroutine, and returns
// when f has returned.
func (g *Group) Go(f func() error) {
	if g.ex == nil {
		g.fail(errZeroGroup)
		return
	}
	if f == nil {
		g.fail(fmt.Errorf("group: Go(nil): %w", executor.ErrNilTask))
		return
	}
	if g.ctxDone() {
		g.fail(fmt.Errorf("group: task not started: %w", g.ctx.Err()))
		return
	}
	if !g.lim.tryAcquire() {
		if calledFromTask() {
			g.runInline(f, false)
			return
		}
		if err := g.lim.acquire(g.ctx); err != nil {
			g.fail(fmt.Errorf("group: task not started: waiting for a slot under SetLimit: %w", err))
			return
		}
	}
	g.wg.Add(1)
	task := func() { runTask(g, f, true) }
	inline, err := g.submit(task)
	switch {
	case inline:
		// f counts as this group's outstanding task while it runs here,
		// with the slot it holds; runTask releases both.
		task()
	case err != nil:
		g.wg.Done()
		g.lim.release()
		g.fail(fmt.Errorf("group: task not started: %w", err))
	}
}

// ctxDone reports whether the group's context is done. A closed Done
// channel means Err is set: a cancelCtx sets its error before it closes
// the channel.
func (g *Group) ctxDone() bool {
	if g.done == nil {
		return false
	}
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// submit hands task to the executor. It reports inline, and submits
// nothing, when the caller is to run task itself: the executor has no room
// (or cannot be asked without waiting) and the caller is a task.
func (g *Group) submit(task func()) (inline bool, err error) {
	if g.ts != nil {
		err := g.ts.TrySubmit(task)
		if err == nil || !errors.Is(err, executor.ErrOverloaded) {
			return false, err
		}
	}
	// Either the executor is full, or it cannot say whether it is without
	// making the caller wait. A task must not wait: it may hold the very
	// worker the wait is for.
	if calledFromTask() {
		return true, nil
	}
	return false, executor.SubmitContext(g.ctx, g.ex, task)
}

// runInline runs f on the calling goroutine as one of the group's tasks;
// slot says whether it holds a slot of the limiter to give back.
func (g *Group) runInline(f func() error, slot bool) {
	g.wg.Add(1)
	runTask(g, f, slot)
}

// TryGo submits f as Go does if that can be done without waiting, and
// reports whether it did. It returns false, and f never runs, when the
// group is at its limit (SetLimit), when the executor has no room or
// refuses f for any other reason (ErrClosed), when the group's context is
// done, and when f is nil; none of these is recorded as the group's error,
// since the caller learns of them from the result. TryGo never runs f on the
// calling goroutine.
//
// TryGo needs an executor that implements executor.TrySubmitter (all of
// swapexec's backends do): it cannot ask any other executor for room
// without risking a wait, so on one it always returns false.
func (g *Group) TryGo(f func() error) bool {
	ts := g.ts
	if ts == nil || f == nil || g.ctxDone() {
		return false
	}
	if !g.lim.tryAcquire() {
		return false
	}
	g.wg.Add(1)
	if err := ts.TrySubmit(func() { runTask(g, f, true) }); err != nil {
		g.wg.Done()
		g.lim.release()
		return false
	}
	return true
}

// SetLimit limits the group to n outstanding tasks (submitted and not yet
// finished, running or queued in the executor); a negative n removes the
// limit, and a limit of zero lets no task start until it is raised. Go
// waits for a slot, TryGo refuses without one. The limit is the group's
// own share of an executor it may share with other callers; the executor's
// own bound still applies.
//
// SetLimit may be called at any time: tasks already outstanding count
// against the new limit, so after lowering it no task starts until enough
// of them have finished, and raising it lets waiting Go calls through at
// once, oldest first.
func (g *Group) SetLimit(n int) {
	g.lim.setLimit(n)
}

// Wait blocks until every task that Go or TryGo submitted to this group has
// returned, then returns the group's first error, or nil. It waits for this
// group's tasks only, not for the rest of a shared executor's work, and it
// never shuts the executor down. With WithContext, Wait cancels the derived
// Context before returning.
//
// A task that panicked is reported as a *PanicError, not panicked again
// here: see the package documentation, "Panics".
func (g *Group) Wait() error {
	g.wg.Wait()
	if g.cancel != nil {
		g.cancel(g.err)
	}
	return g.err
}

// fail records err as the group's error if it is the first, and cancels the
// group's context.
func (g *Group) fail(err error) {
	g.errOnce.Do(func() {
		g.err = err
		if g.cancel != nil {
			g.cancel(err)
		}
	})
}

// runTask runs f as one of g's tasks: it records f's error, or its panic as
// a *PanicError, and then marks the task finished and gives back its slot
// (if slot). calledFromTask finds a goroutine running a task by this
// function's frame, which is why it must not be inlined.
//
//go:noinline
func runTask(g *Group, f func() error, slot bool) {
	var err error
	finished := false
	defer func() {
		if !finished && err == nil {
			err = errGoexit // the one way out that leaves both unset
		}
		if err != nil {
			g.fail(err)
		}
		if slot {
			g.lim.release()
		}
		g.wg.Done()
	}()
	backend.RunTask(func() { err = f() }, func(v any) {
		err = &PanicError{Value: v, Stack: debug.Stack()}
	})
	finished = true
}

// calledFromTask reports whether the calling goroutine is running a task of
// any Group, found by a return address inside runTask on its stack. It
// compares raw program counters with runTask's code range, walking the
// stack 32 frames at a time, with no symbol lookup per frame and no
// allocation: the cost is the runtime's unwinding, some 70 ns a frame.
func calledFromTask() bool {
	code := runTaskCode()
	var pcs [32]uintptr
	for skip := 2; ; {
		n := runtime.Callers(skip, pcs[:])
		for _, pc := range pcs[:n] {
			// pc is a return address: pc-1 is inside the calling function.
			if code.contains(pc - 1) {
				return true
			}
		}
		if n < len(pcs) {
			return false
		}
		skip += n
	}
}

// codeRange is a function's machine code, [start, end).
type codeRange struct{ start, end uintptr }

func (r codeRange) contains(pc uintptr) bool { return r.start <= pc && pc < r.end }

// runTaskCode is runTask's code range, found once. It is a constant of the
// running program (Go never moves or unloads code), computed lazily
// because the runtime only exposes it through lookups.
var runTaskCode = sync.OnceValue(func() codeRange {
	entry := runtime.FuncForPC(reflect.ValueOf(runTask).Pointer()).Entry()
	in := func(pc uintptr) bool {
		f := runtime.FuncForPC(pc)
		return f != nil && f.Entry() == entry
	}
	// A function's code is contiguous, and every pc from its entry up to
	// the next function's entry belongs to it: so in is true from entry
	// up to some end and false after it. Find that end by doubling, then
	// by bisection.
	lo, hi := uintptr(0), uintptr(64)
	for in(entry + hi) {
		lo, hi = hi, 2*hi
	}
	// Now in(entry+lo) and !in(entry+hi).
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if in(entry + mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return codeRange{start: entry, end: entry + hi}
})
