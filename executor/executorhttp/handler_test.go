package executorhttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executorhttp"
)

// wait is how long a test waits for something that must happen before it
// declares a hang.
const wait = 10 * time.Second

// guard wraps a ResponseWriter and counts every use of it after ServeHTTP
// has returned, which net/http forbids.
type guard struct {
	http.ResponseWriter
	returned   atomic.Bool
	violations *atomic.Int32
	uses       atomic.Int32 // every call, before or after
}

func (g *guard) touch() {
	g.uses.Add(1)
	if g.returned.Load() {
		g.violations.Add(1)
	}
}

func (g *guard) Header() http.Header         { g.touch(); return g.ResponseWriter.Header() }
func (g *guard) Write(b []byte) (int, error) { g.touch(); return g.ResponseWriter.Write(b) }
func (g *guard) WriteHeader(code int)        { g.touch(); g.ResponseWriter.WriteHeader(code) }

func (g *guard) Flush() {
	g.touch()
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// serve calls h.ServeHTTP with a guarded recorder and reports, on the
// returned channel, the guard once ServeHTTP has returned.
func serve(h http.Handler, r *http.Request, violations *atomic.Int32) (*guard, *httptest.ResponseRecorder, <-chan struct{}) {
	rec := httptest.NewRecorder()
	g := &guard{ResponseWriter: rec, violations: violations}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(g, r)
		g.returned.Store(true)
	}()
	return g, rec, done
}

func waitFor(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(wait):
		t.Fatalf("%s did not happen within %v", what, wait)
	}
}

func receiveTask(t *testing.T, m *manual) func() {
	t.Helper()
	select {
	case task := <-m.tasks:
		return task
	case <-time.After(wait):
		t.Fatalf("no task submitted within %v", wait)
		return nil
	}
}

func hello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "hello")
}

func TestServeHTTPRunsHandlerAsTaskAndWaits(t *testing.T) {
	m := newManual()
	serveDone := make(chan struct{})
	var ran atomic.Bool
	h := &executorhttp.Handler{Executor: m, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-serveDone:
			t.Error("ServeHTTP returned before the handler ran")
		default:
		}
		ran.Store(true)
		hello(w, r)
	})}
	var violations atomic.Int32
	_, rec, done := serve(h, httptest.NewRequest("GET", "/", nil), &violations)
	go func() { <-done; close(serveDone) }()

	task := receiveTask(t, m)
	if ran.Load() {
		t.Fatal("handler ran before its task did")
	}
	task()
	waitFor(t, serveDone, "ServeHTTP's return")
	if !ran.Load() {
		t.Fatal("handler did not run")
	}
	if rec.Code != 200 || rec.Body.String() != "hello" {
		t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body.String(), "hello")
	}
	if n := violations.Load(); n != 0 {
		t.Errorf("ResponseWriter used %d times after ServeHTTP returned", n)
	}
}

func TestSubmitErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		retryAfter time.Duration
		wantCode   int
		wantHeader map[string]string
	}{
		{"overloaded", fmt.Errorf("pool: %w", executor.ErrOverloaded), 0, 503, map[string]string{"Retry-After": "1"}},
		{"overloaded/round-up", executor.ErrOverloaded, 1500 * time.Millisecond, 503, map[string]string{"Retry-After": "2"}},
		{"overloaded/whole", executor.ErrOverloaded, 3 * time.Second, 503, map[string]string{"Retry-After": "3"}},
		{"overloaded/tiny", executor.ErrOverloaded, time.Millisecond, 503, map[string]string{"Retry-After": "1"}},
		{"closed", fmt.Errorf("pool: %w", executor.ErrClosed), 0, 503, map[string]string{"Connection": "close", "Retry-After": ""}},
		{"other", errors.New("pool: broken"), 0, 500, map[string]string{"Retry-After": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &executorhttp.Handler{
				Executor:   &manual{err: tt.err},
				RetryAfter: tt.retryAfter,
				Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
					t.Error("handler ran although Submit failed")
				}),
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d", rec.Code, tt.wantCode)
			}
			for k, want := range tt.wantHeader {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestClientGoneBeforeSubmitIsSkipped(t *testing.T) {
	m := newManual()
	h := &executorhttp.Handler{Executor: m, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran for a client that had gone")
	})}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var violations atomic.Int32
	g, _, done := serve(h, httptest.NewRequest("GET", "/", nil).WithContext(ctx), &violations)
	waitFor(t, done, "ServeHTTP's return")
	if len(m.tasks) != 0 {
		t.Error("a task was submitted for a client that had gone")
	}
	if n := g.uses.Load(); n != 0 {
		t.Errorf("ResponseWriter used %d times, want 0", n)
	}
}

