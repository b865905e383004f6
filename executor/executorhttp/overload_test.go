package executorhttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
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
