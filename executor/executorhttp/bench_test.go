package executorhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executorhttp"
)

// nopWriter is a ResponseWriter that keeps nothing, so a benchmark measures
// the middleware, not a recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkServeHTTP measures what the middleware adds to a trivial
// handler: executor=none calls the handler directly, executor=chanpool runs
// it through Handler on a chanpool of GOMAXPROCS workers, from as many
// goroutines as net/http would use (RunParallel).
func BenchmarkServeHTTP(b *testing.B) {
	body := []byte("Hi from swapexec")
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	pool, err := chanpool.New(executor.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Shutdown(context.Background())
	for _, bc := range []struct {
		name    string
		h       http.Handler
		request func() (*http.Request, func())
	}{
		{"executor=none", hello, background},
		{"executor=chanpool", &executorhttp.Handler{Executor: pool, Handler: hello}, background},
		{"executor=chanpool/ctx=cancelable", &executorhttp.Handler{Executor: pool, Handler: hello}, cancelable},
		{"executor=chanpool/ctx=cancelable/maxwait=30ms", &executorhttp.Handler{Executor: pool, Handler: hello, MaxWait: 30 * time.Millisecond}, cancelable},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r, cancel := bc.request()
				defer cancel()
				w := &nopWriter{h: make(http.Header)}
				for pb.Next() {
					bc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}

// background is a request whose context can never end, as from
// httptest.NewRequest.
func background() (*http.Request, func()) { return httptest.NewRequest("GET", "/", nil), func() {} }

// cancelable is a request whose context can end, as every request from
// net/http's server has: executor.SubmitContext then has a channel to
// watch.
func cancelable() (*http.Request, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	return httptest.NewRequest("GET", "/", nil).WithContext(ctx), cancel
}
