package executorhttp

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// DefaultRetryAfter is the Retry-After a Handler with a zero RetryAfter sends
// with its 503 when the executor is overloaded.
const DefaultRetryAfter = time.Second

// Handler is an http.Handler that serves each request by running Handler on
// Executor, as described in the package documentation. Its fields are read
// on every request and must not change once it serves. A Handler is safe for
// concurrent use.
type Handler struct {
	// Executor runs the requests. Nil means no executor: Handler runs on
	// net/http's goroutine as if it were not wrapped.
	Executor executor.Executor

	// Handler serves the requests. Nil means http.NotFoundHandler().
	Handler http.Handler

	// RetryAfter is the delay sent in the Retry-After header, rounded up to
	// whole seconds, when the executor is overloaded. Zero or less means
	// DefaultRetryAfter.
	RetryAfter time.Duration
}

// PanicError is the value ServeHTTP panics with, on net/http's goroutine,
// when the wrapped handler panicked on the executor with any value other
// than http.ErrAbortHandler (which is raised again unchanged). Its Error
// message holds the handler's stack, which net/http's log would otherwise
// lose.
type PanicError struct {
	Value any    // the value the handler panicked with
	Stack []byte // the handler goroutine's stack, from debug.Stack
}

// Error returns the panic value and the handler's stack.
func (p *PanicError) Error() string {
	return fmt.Sprintf("executorhttp: handler panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error, else nil.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// The states of a call. Exactly one of the task (pending → running) and
// ServeHTTP (pending → abandoned) wins the compare-and-swap out of pending;
// the winner owns w and r until ServeHTTP returns.
const (
	pending   int32 = iota // accepted, not started; ServeHTTP waits
	running                // the task owns w and r until it sends on done
	abandoned              // the client left first; ServeHTTP has returned or will, and the task must touch nothing
)

// call is one request handed to the executor. Calls are recycled through
// calls once ServeHTTP has received from done, so that a request through
// the middleware allocates nothing in the common case.
type call struct {
	task  func()        // c.run, made once per call so Submit gets it without allocating
	done  chan struct{} // capacity 1: the task sends once it has finished with w and r
	next  http.Handler
	w     http.ResponseWriter
	r     *http.Request
	state atomic.Int32 // pending, running or abandoned; see above

	// Written by the task before it sends on done, read by ServeHTTP after.
	panicked bool
	panicVal any
	stack    []byte
}

var calls = sync.Pool{New: func() any {
	c := &call{done: make(chan struct{}, 1)}
	c.task = c.run
	return c
}}

// run is the task submitted to the executor.
func (c *call) run() {
	if !c.state.CompareAndSwap(pending, running) {
		// Abandoned: w and r may already be reused by net/http, and c is
		// never recycled, so nothing here is touched again.
		return
	}
	// Sending is the task's last use of c: ServeHTTP may recycle it at once.
	defer func() { c.done <- struct{}{} }()
	if c.r.Context().Err() != nil {
		return // the client left while the task was queued
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		// A nil value means runtime.Goexit (panic(nil) recovers as a
		// *runtime.PanicNilError since Go 1.21), which must proceed.
		if v := recover(); v != nil {
			c.panicked, c.panicVal = true, v
			if v != http.ErrAbortHandler {
				c.stack = debug.Stack()
			}
		}
	}()
	c.next.ServeHTTP(c.w, c.r)
	returned = true
}

// recycle clears c and returns it to calls. Only ServeHTTP calls it, once
// the task has sent on done or will never run.
func (c *call) recycle() {
	// Abandoned until reused: should an executor run a task it rejected,
	// breaking its contract, the task finds nothing to touch.
	c.state.Store(abandoned)
	c.next, c.w, c.r = nil, nil, nil
	c.panicked, c.panicVal, c.stack = false, nil, nil
	calls.Put(c)
}

// ServeHTTP submits the request to h.Executor and waits until the wrapped
// handler has finished with it. It returns at once, without calling the
// wrapped handler or writing anything, when the request's context is done
// before the handler starts. When Submit fails it writes the response listed
// in the package documentation. A panic in the wrapped handler is raised
// again here, unchanged if it is http.ErrAbortHandler and as a *PanicError
// otherwise.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	next := h.Handler
	if next == nil {
		next = http.NotFoundHandler()
	}
	if h.Executor == nil {
		next.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if ctx.Err() != nil {
		return // the client has gone: do not spend a task on it
	}
	c := calls.Get().(*call)
	c.next, c.w, c.r = next, w, r
	c.state.Store(pending)
	if err := h.Executor.Submit(c.task); err != nil {
		c.recycle() // a rejected task never runs
		h.reject(w, err)
		return
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		if c.state.CompareAndSwap(pending, abandoned) {
			// The task has not started and now never will touch w. It
			// still holds c, which is therefore not recycled.
			return
		}
		// The task started first and owns w: wait for it, whatever the client does.
		<-c.done
	}
	panicked, v, stack := c.panicked, c.panicVal, c.stack
	c.recycle()
	if panicked {
		if v == http.ErrAbortHandler {
			panic(http.ErrAbortHandler)
		}
		panic(&PanicError{Value: v, Stack: stack})
	}
}

// reject writes the response for a request the executor did not accept.
func (h *Handler) reject(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, executor.ErrOverloaded):
		w.Header().Set("Retry-After", retryAfterSeconds(h.RetryAfter))
		http.Error(w, "503 service unavailable: server overloaded, retry later", http.StatusServiceUnavailable)
	case errors.Is(err, executor.ErrClosed):
		w.Header().Set("Connection", "close")
		http.Error(w, "503 service unavailable: server shutting down", http.StatusServiceUnavailable)
	default:
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
	}
}

// retryAfterSeconds renders d as a Retry-After value: whole seconds, rounded
// up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		d = DefaultRetryAfter
	}
	secs := (d + time.Second - 1) / time.Second
	return strconv.FormatInt(int64(secs), 10)
}
