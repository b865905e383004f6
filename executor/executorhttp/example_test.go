package executorhttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executorhttp"
)

// A server whose handlers run on a pool of four workers: at most four
// requests are served at once, however many connections are open.
func ExampleHandler() {
	pool, err := chanpool.New(executor.Config{Workers: 4})
	if err != nil {
		panic(err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hi from swapexec")
	})
	srv := httptest.NewServer(&executorhttp.Handler{Executor: pool, Handler: hello})

	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	// Stop the server first, so that no request is submitted to a closed
	// pool, then let the pool finish what it accepted.
	srv.Close()
	if err := pool.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	// Output: 200 Hi from swapexec
}

// With a Nonblocking executor that is full, requests are turned away at once
// with 503 and a Retry-After header instead of waiting.
func ExampleHandler_overloaded() {
	pool, err := chanpool.New(executor.Config{Workers: 1, Nonblocking: true})
	if err != nil {
		panic(err)
	}
	release := make(chan struct{})
	busy := make(chan struct{})
	if err := pool.Submit(func() { close(busy); <-release }); err != nil {
		panic(err)
	}
	<-busy // the only worker is taken and there is no queue

	h := &executorhttp.Handler{Executor: pool, Handler: http.NotFoundHandler()}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"))

	close(release)
	if err := pool.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	// Output: 503 1
}

// MaxWait bounds how long a request waits for a worker, in Submit and in
// the queue together: past it, the client gets 503 with Retry-After instead
// of a reply that comes too late to matter.
func ExampleHandler_maxWait() {
	pool, err := chanpool.New(executor.Config{Workers: 1}) // blocking
	if err != nil {
		panic(err)
	}
	release := make(chan struct{})
	busy := make(chan struct{})
	if err := pool.Submit(func() { close(busy); <-release }); err != nil {
		panic(err)
	}
	<-busy // the only worker is taken: the next request must wait

	h := &executorhttp.Handler{
		Executor: pool,
		Handler:  http.NotFoundHandler(),
		MaxWait:  20 * time.Millisecond,
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"))

	close(release)
	if err := pool.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	// Output: 503 1
}

// Target adds Facebook's CoDel to MaxWait: a burst may wait up to the
// whole budget, but once the queue stands (no request got through it in
// under 5 ms for 100 ms), a request a worker reaches after more than 10 ms
// gets 503 instead, so those served under sustained overload waited little.
func ExampleHandler_target() {
	pool, err := chanpool.New(executor.Config{Workers: 4}) // blocking
	if err != nil {
		panic(err)
	}
	defer pool.Shutdown(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})
	h := &executorhttp.Handler{
		Executor: pool,
		Handler:  mux,
		MaxWait:  30 * time.Millisecond,
		Target:   5 * time.Millisecond, // folly's default; Interval 0 means 100 ms
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 hello
}

// LIFO with Target and MaxWait is Facebook's pair, adaptive LIFO and
// CoDel: requests that find every worker busy wait first in first out
// until one has waited 5 ms, then the newest is served first, and the
// oldest get 503 at 30 ms without having held a worker. The pool must
// be able to try without waiting (chanpool's TrySubmit).
func ExampleHandler_lifo() {
	pool, err := chanpool.New(executor.Config{Workers: 4}) // blocking
	if err != nil {
		panic(err)
	}
	defer pool.Shutdown(context.Background())
	h := &executorhttp.Handler{
		Executor: pool,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "hello")
		}),
		MaxWait: 30 * time.Millisecond,
		Target:  5 * time.Millisecond,
		LIFO:    true,
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 hello
}

// Reject shapes the reply to a request that will not be served: here a
// 429 with a JSON body that says why, and no reply at all is needed for a
// client that has gone (Reject is not called for it).
func ExampleHandler_reject() {
	pool, err := chanpool.New(executor.Config{Workers: 1, Nonblocking: true})
	if err != nil {
		panic(err)
	}
	release := make(chan struct{})
	busy := make(chan struct{})
	if err := pool.Submit(func() { close(busy); <-release }); err != nil {
		panic(err)
	}
	<-busy

	h := &executorhttp.Handler{
		Executor: pool,
		Handler:  http.NotFoundHandler(),
		Reject: func(w http.ResponseWriter, r *http.Request, err error) {
			reason := "unavailable"
			switch {
			case errors.Is(err, executor.ErrOverloaded):
				reason = "overloaded"
			case errors.Is(err, executorhttp.ErrWaitBudget):
				reason = "waited too long"
			case errors.Is(err, executor.ErrClosed):
				reason = "shutting down"
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"error":%q}`, reason)
		},
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())

	close(release)
	if err := pool.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	// Output: 429 2 {"error":"overloaded"}
}