func TestClientGoneWhileQueuedReleasesServeHTTP(t *testing.T) {
	m := newManual()
	h := &executorhttp.Handler{Executor: m, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran for a request abandoned in the queue")
	})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var violations atomic.Int32
	g, _, done := serve(h, httptest.NewRequest("GET", "/", nil).WithContext(ctx), &violations)
	task := receiveTask(t, m)
	cancel()
	// The task has not run: ServeHTTP must return without waiting for it.
	waitFor(t, done, "ServeHTTP's return after the client left")
	task() // a worker reaches the abandoned task later
	if n := g.uses.Load(); n != 0 {
		t.Errorf("ResponseWriter used %d times, want 0", n)
	}
}

func TestClientGoneAsTaskStartsIsSkipped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The client leaves after Submit accepted the task and just before it
	// runs: whichever side wins, the handler must not run.
	h := &executorhttp.Handler{Executor: inline{before: cancel}, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran for a client that had gone")
	})}
	var violations atomic.Int32
	g, _, done := serve(h, httptest.NewRequest("GET", "/", nil).WithContext(ctx), &violations)
	waitFor(t, done, "ServeHTTP's return")
	if n := g.uses.Load(); n != 0 {
		t.Errorf("ResponseWriter used %d times, want 0", n)
	}
}

func TestClientGoneWhileRunningWaitsForHandler(t *testing.T) {
	m := newManual()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	var serveDone <-chan struct{}
	h := &executorhttp.Handler{Executor: m, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		// The client has gone but this handler still owns w: ServeHTTP
		// must not return until it does. Give a wrong ServeHTTP time to
		// return early, then write.
		select {
		case <-serveDone:
			t.Error("ServeHTTP returned while the handler was still running")
		case <-time.After(20 * time.Millisecond):
		}
		io.WriteString(w, "late")
	})}
	var violations atomic.Int32
	_, rec, done := serve(h, httptest.NewRequest("GET", "/", nil).WithContext(ctx), &violations)
	serveDone = done
	task := receiveTask(t, m)
	go task()
	waitFor(t, started, "the handler's start")
	cancel()
	waitFor(t, done, "ServeHTTP's return")
	if n := violations.Load(); n != 0 {
		t.Errorf("ResponseWriter used %d times after ServeHTTP returned", n)
	}
	if got := rec.Body.String(); got != "late" {
		t.Errorf("body %q, want %q", got, "late")
	}
}

// recoverFrom calls ServeHTTP and returns what it panicked with.
func recoverFrom(h http.Handler) (v any) {
	defer func() { v = recover() }()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	return nil
}

// runAll is an Executor that runs each task on a new goroutine, as a worker
// would, recovering nothing.
type runAll struct{ wg *sync.WaitGroup }

func (e runAll) Submit(task func()) error {
	e.wg.Add(1)
	go func() { defer e.wg.Done(); task() }()
	return nil
}

func (runAll) Shutdown(context.Context) error { return nil }

func panickingHandler(v any) http.Handler {
	return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(v) })
}

func TestHandlerPanicIsRaisedOnServeHTTPGoroutine(t *testing.T) {
	var wg sync.WaitGroup
	defer wg.Wait()
	ex := runAll{&wg}

	t.Run("value", func(t *testing.T) {
		v := recoverFrom(&executorhttp.Handler{Executor: ex, Handler: panickingHandler("boom")})
		pe, ok := v.(*executorhttp.PanicError)
		if !ok {
			t.Fatalf("ServeHTTP panicked with %T %v, want *executorhttp.PanicError", v, v)
		}
		if pe.Value != "boom" {
			t.Errorf("Value = %v, want boom", pe.Value)
		}
		if !strings.Contains(string(pe.Stack), "panickingHandler") {
			t.Errorf("Stack does not show the handler:\n%s", pe.Stack)
		}
		if !strings.Contains(pe.Error(), "boom") {
			t.Errorf("Error() = %q, want it to mention boom", pe.Error())
		}
	})
	t.Run("error", func(t *testing.T) {
		v := recoverFrom(&executorhttp.Handler{Executor: ex, Handler: panickingHandler(io.ErrUnexpectedEOF)})
		err, ok := v.(error)
		if !ok || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ServeHTTP panicked with %T %v, want an error wrapping io.ErrUnexpectedEOF", v, v)
		}
	})
	t.Run("ErrAbortHandler", func(t *testing.T) {
		v := recoverFrom(&executorhttp.Handler{Executor: ex, Handler: panickingHandler(http.ErrAbortHandler)})
		if v != http.ErrAbortHandler {
			t.Errorf("ServeHTTP panicked with %T %v, want http.ErrAbortHandler itself", v, v)
		}
	})
	t.Run("none", func(t *testing.T) {
		if v := recoverFrom(&executorhttp.Handler{Executor: ex, Handler: http.HandlerFunc(hello)}); v != nil {
			t.Errorf("ServeHTTP panicked with %v, want no panic", v)
		}
	})
}

