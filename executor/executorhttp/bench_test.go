package executorhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

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
		name string
		h    http.Handler
	}{
		{"executor=none", hello},
		{"executor=chanpool", &executorhttp.Handler{Executor: pool, Handler: hello}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest("GET", "/", nil)
				w := &nopWriter{h: make(http.Header)}
				for pb.Next() {
					bc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}
