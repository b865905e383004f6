// Command httpdemo is the Rust book's multithreaded web server, done as a Go
// engineer would ship it: every page request runs on a swapexec executor
// chosen with -backend, and the parts are wired with go.uber.org/fx.
//
//	go run ./httpdemo                       # 127.0.0.1:7878, chanpool, 4 workers
//	go run ./httpdemo -backend ants -workers 64
//	go run ./httpdemo -backend none         # net/http's goroutines: the baseline
//
// Routes: GET or HEAD / (hello.html), /sleep (hello.html after -sleep), any
// other path 404.html; /healthz, /readyz (503 once shutdown begins) and
// /metrics (Prometheus). Run with -h for every flag and its SWAPEXEC_*
// environment variable.
//
// SIGINT or SIGTERM stops gracefully: /readyz turns 503, the listener
// closes, the requests in flight finish, then the executor drains and logs
// "executor drained". A second signal exits at once. The exit status is 0
// after a graceful stop, 1 when starting or stopping fails, 2 for a bad flag
// or environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/fx"
)

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stderr))
}

// run is the whole program short of exiting: it returns the exit status.
func run(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) int {
	cfg, err := parseConfig(args, lookupEnv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "httpdemo: %v\nRun 'httpdemo -h' to see every flag.\n", err)
		return 2
	}
	logger := newLogger(cfg.LogFormat, stderr)

	// Registered before Start, so that a signal during start-up is not lost
	// and no signal ever takes the default action (exit without draining).
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	stop := newStopper()
	app := fx.New(appOptions(cfg, logger, stop))
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		logger.Error("httpdemo: start failed", "err", err)
		return 1
	}

	select {
	case sig := <-signals:
		logger.Info("stopping gracefully; a second signal exits at once", "signal", sig.String(), "timeout", cfg.ShutdownTimeout)
	case <-stop.Done():
		if err := stop.Err(); err != nil {
			logger.Error("stopping after a failure", "err", err)
		} else {
			logger.Info("stopping gracefully after -max-requests", "max_requests", cfg.MaxRequests)
		}
	}

	stopCtx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	stopped := make(chan error, 1)
	// Not joined when a second signal cuts the stop short: the process exits.
	go func() { stopped <- app.Stop(stopCtx) }()
	select {
	case err := <-stopped:
		if err != nil {
			logger.Error("httpdemo: graceful stop failed", "err", err)
			return 1
		}
	case sig := <-signals:
		logger.Warn("second signal: exiting at once without draining", "signal", sig.String())
		return 1
	}
	if stop.Err() != nil {
		return 1
	}
	logger.Info("stopped")
	return 0
}

// newLogger returns the slog logger for format, "text" or "json", writing
// to w.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
