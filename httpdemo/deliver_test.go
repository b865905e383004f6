package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
)

// TestNoWorkForUndeliverableReplies is issue 13's defect 1, scaled down: one
// worker, /sleep taking 100ms, and more concurrent requests than can start
// before the server's WriteTimeout would cut their replies. A request that
// cannot start in time must get a 503 it can read instead of working for
// nobody, every client must get a whole reply, and /metrics must count
// exactly what the clients got.
func TestNoWorkForUndeliverableReplies(t *testing.T) {
	const clients = 12
	cfg := testConfig("chanpool")
	cfg.Workers = 1
	cfg.Sleep = 100 * time.Millisecond
	cfg.WriteSlack = 800 * time.Millisecond // WriteTimeout 900ms; 12 sleeps take 1.2s
	var srv *server
	var m *metrics
	app := fxtest.New(t, appOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), newStopper()), fx.Populate(&srv, &m))
	app.RequireStart()
	defer app.RequireStop()

	got := map[int]int{} // status code -> clients
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			resp, err := client.Get("http://" + srv.Addr() + "/sleep")
			if err != nil {
				t.Errorf("a client got no reply: %v", err)
				return
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Errorf("a client got a cut reply (status %d): %v", resp.StatusCode, err)
				return
			}
			mu.Lock()
			got[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got[200] == 0 || got[503] == 0 {
		t.Errorf("clients got %v; want some 200s, and 503s for the requests that could not start in time", got)
	}
	for _, code := range []int{0, 200, 499, 503} {
		if n := testutil.ToFloat64(m.requests.WithLabelValues("/sleep", codeText(code))); n != float64(got[code]) {
			t.Errorf(`requests{route="/sleep",code="%d"} = %v, but %d clients got %d`, code, n, got[code], code)
		}
	}
}

// TestMetricsCountRepliesPastWriteTimeoutAsUndelivered: a reply still being
// made when WriteTimeout passed never reaches the client, whatever status
// the handler wrote.
func TestMetricsCountRepliesPastWriteTimeoutAsUndelivered(t *testing.T) {
	m, err := newMetrics(metricsParams{Config: testConfig(backendNone)})
	if err != nil {
		t.Fatal(err)
	}
	m.writeTimeout = time.Millisecond
	slow := m.instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The time passing is what is tested: nothing can signal it.
		<-time.After(5 * time.Millisecond)
		w.WriteHeader(200)
	}))
	slow.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/sleep", nil))
	for code, want := range map[string]float64{"0": 1, "200": 0} {
		if n := testutil.ToFloat64(m.requests.WithLabelValues("/sleep", code)); n != want {
			t.Errorf(`requests{route="/sleep",code=%q} = %v, want %v`, code, n, want)
		}
	}
}

func TestStartGuard(t *testing.T) {
	var called int
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called++ })
	g := startGuard(next, time.Minute)
	for _, tt := range []struct {
		name       string
		w          func(*httptest.ResponseRecorder) http.ResponseWriter
		wantCalled bool
	}{
		{"arrived just now", func(rec *httptest.ResponseRecorder) http.ResponseWriter {
			return &statusRecorder{ResponseWriter: rec, start: time.Now()}
		}, true},
		{"arrived an hour ago", func(rec *httptest.ResponseRecorder) http.ResponseWriter {
			return &statusRecorder{ResponseWriter: rec, start: time.Now().Add(-time.Hour)}
		}, false},
		{"arrival unknown", func(rec *httptest.ResponseRecorder) http.ResponseWriter { return rec }, true},
	} {
		called = 0
		rec := httptest.NewRecorder()
		g.ServeHTTP(tt.w(rec), httptest.NewRequest("GET", "/sleep", nil))
		if (called == 1) != tt.wantCalled {
			t.Errorf("%s: handler called %d times, want called: %v", tt.name, called, tt.wantCalled)
		}
		if !tt.wantCalled && (rec.Code != 503 || rec.Header().Get("Retry-After") != "1") {
			t.Errorf("%s: status %d, Retry-After %q; want 503 and 1", tt.name, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
}

// TestMaxWaitReaches503: with -max-wait, a page request that finds every
// worker busy gets 503 with Retry-After once the budget has passed.
func TestMaxWaitReaches503(t *testing.T) {
	cfg := testConfig("chanpool")
	cfg.MaxWait = 20 * time.Millisecond
	pool, err := backends.New("chanpool", executor.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	release, busy := make(chan struct{}), make(chan struct{})
	if err := pool.Submit(func() { close(busy); <-release }); err != nil {
		t.Fatal(err)
	}
	<-busy
	defer pool.Shutdown(context.Background())
	defer close(release)
	m, err := newMetrics(metricsParams{Config: cfg, Executor: pool})
	if err != nil {
		t.Fatal(err)
	}
	h := newRoutes(cfg, pool, newDownstream(1, 0, 0, 0), new(atomic.Bool), m, func() {})
	rec := do(h, "GET", "/")
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("GET / with the only worker busy: %d, Retry-After %q; want 503 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("/", "503")); n != 1 {
		t.Errorf(`requests{route="/",code="503"} = %v, want 1`, n)
	}
}
