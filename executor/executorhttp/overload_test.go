package executorhttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executorhttp"
)

// TestOuterDeadlineWhileQueuedIs503 is the empty-200 repro from issue 11: a
// middleware's deadline on r.Context() passes while the request is queued
// behind a busy worker, and the client, still connected, must get a 503
// with Retry-After, not an empty 200.
func TestOuterDeadlineWhileQueuedIs503(t *testing.T) {
	pool, err := chanpool.New(executor.Config{Workers: 1, QueueSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Shutdown(context.Background())
	release := make(chan struct{})
	holding := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) {
		close(holding)
		<-release
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler ran after its deadline passed")
	})
	inner := &executorhttp.Handler{Executor: pool, Handler: mux}
	withDeadline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond)
		defer cancel()
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
	srv := httptest.NewServer(withDeadline)
	defer srv.Close()
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) }) // before srv.Close waits for /hold
	client := srv.Client()
	defer client.CloseIdleConnections()

	// /hold takes the worker; its own 50 ms deadline does not stop it.
	holdDone := make(chan struct{})
	go func() {
		defer close(holdDone)
		if resp, err := client.Get(srv.URL + "/hold"); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, holding, "the holding request's start")

	resp, err := client.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || len(body) == 0 {
		t.Errorf("GET / after its deadline passed in the queue: status %d, Retry-After %q, body %q; want 503, Retry-After 1 and a body",
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	releaseOnce.Do(func() { close(release) })
	waitFor(t, holdDone, "the holding request's end")
}

// hold takes every slot of g with tasks that block until the returned
// release is called (at the latest when the test ends).
func hold(t *testing.T, g *gate, n int) (release func()) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(func() { release(); g.Shutdown(context.Background()) })
	for i := 0; i < n; i++ {
		if err := g.Submit(func() { <-ch }); err != nil {
			t.Fatal(err)
		}
	}
	return release
}

// mustNotRun is a handler that fails the test if it is ever called.
func mustNotRun(t *testing.T) http.Handler {
	return http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran for a request that was not to be served")
	})
}

