package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
)

// outside is a backend from another module, as a user would register it in
// main: a decorator over chanpool that counts submissions.
type outside struct {
	*chanpool.Pool
}

var outsideSubmits atomic.Int64

func (o outside) Submit(task func()) error {
	outsideSubmits.Add(1)
	return o.Pool.Submit(task)
}

// registerOutside registers "outside" once per test binary: the registry
// lives as long as the process, and go test -count=N runs tests N times.
var registerOutside = sync.OnceValue(func() error {
	return backends.Register("outside", func(cfg executor.Config) (executor.Executor, error) {
		p, err := chanpool.New(cfg)
		if err != nil {
			return nil, err
		}
		return outside{p}, nil
	})
})

func TestRegisteredBackendByFlag(t *testing.T) {
	if err := registerOutside(); err != nil {
		t.Fatalf("Register: %v", err)
	}
	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-backend", "outside", "-workers", "2"}, env(nil), io.Discard)
	if err != nil {
		t.Fatalf("-backend outside after Register: %v", err)
	}
	before := outsideSubmits.Load()
	var srv *server
	app := fxtest.New(t, appOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), newStopper()), fx.Populate(&srv))
	app.RequireStart()
	defer app.RequireStop()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + srv.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET / on the registered backend: %d, want 200", resp.StatusCode)
	}
	if outsideSubmits.Load() == before {
		t.Error("GET / with -backend outside did not run on the registered backend")
	}
	resp, err = client.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `swapexec_executor_workers{backend="outside"} 2`) {
		t.Errorf("/metrics: want swapexec_executor_workers{backend=\"outside\"} 2 among:\n%s", grepLines(string(body), "swapexec_executor_"))
	}

	// An unknown name is still refused, listing the registered one.
	_, err = parseConfig([]string{"-backend", "elsewhere"}, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("-backend elsewhere: got %v, want an error listing \"outside\" among the allowed names", err)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
