package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/adaptive"
)

// appOptions is the whole fx graph: config, executor, metrics and server
// modules. fx.New(appOptions(...)) is the app; tests validate the same
// options with fx.ValidateApp.
func appOptions(cfg config, logger *slog.Logger, stop *stopper) fx.Option {
	return fx.Options(
		fx.WithLogger(func() fxevent.Logger {
			// fx's events (every provide and hook, with stack traces) are
			// logged at Debug, below the default Info level; its errors
			// stay at Error.
			l := &fxevent.SlogLogger{Logger: logger.With("component", "fx")}
			l.UseLogLevel(slog.LevelDebug)
			return l
		}),
		// Every OnStop hook shares this budget: the server's own deadline
		// is a part of it, so the executor still has time to drain.
		fx.StopTimeout(cfg.ShutdownTimeout),
		fx.Module("config", fx.Supply(cfg, logger, stop)),
		executorModule(cfg.Backend),
		fx.Module("metrics", fx.Provide(newMetrics)),
		fx.Module("server",
			fx.Provide(newServer),
			fx.Invoke(func(*server) {}), // the server is the app's reason to run
		),
	)
}

// executorModule provides the executor.Executor named by backend, or, for
// backendNone, provides nothing: its consumers take it as optional, and
// handlers then run on net/http's goroutines.
func executorModule(backend string) fx.Option {
	if backend == backendNone {
		return fx.Module("executor")
	}
	return fx.Module("executor", fx.Provide(newExecutor))
}