func TestZeroFields(t *testing.T) {
	t.Run("nil Executor runs inline", func(t *testing.T) {
		rec := httptest.NewRecorder()
		(&executorhttp.Handler{Handler: http.HandlerFunc(hello)}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != 200 || rec.Body.String() != "hello" {
			t.Errorf("got %d %q, want 200 hello", rec.Code, rec.Body.String())
		}
	})
	t.Run("nil Handler is not found", func(t *testing.T) {
		m := newManual()
		var violations atomic.Int32
		_, rec, done := serve(&executorhttp.Handler{Executor: m}, httptest.NewRequest("GET", "/", nil), &violations)
		receiveTask(t, m)()
		waitFor(t, done, "ServeHTTP's return")
		if rec.Code != 404 {
			t.Errorf("status %d, want 404", rec.Code)
		}
	})
}

// guarded wraps h so that every ResponseWriter is a guard that counts uses
// after h.ServeHTTP has returned; it reports each return on returned.
func guarded(h http.Handler, violations *atomic.Int32, returned chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := &guard{ResponseWriter: w, violations: violations}
		h.ServeHTTP(g, r)
		g.returned.Store(true)
		if returned != nil {
			returned <- r.URL.Path
		}
	})
}

// TestServerClientsDisconnectWhileQueued runs a real server over a
// one-worker pool: while one request holds the worker, clients queue and
// then hang up. Their ServeHTTP calls must return at once, their handlers
// must never run, and nothing may touch a ResponseWriter late.
func TestServerClientsDisconnectWhileQueued(t *testing.T) {
	const queued = 8
	p := newPool(1, queued+1)
	defer p.Shutdown(context.Background())
	p.submitted = make(chan struct{}, queued+1)
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseBlocker := func() { releaseOnce.Do(func() { close(release) }) }
	blocking := make(chan struct{})
	var ranQueued, violations atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/block", func(w http.ResponseWriter, r *http.Request) {
		close(blocking)
		<-release
		hello(w, r)
	})
	mux.HandleFunc("/queued", func(w http.ResponseWriter, r *http.Request) {
		ranQueued.Add(1)
		hello(w, r)
	})
	returned := make(chan string, queued+1)
	srv := httptest.NewServer(guarded(&executorhttp.Handler{Executor: p, Handler: mux}, &violations, returned))
	defer srv.Close()
	defer releaseBlocker() // before srv.Close, which waits for the blocker, if the test fails early
	client := srv.Client()
	defer client.CloseIdleConnections()

	blockErr := make(chan error, 1)
	go func() {
		resp, err := client.Get(srv.URL + "/block")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		blockErr <- err
	}()
	waitFor(t, blocking, "the blocking request's start")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var clients sync.WaitGroup
	for i := 0; i < queued; i++ {
		clients.Add(1)
		go func() {
			defer clients.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/queued", nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				t.Errorf("queued request got %d, want it cancelled", resp.StatusCode)
			}
		}()
	}
	for i := 0; i < queued+1; i++ { // the blocker's task and every queued one
		waitFor(t, p.submitted, "a submit")
	}
	cancel()
	clients.Wait()
	for i := 0; i < queued; i++ {
		select {
		case path := <-returned:
			if path != "/queued" {
				t.Fatalf("%s returned while its handler held the only worker", path)
			}
		case <-time.After(wait):
			t.Fatalf("only %d of %d abandoned requests released net/http's goroutine while the worker was busy", i, queued)
		}
	}

	releaseBlocker()
	if err := <-blockErr; err != nil {
		t.Errorf("blocking request: %v", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := ranQueued.Load(); n != 0 {
		t.Errorf("%d abandoned requests ran their handler, want 0", n)
	}
	if n := violations.Load(); n != 0 {
		t.Errorf("ResponseWriter used %d times after ServeHTTP returned", n)
	}
}

// TestServerClientsDisconnectAtRandom hangs up clients at random moments
// (before submit, while queued, while running, never) against a small pool;
// -race and the guards check that no response is touched late, and every
// client that stays gets a whole response.
func TestServerClientsDisconnectAtRandom(t *testing.T) {
	const clients = 64
	p := newPool(2, 4)
	var violations atomic.Int32
	body := strings.Repeat("swapexec ", 64)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := 0; i < 4; i++ {
			io.WriteString(w, body[:len(body)/4])
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
	})
	srv := httptest.NewServer(guarded(&executorhttp.Handler{Executor: p, Handler: handler}, &violations, nil))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		hangUp := time.Duration(rng.Intn(2000)) * time.Microsecond
		stay := i%4 == 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if !stay {
				timer := time.AfterFunc(hangUp, cancel)
				defer timer.Stop()
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
			resp, err := client.Do(req)
			if err != nil {
				if stay {
					t.Errorf("client that stayed: %v", err)
				}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if stay && (err != nil || resp.StatusCode != 200 || len(b) != len(body)/4*4) {
				t.Errorf("client that stayed: status %d, %d bytes, %v; want 200, %d bytes", resp.StatusCode, len(b), err, len(body)/4*4)
			}
		}()
	}
	wg.Wait()
	srv.Close() // waits for every ServeHTTP to return
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := violations.Load(); n != 0 {
		t.Errorf("ResponseWriter used %d times after ServeHTTP returned", n)
	}
}
