package main

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/adaptive"
	"github.com/swapexec/swapexec/executor/executorprom"
)

// statusClientGone is the status recorded (never sent) for a request whose
// client left before it got a reply, as nginx's 499.
const statusClientGone = 499

// statusUndelivered is the status recorded for a reply that was still being
// made when the server's WriteTimeout passed: net/http could not send it,
// whatever the handler wrote, and the client got no reply (as a browser
// reports status 0 for a request that got no response).
const statusUndelivered = 0

// metrics holds the demo's private Prometheus registry (never the global
// default) and the request instruments every route reports to.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec   // by route and code
	duration *prometheus.HistogramVec // by route
	inFlight prometheus.Gauge

	// writeTimeout is the server's: a reply not finished this long after
	// its request arrived did not reach the client.
	writeTimeout time.Duration
}

type metricsParams struct {
	fx.In
	Config   config
	Executor executor.Executor `optional:"true"` // absent with -backend none
}

// newMetrics builds the registry: Go and process collectors, the request
// instruments, and the executor's Stats when it reports them.
func newMetrics(p metricsParams) (*metrics, error) {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "swapexec_http_requests_total",
			Help: "HTTP requests served, by route and the status code the client got (499: the client left before a reply; 0: the reply missed the server's WriteTimeout and never reached the client).",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "swapexec_http_request_duration_seconds",
			Help:    "Time from the request's arrival to its handler's return, queueing on the executor included, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10), // 100µs to ~26s
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "swapexec_http_requests_in_flight",
			Help: "HTTP requests being served now, queued on the executor included.",
		}),
		writeTimeout: p.Config.writeTimeout(),
	}
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, m.inFlight,
	}
	if r, ok := p.Executor.(executor.StatsReporter); ok {
		cs = append(cs, executorprom.NewCollector(r, executorprom.Opts{ConstLabels: prometheus.Labels{"backend": p.Config.Backend}}))
	}
	for _, c := range cs {
		if err := m.registry.Register(c); err != nil {
			return nil, fmt.Errorf("httpdemo: metrics: %w", err)
		}
	}
	if a, ok := p.Executor.(*adaptive.Executor); ok {
		// swapexec_adaptive_limit, labelled like the executor's Stats.
		reg := prometheus.WrapRegistererWith(prometheus.Labels{"backend": p.Config.Backend, "algorithm": p.Config.Limit}, m.registry)
		if err := reg.Register(a.Collector()); err != nil {
			return nil, fmt.Errorf("httpdemo: metrics: %w", err)
		}
	}
	return m, nil
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// routeOf maps a path to its route label; every unknown path is "other", so
// the label cannot grow without bound.
func routeOf(path string) string {
	switch path {
	case "/", "/sleep", "/work", "/healthz", "/readyz", "/metrics":
		return path
	}
	return "other"
}

// instrument counts each request by route and status code and observes its
// latency. A request that wrote nothing and whose client has gone is
// counted as 499; one whose handler returned after the server's
// WriteTimeout had passed, as 0: the client got no reply. (net/http arms
// that deadline just before it calls the handler, so a request past
// start+WriteTimeout is surely past it; a reply finished within
// microseconds before it could still miss it and be counted as sent.)
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := routeOf(r.URL.Path)
		m.inFlight.Inc()
		rec := &statusRecorder{ResponseWriter: w, start: start}
		// Deferred, so a request whose handler panics is counted too.
		defer func() {
			m.inFlight.Dec()
			took := time.Since(start)
			code := rec.code
			switch {
			case m.writeTimeout > 0 && took > m.writeTimeout:
				code = statusUndelivered
			case code == 0:
				code = http.StatusOK // what net/http sends for a handler that wrote nothing
				if r.Context().Err() != nil {
					code = statusClientGone
				}
			}
			m.requests.WithLabelValues(route, codeText(code)).Inc()
			m.duration.WithLabelValues(route).Observe(took.Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// codeText is strconv.Itoa without an allocation for the codes the demo
// sends.
func codeText(code int) string {
	switch code {
	case 0:
		return "0"
	case 200:
		return "200"
	case 404:
		return "404"
	case 405:
		return "405"
	case 499:
		return "499"
	case 503:
		return "503"
	}
	return strconv.Itoa(code)
}

// statusRecorder remembers the first status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	code  int       // 0 until the header is written
	start time.Time // when instrument saw the request arrive, for startGuard
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && code >= 200 { // 1xx headers are not the final status
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach net/http's writer (Flush,
// deadlines, Hijack).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