// TestCanceledWaitersLeaveSubmit: with an executor whose SubmitContext can
// stop waiting, clients that leave while waiting for room free it at once:
// their ServeHTTP returns, nothing waits in SubmitContext any more, and the
// next request takes the room as soon as it is free.
func TestCanceledWaitersLeaveSubmit(t *testing.T) {
	const clients = 8
	g := newGate(1)
	release := hold(t, g, 1)
	h := &executorhttp.Handler{Executor: g, Handler: mustNotRun(t)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var violations atomic.Int32
	var guards []*guard
	var dones []<-chan struct{}
	for i := 0; i < clients; i++ {
		gd, _, done := serve(h, httptest.NewRequest("GET", "/", nil).WithContext(ctx), &violations)
		guards, dones = append(guards, gd), append(dones, done)
	}
	for i := 0; i < clients; i++ {
		waitFor(t, g.entered, "a request waiting for room")
	}
	cancel()
	for _, done := range dones {
		waitFor(t, done, "ServeHTTP's return after its client left")
	}
	if n := g.waiters.Load(); n != 0 {
		t.Errorf("%d calls still wait in SubmitContext after every client left, want 0", n)
	}
	for i, gd := range guards {
		if n := gd.uses.Load(); n != 0 {
			t.Errorf("client %d: ResponseWriter used %d times for a client that left, want 0", i, n)
		}
	}

	release()
	rec := httptest.NewRecorder()
	(&executorhttp.Handler{Executor: g, Handler: http.HandlerFunc(hello)}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || rec.Body.String() != "hello" {
		t.Errorf("request after the room freed: %d %q, want 200 hello", rec.Code, rec.Body.String())
	}
}

// TestMaxWaitInSubmit: a request that finds no room within MaxWait gets
// ErrWaitBudget, by default 503 with Retry-After, and leaves SubmitContext.
func TestMaxWaitInSubmit(t *testing.T) {
	g := newGate(1)
	hold(t, g, 1)
	var got error
	for _, custom := range []bool{false, true} {
		h := &executorhttp.Handler{Executor: g, Handler: mustNotRun(t), MaxWait: 10 * time.Millisecond, RetryAfter: 2 * time.Second}
		if custom {
			h.Reject = func(w http.ResponseWriter, r *http.Request, err error) {
				got = err
				w.WriteHeader(http.StatusTooManyRequests)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if custom {
			if rec.Code != http.StatusTooManyRequests {
				t.Errorf("Reject: status %d, want Reject's 429", rec.Code)
			}
			if !errors.Is(got, executorhttp.ErrWaitBudget) || !errors.Is(got, context.DeadlineExceeded) {
				t.Errorf("Reject got %v; want ErrWaitBudget, matching context.DeadlineExceeded", got)
			}
		} else if rec.Code != 503 || rec.Header().Get("Retry-After") != "2" {
			t.Errorf("status %d, Retry-After %q; want 503 and 2", rec.Code, rec.Header().Get("Retry-After"))
		}
		if n := g.waiters.Load(); n != 0 {
			t.Errorf("%d calls still wait in SubmitContext after the budget passed, want 0", n)
		}
	}
}

// TestMaxWaitInQueue: a request accepted into the queue and not started
// within MaxWait gets 503 when the budget passes, and its task, when a
// worker reaches it, neither runs the handler nor touches the response, and
// reports executor.Ignored to SubmitSampled (shed, no sample).
func TestMaxWaitInQueue(t *testing.T) {
	s := newSampler(t)
	h := &executorhttp.Handler{Executor: s, Handler: mustNotRun(t), MaxWait: 10 * time.Millisecond}
	var violations atomic.Int32
	gd, rec, done := serve(h, httptest.NewRequest("GET", "/", nil), &violations)
	waitFor(t, done, "ServeHTTP's return once the budget passed")
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("status %d, Retry-After %q; want 503 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	uses := gd.uses.Load()
	if out := s.run(t); out != executor.Ignored {
		t.Errorf("the task of a request past its budget reported %v, want ignored (shed)", out)
	}
	if n := gd.uses.Load(); n != uses || violations.Load() != 0 {
		t.Errorf("the dropped task used the ResponseWriter %d times", n-uses)
	}
}

// TestMaxWaitDroppedAtDequeue: a task that starts after its budget, before
// ServeHTTP could notice, is dropped at dequeue: the handler does not run,
// the client gets 503, and the task reports executor.Ignored.
func TestMaxWaitDroppedAtDequeue(t *testing.T) {
	const budget = 5 * time.Millisecond
	l := &lateSampler{after: 2 * budget, results: make(chan executor.Outcome, 1)}
	h := &executorhttp.Handler{Executor: l, Handler: mustNotRun(t), MaxWait: budget}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("status %d, Retry-After %q; want 503 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if out := <-l.results; out != executor.Ignored {
		t.Errorf("the overdue task reported %v, want ignored (shed)", out)
	}
}

// TestSampledTaskReportsWork: a request served through SubmitSampled
// reports executor.Succeeded, also when its handler panics.
func TestSampledTaskReportsWork(t *testing.T) {
	for _, panics := range []bool{false, true} {
		s := newSampler(t)
		handler := http.Handler(http.HandlerFunc(hello))
		if panics {
			handler = panickingHandler(http.ErrAbortHandler)
		}
		h := &executorhttp.Handler{Executor: s, Handler: handler, MaxWait: time.Hour}
		var panicked any
		done := make(chan struct{})
		rec := httptest.NewRecorder()
		go func() {
			defer close(done)
			defer func() { panicked = recover() }()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		}()
		if out := s.run(t); out != executor.Succeeded {
			t.Errorf("panics=%v: task reported %v, want succeeded (the handler ran)", panics, out)
		}
		waitFor(t, done, "ServeHTTP's return")
		if panics != (panicked != nil) {
			t.Errorf("panics=%v: ServeHTTP panicked with %v", panics, panicked)
		}
		if !panics && (rec.Code != 200 || rec.Body.String() != "hello") {
			t.Errorf("got %d %q, want 200 hello", rec.Code, rec.Body.String())
		}
	}
}

// TestSampledTaskReportsDrop: a request whose context ends while its
// handler runs (a deadline passes, or the client leaves) reports
// executor.Dropped, its work lost, as Netflix's gRPC interceptor reports a
// DEADLINE_EXCEEDED or canceled call; what the handler wrote is left as
// it is.
func TestSampledTaskReportsDrop(t *testing.T) {
	for _, err := range []error{context.DeadlineExceeded, context.Canceled} {
		t.Run(err.Error(), func(t *testing.T) {
			s := newSampler(t)
			ctx := &endable{Context: context.Background(), done: make(chan struct{}), err: err}
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx.end() // ends while the handler runs
				hello(w, r)
			})
			h := &executorhttp.Handler{Executor: s, Handler: handler}
			done := make(chan struct{})
			rec := httptest.NewRecorder()
			go func() {
				defer close(done)
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil).WithContext(ctx))
			}()
			if out := s.run(t); out != executor.Dropped {
				t.Errorf("task reported %v, want dropped", out)
			}
			waitFor(t, done, "ServeHTTP's return")
			if rec.Code != 200 || rec.Body.String() != "hello" {
				t.Errorf("got %d %q, want the handler's 200 hello", rec.Code, rec.Body.String())
			}
		})
	}
}

// endable is a context the test ends when it chooses, with err: a
// deadline that passes exactly then.
type endable struct {
	context.Context
	done chan struct{}
	once sync.Once
	err  error
}

func (e *endable) end() { e.once.Do(func() { close(e.done) }) }

func (e *endable) Done() <-chan struct{} { return e.done }

func (e *endable) Err() error {
	select {
	case <-e.done:
		return e.err
	default:
		return nil
	}
}

// TestContextEndedBeforeStart covers every way a request's context can end
// before its handler starts, at entry and while queued: only a client that
// has gone gets nothing; the others get 503 with Retry-After by default,
// and Reject sees an error that says why.
func TestContextEndedBeforeStart(t *testing.T) {
	errShed := errors.New("shed by an outer middleware")
	tests := []struct {
		name      string
		ctx       func() (context.Context, func()) // a context and what ends it
		wantCode  int                              // 0: nothing written
		wantErrIs []error
	}{
		{"client gone", func() (context.Context, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, cancel
		}, 0, nil},
		{"deadline", func() (context.Context, func()) {
			e := &endable{Context: context.Background(), done: make(chan struct{}), err: context.DeadlineExceeded}
			return e, e.end
		}, 503, []error{context.DeadlineExceeded}},
		{"cancel with cause", func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(errShed) }
		}, 503, []error{context.Canceled, errShed}},
	}
	for _, tt := range tests {
		for _, where := range []string{"at entry", "while queued"} {
			for _, custom := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/Reject=%v", tt.name, where, custom), func(t *testing.T) {
					var rejected []error
					m := newManual()
					h := &executorhttp.Handler{Executor: m, Handler: mustNotRun(t)}
					want := tt.wantCode
					if custom {
						h.Reject = func(w http.ResponseWriter, r *http.Request, err error) {
							rejected = append(rejected, err)
							w.WriteHeader(http.StatusTeapot)
						}
						if want != 0 {
							want = http.StatusTeapot
						}
					}
					ctx, end := tt.ctx()
					defer end()
					if where == "at entry" {
						end()
					}
					var violations atomic.Int32
					gd, rec, done := serve(h, httptest.NewRequest("GET", "/", nil).WithContext(ctx), &violations)
					if where == "while queued" {
						task := receiveTask(t, m) // accepted, run only after the end
						end()
						waitFor(t, done, "ServeHTTP's return")
						task()
					}
					waitFor(t, done, "ServeHTTP's return")
					switch {
					case want == 0 && gd.uses.Load() != 0:
						t.Errorf("ResponseWriter used %d times for a client that left, want 0", gd.uses.Load())
					case want != 0 && rec.Code != want:
						t.Errorf("status %d, want %d", rec.Code, want)
					case want == 503 && rec.Header().Get("Retry-After") != "1":
						t.Errorf("Retry-After %q, want 1", rec.Header().Get("Retry-After"))
					}
					if n := violations.Load(); n != 0 {
						t.Errorf("ResponseWriter used %d times after ServeHTTP returned", n)
					}
					if !custom {
						return
					}
					if tt.wantCode == 0 {
						if len(rejected) != 0 {
							t.Errorf("Reject called with %v for a client that left", rejected)
						}
						return
					}
					if len(rejected) != 1 {
						t.Fatalf("Reject called %d times, want 1", len(rejected))
					}
					for _, target := range tt.wantErrIs {
						if !errors.Is(rejected[0], target) {
							t.Errorf("Reject got %v, want it to match %v", rejected[0], target)
						}
					}
					if errors.Is(rejected[0], executorhttp.ErrWaitBudget) {
						t.Errorf("Reject got %v, which matches ErrWaitBudget, for a context that ended by itself", rejected[0])
					}
				})
			}
		}
	}
}

// TestRejectSeesSubmitErrors: Reject gets Submit's error unchanged and
// replaces the default response.
func TestRejectSeesSubmitErrors(t *testing.T) {
	for _, want := range []error{
		fmt.Errorf("pool: %w", executor.ErrOverloaded),
		fmt.Errorf("pool: %w", executor.ErrClosed),
		errors.New("pool: broken"),
	} {
		var got error
		var gotReq *http.Request
		h := &executorhttp.Handler{Executor: &manual{err: want}, Handler: mustNotRun(t),
			Reject: func(w http.ResponseWriter, r *http.Request, err error) {
				got, gotReq = err, r
				w.WriteHeader(http.StatusTooManyRequests)
			}}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		h.ServeHTTP(rec, req)
		if got != want || gotReq != req || rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "" {
			t.Errorf("Submit error %v: Reject got %v (same request: %v), status %d, Retry-After %q; want the error itself, the request, Reject's 429 alone",
				want, got, gotReq == req, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
}
