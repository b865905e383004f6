package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// errSoakPanic is what the panicking tasks panic with.
var errSoakPanic = errors.New("soak: a task panicked on purpose")

// abilities names the optional abilities ex has, which the soak uses.
func abilities(ex executor.Executor) string {
	var out []string
	if _, ok := ex.(executor.ContextSubmitter); ok {
		out = append(out, "SubmitContext")
	}
	if _, ok := ex.(executor.TrySubmitter); ok {
		out = append(out, "TrySubmit")
	}
	if _, ok := ex.(executor.Resizer); ok {
		out = append(out, "Resize")
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// workload is the mixed load of one soak and its own count of what
// happened, to hold the executor's Stats against. Its methods are safe for
// concurrent use.
//
// The mix, per submitter call, is what a service's executor sees: mostly
// short CPU tasks; tasks that allocate up to 64 KiB, a few of which stay in
// a bounded cache; I/O-like tasks that sleep up to 2 ms, submitted with a
// 1 ms deadline (SubmitContext); best-effort TrySubmits; 1% tasks that
// panic; 1% tasks that TrySubmit a child and run it inline when there is no
// room (the nested submit the contract allows). No task calls
// runtime.Goexit: a service's task that does is a bug (t.FailNow outside a
// test); the fuzz target in executortest covers it.
type workload struct {
	ex  executor.Executor
	try executor.TrySubmitter     // nil if ex lacks TrySubmit: those calls become Submit
	cs  executor.ContextSubmitter // nil if ex lacks SubmitContext: those calls become Submit

	accepted  atomic.Uint64 // Submit, SubmitContext or TrySubmit returned nil
	rejected  atomic.Uint64 // they returned an error (never ErrNilTask: no task is nil)
	ran       atomic.Uint64 // accepted tasks that started on the executor
	panicked  atomic.Uint64 // tasks that started and then panicked
	handled   atomic.Uint64 // PanicHandler calls
	inline    atomic.Uint64 // children run inline because TrySubmit refused them
	sink      atomic.Uint64 // keeps the CPU work from being optimised away
	cache     [128]atomic.Pointer[[]byte]
	cacheNext atomic.Uint64

	mu         sync.Mutex
	unexpected []string // errors no call should return while the load runs; at most maxUnexpected
}

const maxUnexpected = 5

func newWorkload(ex executor.Executor) *workload {
	w := &workload{ex: ex}
	w.try, _ = ex.(executor.TrySubmitter)
	w.cs, _ = ex.(executor.ContextSubmitter)
	return w
}

// panicHandler is the executor's Config.PanicHandler.
func (w *workload) panicHandler(v any) {
	if v != errSoakPanic {
		w.note(fmt.Sprintf("PanicHandler got %v; want only the soak's own panics", v))
	}
	w.handled.Add(1)
}

// submitter submits tasks until ctx ends. seed makes each submitter's mix
// differ and repeat.
func (w *workload) submitter(ctx context.Context, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	for ctx.Err() == nil {
		switch n := rng.IntN(1000); {
		case n < 10:
			w.count(w.ex.Submit(w.task(w.panics)), false)
		case n < 20:
			w.count(w.ex.Submit(w.task(w.nested(rng.Uint64()))), false)
		case n < 100:
			d := time.Duration(rng.IntN(2000)) * time.Microsecond
			w.count(w.submitContext(ctx, w.task(func() { w.io(d) })), true)
		case n < 150:
			w.count(w.trySubmit(w.task(w.cpu(rng.Uint64()))), false)
		case n < 300:
			w.count(w.ex.Submit(w.task(w.alloc(rng.IntN(7), rng.IntN(64) == 0))), false)
		default:
			w.count(w.ex.Submit(w.task(w.cpu(rng.Uint64()))), false)
		}
	}
}

// task wraps body so that the executor's runs of it are counted.
func (w *workload) task(body func()) func() {
	return func() {
		w.ran.Add(1)
		body()
	}
}

// submitContext submits task with a 1 ms deadline, through the
// executor's own SubmitContext. An executor without one gets Submit:
// executor.SubmitContext's fallback may still run a no-op wrapper after it
// returned ctx's error, which the exact counts here cannot tell apart.
func (w *workload) submitContext(ctx context.Context, task func()) error {
	if w.cs == nil {
		return w.ex.Submit(task)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	return w.cs.SubmitContext(sctx, task)
}

// trySubmit is TrySubmit, or Submit for an executor without it.
func (w *workload) trySubmit(task func()) error {
	if w.try == nil {
		return w.ex.Submit(task)
	}
	return w.try.TrySubmit(task)
}

// count records a submit's outcome. ErrOverloaded is expected from
// TrySubmit and a Nonblocking executor, a context error from SubmitContext
// (withCtx); anything else while the load runs is noted as unexpected.
func (w *workload) count(err error, withCtx bool) {
	if err == nil {
		w.accepted.Add(1)
		return
	}
	w.rejected.Add(1)
	switch {
	case errors.Is(err, executor.ErrOverloaded):
	case withCtx && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
	default:
		w.note(fmt.Sprintf("submit returned %v", err))
	}
}

func (w *workload) note(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.unexpected) < maxUnexpected {
		w.unexpected = append(w.unexpected, s)
	}
}

// Unexpected returns the unexpected errors noted, at most maxUnexpected.
func (w *workload) Unexpected() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.unexpected...)
}

// cpu hashes a few hundred bytes.
func (w *workload) cpu(x uint64) func() {
	return func() {
		h := fnv.New64a()
		var b [8]byte
		for i := 0; i < 32; i++ {
			x = x*6364136223846793005 + 1442695040888963407
			for j := range b {
				b[j] = byte(x >> (8 * j))
			}
			h.Write(b[:])
		}
		if h.Sum64() == 0 {
			w.sink.Add(1)
		}
	}
}

// alloc allocates 1 KiB << shift and touches it; if keep, the buffer
// replaces the oldest in a 128-entry cache, so the live heap stays bounded.
func (w *workload) alloc(shift int, keep bool) func() {
	return func() {
		b := make([]byte, 1024<<shift)
		for i := 0; i < len(b); i += 512 {
			b[i] = byte(i)
		}
		if keep {
			w.cache[w.cacheNext.Add(1)%uint64(len(w.cache))].Store(&b)
		}
	}
}

// io stands for a call to another service: it sleeps for d.
func (w *workload) io(d time.Duration) {
	t := time.NewTimer(d)
	<-t.C
}

func (w *workload) panics() {
	w.panicked.Add(1)
	panic(errSoakPanic)
}

// nested TrySubmits a child CPU task from inside a task, and runs it inline
// when the executor has no room (or has begun Shutdown, once the load
// ends). It never waits for the child.
func (w *workload) nested(x uint64) func() {
	return func() {
		child := w.cpu(x)
		if w.try == nil {
			// A blocking Submit from a task can deadlock the executor.
			w.inline.Add(1)
			child()
			return
		}
		err := w.try.TrySubmit(w.task(child))
		if err == nil {
			w.accepted.Add(1)
			return
		}
		w.rejected.Add(1)
		if !errors.Is(err, executor.ErrOverloaded) && !errors.Is(err, executor.ErrClosed) {
			w.note(fmt.Sprintf("nested TrySubmit returned %v", err))
		}
		w.inline.Add(1)
		child()
	}
}