// newExecutor builds the configured backend and appends its Shutdown as an
// OnStop hook here, in the constructor that provides it: hooks stop in
// reverse order of appending, and the server, built later because it
// depends on the executor, therefore stops first.
//
// With an adaptive -limit, the backend is built with -limit-max workers and
// wrapped in an adaptive.Executor that resizes it.
func newExecutor(lc fx.Lifecycle, cfg config, logger *slog.Logger) (executor.Executor, error) {
	workers := cfg.Workers
	if cfg.adaptive() {
		workers = cfg.LimitMax
	}
	ex, err := backends.New(cfg.Backend, executor.Config{
		Workers:     workers,
		QueueSize:   cfg.Queue,
		Nonblocking: cfg.Nonblocking,
		PanicHandler: func(v any) {
			logger.Error("executor: task panicked", "panic", v)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("httpdemo: executor: %w", err)
	}
	if cfg.adaptive() {
		a, err := withLimit(ex, cfg)
		if err != nil {
			// Nothing was accepted yet: this drain is immediate.
			ex.Shutdown(context.Background())
			return nil, fmt.Errorf("httpdemo: executor: -limit %s: %w", cfg.Limit, err)
		}
		ex = a
		if cfg.MaxWait == 0 && !cfg.Nonblocking {
			logger.Warn("an adaptive -limit without -max-wait or -nonblocking bounds how many requests run, not how long the others wait",
				"limit", cfg.Limit)
		}
	}
	lc.Append(fx.Hook{OnStop: func(ctx context.Context) error {
		start := time.Now()
		if err := ex.Shutdown(ctx); err != nil {
			return fmt.Errorf("httpdemo: executor %s did not drain: %w", cfg.Backend, err)
		}
		attrs := []any{"backend", cfg.Backend, "took", time.Since(start)}
		if r, ok := ex.(executor.StatsReporter); ok {
			s := r.Stats()
			attrs = append(attrs, "submitted", s.Submitted, "completed", s.Completed, "rejected", s.Rejected, "panicked", s.Panicked)
		}
		logger.Info("executor drained", attrs...)
		return nil
	}})
	return ex, nil
}

// withLimit wraps ex in an adaptive.Executor running cfg's -limit algorithm
// between -limit-min and -limit-max: Gradient2 with Netflix's defaults, or
// with adaptive.QueuedGradient2Config under -max-wait.
func withLimit(ex executor.Executor, cfg config) (*adaptive.Executor, error) {
	var limit adaptive.Limit
	var err error
	switch cfg.Limit {
	case limitAIMD:
		limit, err = adaptive.NewAIMD(adaptive.AIMDConfig{Timeout: cfg.AIMDTimeout})
	case limitGradient2:
		limit, err = adaptive.NewGradient2(gradient2Config(cfg))
	default:
		err = fmt.Errorf("no adaptive limit is called %q; want %s or %s", cfg.Limit, limitAIMD, limitGradient2)
	}
	if err != nil {
		return nil, err
	}
	return adaptive.New(ex, adaptive.Options{Min: cfg.LimitMin, Max: cfg.LimitMax, Initial: cfg.LimitInitial, Limit: limit})
}

// gradient2Config is -limit gradient2's configuration: behind a wait
// budget, requests the limit holds back wait in front, under the budget,
// and none need wait inside the downstream (adaptive.QueuedGradient2Config);
// without one, Netflix's defaults.
func gradient2Config(cfg config) adaptive.Gradient2Config {
	if cfg.maxWait() > 0 {
		return adaptive.QueuedGradient2Config()
	}
	return adaptive.Gradient2Config{}
}

// server is the demo's HTTP server and its readiness.
type server struct {
	http  *http.Server
	ready atomic.Bool // /readyz: true from a successful bind until shutdown begins

	// Set by OnStart before it returns; read after Start.
	addr      net.Addr
	serveDone chan struct{} // closed when Serve has returned
}

// Addr returns the address the server listens on, once started.
func (s *server) Addr() string { return s.addr.String() }

type serverParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    config
	Logger    *slog.Logger
	Metrics   *metrics
	Stop      *stopper
	Executor  executor.Executor `optional:"true"` // absent with -backend none
}

// newServer builds the server and appends its hooks. OnStart binds the
// listener before it returns, so a taken port fails the start; OnStop turns
// /readyz to 503, waits -drain-delay, and shuts the server down within part
// of the stop budget.
func newServer(p serverParams) *server {
	cfg, logger := p.Config, p.Logger
	s := &server{serveDone: make(chan struct{})}
	work := newDownstream(cfg.WorkSlots, cfg.WorkTime, cfg.WorkSlowdownAt, cfg.WorkSlowdownTime)
	s.http = &http.Server{
		Addr:              cfg.Addr,
		Handler:           newRoutes(cfg, p.Executor, work, &s.ready, p.Metrics, func() { p.Stop.Stop(nil) }),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// Long enough for the longest work and a wait for a worker before
		// it; startGuard (config.startBudget) keeps a request
		// that cannot start in time from working for nobody.
		WriteTimeout:   cfg.writeTimeout(),
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	closed := make(chan struct{}) // closed once the line below is logged
	s.http.RegisterOnShutdown(func() {
		// Shutdown starts this, on a goroutine of its own, once it has
		// closed the listener.
		logger.Info("http server draining: listener closed, /readyz is 503")
		close(closed)
	})
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			var lc net.ListenConfig
			ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("httpdemo: listen on %s: %w", cfg.Addr, err)
			}
			s.addr = ln.Addr()
			work.begin(time.Now()) // -work-slowdown-at counts from here
			s.ready.Store(true)
			logger.Info("listening", "addr", s.Addr(), "backend", cfg.Backend, "workers", cfg.Workers,
				"queue", cfg.Queue, "nonblocking", cfg.Nonblocking, "limit", cfg.Limit, "max_wait", cfg.maxWait(), "codel_target", cfg.CodelTarget, "lifo", cfg.LIFO, "start_budget", cfg.startBudget())
			go func() {
				defer close(s.serveDone)
				if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					logger.Error("http server failed", "err", err)
					p.Stop.Stop(fmt.Errorf("httpdemo: serve: %w", err))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			s.ready.Store(false)
			logger.Info("readiness off: /readyz is 503", "drain_delay", cfg.DrainDelay)
			// A server that is shutting down drops every request it reads
			// from then on (golang/go#65802), so clients can only see
			// /readyz turn 503 before Shutdown: the drain delay is that
			// window.
			if cfg.DrainDelay > 0 {
				t := time.NewTimer(cfg.DrainDelay)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
			}
			sctx, cancel := context.WithTimeout(ctx, serverBudget(ctx, cfg.ShutdownTimeout))
			defer cancel()
			start := time.Now()
			err := s.http.Shutdown(sctx)
			if err != nil {
				// Cut the connections still open. Their handlers may still
				// run on the executor, which waits for them next.
				s.http.Close()
			}
			<-s.serveDone
			<-closed // so the log tells the steps in order
			if err != nil {
				return fmt.Errorf("httpdemo: http server did not drain: %w", err)
			}
			logger.Info("http server drained", "took", time.Since(start))
			return nil
		},
	})
	return s
}

// serverBudget is the part of the stop budget given to http.Server.Shutdown:
// three quarters of what is left (of total when ctx has no deadline), so
// that the executor's OnStop, which runs next, keeps a quarter to drain.
func serverBudget(ctx context.Context, total time.Duration) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		total = time.Until(deadline)
	}
	return total * 3 / 4
}

// stopper lets the app ask run to stop it gracefully, as a signal does: the
// -max-requests limit, or a server that fails while running. fx.Shutdowner
// would need app.Wait, which installs fx's own SIGINT and SIGTERM handler;
// run counts signals itself so that a second one exits at once.
type stopper struct {
	once sync.Once
	done chan struct{}
	err  error // why the app stops; written once, before done is closed
}

func newStopper() *stopper { return &stopper{done: make(chan struct{})} }

// Stop asks for a stop; err is nil for a normal one. Only the first call
// counts.
func (s *stopper) Stop(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
	})
}

// Done is closed once Stop has been called.
func (s *stopper) Done() <-chan struct{} { return s.done }

// Err returns the first Stop's error; call it only after Done is closed.
func (s *stopper) Err() error { return s.err }
