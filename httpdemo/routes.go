package main

import (
	_ "embed" // the pages
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executorhttp"
)

// The book's pages, embedded at build time.
var (
	//go:embed pages/hello.html
	helloHTML []byte
	//go:embed pages/404.html
	notFoundHTML []byte
)

// page is an HTML page, ready to send.
type page struct {
	body   []byte
	length string // len(body), for Content-Length
}

func newPage(body []byte) page { return page{body: body, length: strconv.Itoa(len(body))} }

// site serves the book's pages: GET or HEAD /, /sleep, /work and 404s.
type site struct {
	hello, notFound page
	sleep           time.Duration
	work            *downstream
}

func newSite(sleep time.Duration, work *downstream) *site {
	return &site{hello: newPage(helloHTML), notFound: newPage(notFoundHTML), sleep: sleep, work: work}
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		if allowGetHead(w, r) {
			s.hello.write(w, http.StatusOK)
		}
	case "/sleep":
		if !allowGetHead(w, r) {
			return
		}
		t := time.NewTimer(s.sleep)
		defer t.Stop()
		select {
		case <-t.C:
			s.hello.write(w, http.StatusOK)
		case <-r.Context().Done():
			// The client left: free the worker rather than sleep for nobody.
		}
	case "/work":
		if !allowGetHead(w, r) {
			return
		}
		if s.work.call(r.Context()) == nil {
			s.hello.write(w, http.StatusOK)
		}
		// Otherwise the client left: nothing to reply to.
	default:
		s.notFound.write(w, http.StatusNotFound)
	}
}

func (p page) write(w http.ResponseWriter, code int) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", p.length)
	w.WriteHeader(code)
	w.Write(p.body) // net/http discards the body of a reply to HEAD
}

// allowGetHead reports whether r's method is GET or HEAD, and replies 405
// with Allow when it is not.
func allowGetHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
	return false
}

// routes is everything the demo serves. Pages run on the executor (ex, nil
// with -backend none); /healthz, /readyz and /metrics run on net/http's
// goroutine, so probes and scrapes answer even when every worker is busy
// and never take a worker from a page.
type routes struct {
	pages   http.Handler
	ready   *atomic.Bool // false before start and once shutdown begins
	metrics http.Handler
}

// newRoutes wires the pages onto ex (nil: none), with /work calling work,
// and, when maxRequests > 0, calls stop after that many page requests have
// been served.
func newRoutes(cfg config, ex executor.Executor, work *downstream, ready *atomic.Bool, m *metrics, stop func()) http.Handler {
	pages := startGuard(newSite(cfg.Sleep, work), cfg.startBudget())
	if ex != nil {
		pages = &executorhttp.Handler{Executor: ex, Handler: pages, MaxWait: cfg.maxWait(), Target: cfg.CodelTarget, LIFO: cfg.LIFO}
	}
	if cfg.MaxRequests > 0 {
		pages = stopAfter(int64(cfg.MaxRequests), pages, stop)
	}
	return m.instrument(&routes{pages: pages, ready: ready, metrics: m.handler()})
}

func (rt *routes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		if allowGetHead(w, r) {
			io.WriteString(w, "ok\n")
		}
	case "/readyz":
		if !allowGetHead(w, r) {
			return
		}
		if !rt.ready.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	case "/metrics":
		if allowGetHead(w, r) {
			rt.metrics.ServeHTTP(w, r)
		}
	default:
		rt.pages.ServeHTTP(w, r)
	}
}

// startGuard replies 503 with Retry-After, without calling next, to a
// request that arrived more than budget ago: it waited so long for a worker
// that its reply could no longer reach the client before the server's
// WriteTimeout, so the work would be done for nobody (issue 13, defect 1).
// The check costs a clock read, where a deadline on every request's
// context would cost a timer.
//
// The arrival time is the one instrument recorded: w must be instrument's
// statusRecorder, as it is when next runs inside executorhttp.Handler,
// which hands the handler w unchanged. Any other w is served unchecked, and
// so is every request when budget is not positive (a test's config without
// WriteSlack).
func startGuard(next http.Handler, budget time.Duration) http.Handler {
	if budget <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*statusRecorder); ok && time.Since(rec.start) > budget {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "503 service unavailable: waited too long for a worker, retry later", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// stopAfter calls stop once n requests through next have returned, as the
// book's take(2) stops after two connections. Requests that arrive before
// the server closes its listener are still served.
func stopAfter(n int64, next http.Handler, stop func()) http.Handler {
	var served atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if served.Add(1) == n {
			stop()
		}
	})
}
