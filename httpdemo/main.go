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
