package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
)

// testRoutes builds the demo's handler on the named backend ("none": no
// executor); the executor is shut down when the test ends.
func testRoutes(t *testing.T, backend string, cfg config) (http.Handler, *atomic.Bool, *metrics) {
	t.Helper()
	cfg.Backend = backend
	var ex executor.Executor
	if backend != backendNone {
		var err error
		if ex, err = backends.New(backend, executor.Config{Workers: 2}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := ex.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	m, err := newMetrics(metricsParams{Config: cfg, Executor: ex})
	if err != nil {
		t.Fatal(err)
	}
	ready := new(atomic.Bool)
	ready.Store(true)
	work := newDownstream(max(cfg.WorkSlots, 1), cfg.WorkTime, cfg.WorkSlowdownAt, cfg.WorkSlowdownTime)
	return newRoutes(cfg, ex, work, ready, m, func() { t.Error("stop called without -max-requests") }), ready, m
}

func do(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestRoutes(t *testing.T) {
	hello := []string{"<h1>Hello!</h1>", "Hi from swapexec"}
	oops := []string{"<h1>Oops!</h1>", "Sorry, I don't know what you're asking for."}
	tests := []struct {
		method, target string
		wantCode       int
		wantBody       []string
		wantHeader     map[string]string
	}{
		{"GET", "/", 200, hello, map[string]string{"Content-Type": "text/html; charset=utf-8", "Content-Length": "180"}},
		{"HEAD", "/", 200, nil, map[string]string{"Content-Length": "180"}},
		{"GET", "/sleep", 200, hello, nil},
		{"HEAD", "/sleep", 200, nil, nil},
		{"GET", "/work", 200, hello, map[string]string{"Content-Length": "180"}},
		{"HEAD", "/work", 200, nil, nil},
		{"POST", "/work", 405, nil, map[string]string{"Allow": "GET, HEAD"}},
		{"GET", "/nope", 404, oops, map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{"GET", "/sleep/", 404, oops, nil},
		{"POST", "/nope", 404, oops, nil},
		{"POST", "/", 405, nil, map[string]string{"Allow": "GET, HEAD"}},
		{"DELETE", "/sleep", 405, nil, map[string]string{"Allow": "GET, HEAD"}},
		{"PUT", "/healthz", 405, nil, map[string]string{"Allow": "GET, HEAD"}},
		{"GET", "/healthz", 200, []string{"ok"}, nil},
		{"GET", "/readyz", 200, []string{"ready"}, nil},
		{"GET", "/metrics", 200, []string{"swapexec_http_requests_total", "go_goroutines"}, nil},
	}
	for _, backend := range backendNames() {
		backend := backend
		t.Run("backend="+backend, func(t *testing.T) {
			t.Parallel()
			h, _, _ := testRoutes(t, backend, config{Sleep: time.Millisecond})
			for _, tt := range tests {
				rec := do(h, tt.method, tt.target)
				if rec.Code != tt.wantCode {
					t.Errorf("%s %s: status %d, want %d", tt.method, tt.target, rec.Code, tt.wantCode)
				}
				for _, w := range tt.wantBody {
					if !strings.Contains(rec.Body.String(), w) {
						t.Errorf("%s %s: body does not contain %q:\n%s", tt.method, tt.target, w, rec.Body.String())
					}
				}
				for k, v := range tt.wantHeader {
					if got := rec.Header().Get(k); got != v {
						t.Errorf("%s %s: header %s = %q, want %q", tt.method, tt.target, k, got, v)
					}
				}
			}
		})
	}
}

func TestReadyzFollowsReadiness(t *testing.T) {
	h, ready, _ := testRoutes(t, "chanpool", config{})
	if rec := do(h, "GET", "/readyz"); rec.Code != 200 {
		t.Errorf("ready: /readyz %d, want 200", rec.Code)
	}
	ready.Store(false)
	if rec := do(h, "GET", "/readyz"); rec.Code != 503 {
		t.Errorf("shutting down: /readyz %d, want 503", rec.Code)
	}
	if rec := do(h, "GET", "/healthz"); rec.Code != 200 {
		t.Errorf("shutting down: /healthz %d, want 200", rec.Code)
	}
}

func TestMetrics(t *testing.T) {
	for _, backend := range backendNames() {
		backend := backend
		t.Run("backend="+backend, func(t *testing.T) {
			t.Parallel()
			h, _, m := testRoutes(t, backend, config{})
			do(h, "GET", "/")
			do(h, "GET", "/")
			do(h, "GET", "/x")
			do(h, "GET", "/y")
			do(h, "POST", "/")
			do(h, "GET", "/work")
			counts := map[[2]string]float64{{"/", "200"}: 2, {"other", "404"}: 2, {"/", "405"}: 1, {"/work", "200"}: 1}
			for labels, want := range counts {
				if got := testutil.ToFloat64(m.requests.WithLabelValues(labels[0], labels[1])); got != want {
					t.Errorf("requests{route=%q,code=%q} = %v, want %v", labels[0], labels[1], got, want)
				}
			}
			if n := testutil.CollectAndCount(m.duration); n != 3 {
				t.Errorf("latency histograms: %d, want 3 (routes /, /work and other)", n)
			}

			body := do(h, "GET", "/metrics").Body.String()
			hasStats := strings.Contains(body, `swapexec_executor_submitted_total{backend="`+backend+`"} 6`)
			if wantStats := backend != backendNone; hasStats != wantStats {
				t.Errorf("executor stats shown: %v, want %v (6 page requests submitted):\n%s", hasStats, wantStats, body)
			}
		})
	}
}

func TestClientGoneIsCounted499(t *testing.T) {
	h, _, m := testRoutes(t, "chanpool", config{Sleep: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // gone before the request is served: skipped, nothing written
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/sleep", nil).WithContext(ctx))
	if got := testutil.ToFloat64(m.requests.WithLabelValues("/sleep", "499")); got != 1 {
		t.Errorf(`requests{route="/sleep",code="499"} = %v, want 1`, got)
	}
}

func TestSleepEndsWhenClientLeaves(t *testing.T) {
	s := newSite(time.Hour, newDownstream(1, 0, 0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	rec := httptest.NewRecorder()
	go func() {
		defer close(done)
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/sleep", nil).WithContext(ctx))
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("/sleep kept sleeping after its client left")
	}
	if rec.Body.Len() != 0 {
		t.Errorf("/sleep wrote %q for a client that left", rec.Body.String())
	}
}

func TestStopAfter(t *testing.T) {
	var stops atomic.Int32
	h := stopAfter(2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hi")
	}), func() { stops.Add(1) })
	for i, want := range []int32{0, 1, 1} {
		do(h, "GET", "/")
		if got := stops.Load(); got != want {
			t.Errorf("after request %d: stop called %d times, want %d", i+1, got, want)
		}
	}
}
