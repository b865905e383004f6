package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/adaptive"
)

// resizable is an Executor with Resize, enough for adaptive.New: each task
// runs on a goroutine of its own, and the bound is only recorded.
type resizable struct {
	wg      sync.WaitGroup
	workers atomic.Int64
}

var _ executor.Resizer = (*resizable)(nil)

func (r *resizable) Submit(task func()) error {
	r.wg.Add(1)
	go func() { defer r.wg.Done(); task() }()
	return nil
}

func (r *resizable) Resize(workers int) error {
	r.workers.Store(int64(workers))
	return nil
}

func (r *resizable) Shutdown(context.Context) error { r.wg.Wait(); return nil }

func TestWithLimitBuildsEachAlgorithm(t *testing.T) {
	for _, tt := range []struct {
		limit   string
		initial int
		want    int
	}{
		{limitAIMD, 0, adaptive.DefaultInitial},
		{limitGradient2, 0, adaptive.DefaultInitial},
		{limitGradient2, 7, 7},
	} {
		cfg := defaultConfig()
		cfg.Limit, cfg.LimitInitial = tt.limit, tt.initial
		r := &resizable{}
		a, err := withLimit(r, cfg)
		if err != nil {
			t.Fatalf("-limit %s: %v", tt.limit, err)
		}
		if a.Limit() != tt.want || r.workers.Load() != int64(tt.want) {
			t.Errorf("-limit %s, initial %d: limit %d, backend resized to %d; want both %d", tt.limit, tt.initial, a.Limit(), r.workers.Load(), tt.want)
		}
	}
	cfg := defaultConfig()
	cfg.Limit = "vegas"
	if _, err := withLimit(&resizable{}, cfg); err == nil || !strings.Contains(err.Error(), "vegas") {
		t.Errorf("-limit vegas: %v, want an error naming it", err)
	}
}

func TestMetricsExportAdaptiveLimit(t *testing.T) {
	cfg := defaultConfig()
	cfg.Limit, cfg.LimitInitial = limitAIMD, 12
	a, err := withLimit(&resizable{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown(context.Background())
	m, err := newMetrics(metricsParams{Config: cfg, Executor: a})
	if err != nil {
		t.Fatal(err)
	}
	ready := new(atomic.Bool)
	h := newRoutes(cfg, a, newDownstream(1, 0, 0, 0), ready, m, func() {})
	body := do(h, "GET", "/metrics").Body.String()
	for _, want := range []string{
		`swapexec_adaptive_limit{algorithm="aimd",backend="chanpool"} 12`,
		`swapexec_executor_workers{backend="chanpool"} 12`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %s:\n%s", want, body)
		}
	}
}

// TestAppAdaptiveLimit runs the app with each adaptive -limit on every
// backend that can be resized, and serves /work through it.
func TestAppAdaptiveLimit(t *testing.T) {
	var resizable []string
	for _, name := range backends.Names() {
		ex, err := backends.New(name, executor.Config{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ex.(executor.Resizer); ok {
			resizable = append(resizable, name)
		}
		ex.Shutdown(context.Background())
	}
	if len(resizable) == 0 {
		t.Skip("no backend implements executor.Resizer yet (issue 9): adaptive limits cannot run on any")
	}
	for _, backend := range resizable {
		for _, limit := range []string{limitAIMD, limitGradient2} {
			backend, limit := backend, limit
			t.Run("backend="+backend+"/limit="+limit, func(t *testing.T) {
				t.Parallel()
				cfg := testConfig(backend)
				cfg.Limit, cfg.MaxWait = limit, 0
				var srv *server
				var m *metrics
				app := fxtest.New(t, appOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), newStopper()), fx.Populate(&srv, &m))
				app.RequireStart()
				defer app.RequireStop()
				client := &http.Client{Transport: &http.Transport{}}
				defer client.CloseIdleConnections()
				for _, path := range []string{"/work", "/metrics"} {
					resp, err := client.Get("http://" + srv.Addr() + path)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Errorf("GET %s: %d, want 200", path, resp.StatusCode)
					}
					if want := `swapexec_adaptive_limit{algorithm="` + limit + `",backend="` + backend + `"}`; path == "/metrics" && !strings.Contains(string(body), want) {
						t.Errorf("/metrics has no %s:\n%s", want, body)
					}
				}
			})
		}
	}
}

func TestGradient2ConfigFollowsMaxWait(t *testing.T) {
	cfg := defaultConfig()
	if got := gradient2Config(cfg); got != (adaptive.Gradient2Config{}) {
		t.Errorf("without -max-wait: %+v; want Netflix's defaults (the zero config)", got)
	}
	cfg.MaxWait = 30 * time.Millisecond
	if got, want := gradient2Config(cfg), adaptive.QueuedGradient2Config(); got != want {
		t.Errorf("with -max-wait 30ms: %+v; want adaptive.QueuedGradient2Config() %+v", got, want)
	}
}
