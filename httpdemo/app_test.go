package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is a config for in-process tests on a free port.
func testConfig(backend string) config {
	cfg := defaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Backend = backend
	cfg.Sleep = 10 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	return cfg
}

func TestValidateAppEveryBackend(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, backend := range backendNames() {
		if err := fx.ValidateApp(appOptions(testConfig(backend), logger, newStopper())); err != nil {
			t.Errorf("backend=%s: %v", backend, err)
		}
	}
}

func TestAppStartServeStop(t *testing.T) {
	for _, backend := range backendNames() {
		backend := backend
		t.Run("backend="+backend, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			var srv *server
			app := fxtest.New(t, appOptions(testConfig(backend), slog.New(slog.NewTextHandler(&logs, nil)), newStopper()), fx.Populate(&srv))
			app.RequireStart()

			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for _, path := range []string{"/", "/sleep", "/readyz"} {
				resp, err := client.Get("http://" + srv.Addr() + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("GET %s: %d %s, want 200", path, resp.StatusCode, body)
				}
			}

			app.RequireStop()
			if srv.ready.Load() {
				t.Error("/readyz still ready after stop")
			}
			out := logs.String()
			server := strings.Index(out, "http server drained")
			if server < 0 {
				t.Errorf("log does not show the server drained:\n%s", out)
			}
			if backend == backendNone {
				return
			}
			// The server's hook must run first, so no request reaches a
			// closed executor.
			if ex := strings.Index(out, "executor drained"); ex < server {
				t.Errorf("log does not show the executor drained after the server:\n%s", out)
			}
		})
	}
}

func TestAppStartFailsOnTakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig("chanpool")
	cfg.Addr = ln.Addr().String()
	var logs syncBuffer
	app := fx.New(appOptions(cfg, slog.New(slog.NewTextHandler(&logs, nil)), newStopper()))
	err = app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started on a taken port")
	}
	for _, want := range []string{"listen on " + cfg.Addr, "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// fx rolls back what started: the executor must have drained (goleak
	// would also see its workers).
	if !strings.Contains(logs.String(), "executor drained") {
		t.Errorf("executor not shut down after the failed start:\n%s", logs.String())
	}
}

func TestServerBudget(t *testing.T) {
	if got := serverBudget(context.Background(), 8*time.Second); got != 6*time.Second {
		t.Errorf("without deadline: %v, want 6s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if got := serverBudget(ctx, time.Hour); got > 3*time.Second || got < 2*time.Second {
		t.Errorf("with 4s left: %v, want about 3s (3/4 of what is left, not of the total)", got)
	}
}
