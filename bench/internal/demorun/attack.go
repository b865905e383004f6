package demorun

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Result is what one attack measured.
type Result struct {
	Sent    uint64        // requests sent
	OK      uint64        // 2xx responses
	Shed    uint64        // 503 responses
	Failed  uint64        // every other outcome: other statuses, timeouts, connection errors
	Span    time.Duration // first send to last send
	Elapsed time.Duration // first send to last response

	OKLat   Latency        // latency of the 2xx responses
	ShedLat Latency        // latency of the 503 responses
	Errors  map[string]int // each distinct failure (not 503) and how often
}

// Latency holds the quantiles of one set of requests; zero if there were none.
type Latency struct{ P50, P99, Max time.Duration }

// SentRate is requests sent per second.
func (r Result) SentRate() float64 { return perSecond(r.Sent, r.Span) }

// OKRate is 2xx responses per second, over the whole run until the last
// response.
func (r Result) OKRate() float64 { return perSecond(r.OK, r.Elapsed) }

func perSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// TopError returns the most frequent failure message, or "".
func (r Result) TopError() string {
	var keys []string
	for k := range r.Errors {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if r.Errors[keys[i]] != r.Errors[keys[j]] {
			return r.Errors[keys[i]] > r.Errors[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// NewClient returns the HTTP client for one server: keep-alive, no proxy,
// enough idle connections for every vegeta worker, each request given up
// after timeout. Close its idle connections when the server's runs are
// done.
func NewClient(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 10000,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

// Plan is one attack to make.
type Plan struct {
	Label      string // for the progress line
	URL        string
	Rate       int    // requests per second; 0: as fast as MaxWorkers clients go
	Workers    uint64 // vegeta's initial workers
	MaxWorkers uint64 // vegeta's cap on workers (each is one request in flight)
	Duration   time.Duration
	MaxReqs    uint64
	Timeout    time.Duration // per request, for the hard deadline
}

// Limited stops an attack after Max hits, so every run is bounded in count
// as well as time.
type Limited struct {
	vegeta.Pacer
	Max uint64
}

// Pace implements vegeta.Pacer.
func (l Limited) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= l.Max {
		return 0, true
	}
	return l.Pacer.Pace(elapsed, hits)
}

// Attack runs p with client and returns what it measured, printing a
// progress line prefixed with prefix to progress every second. It returns
// within about p.Duration + 2×p.Timeout + 5s whatever the server does:
// vegeta stops sending after p.Duration or p.MaxReqs requests, and is told
// to stop at p.Duration + p.Timeout + 5s if it has not; each request in
// flight then ends within p.Timeout.
func Attack(client *http.Client, p Plan, prefix string, progress io.Writer) Result {
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(p.Workers),
		vegeta.MaxWorkers(p.MaxWorkers),
		vegeta.MaxBody(0), // read and discard bodies; keep none
	)
	pacer := Limited{Pacer: vegeta.ConstantPacer{Freq: p.Rate, Per: time.Second}, Max: p.MaxReqs}
	static := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: p.URL})
	// Results arrive as responses do; the targeter, called once per
	// request sent (from many workers), counts the sends for the progress
	// line.
	var sent atomic.Uint64
	target := func(t *vegeta.Target) error {
		sent.Add(1)
		return static(t)
	}

	var r Result
	var ok, shed vegeta.LatencyMetrics
	var first, lastSent, lastEnd time.Time
	r.Errors = map[string]int{}

	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	hard := time.NewTimer(p.Duration + p.Timeout + 5*time.Second)
	defer hard.Stop()
	results := atk.Attack(target, pacer, p.Duration, p.Label)
	for {
		select {
		case res, open := <-results:
			if !open {
				r.OKLat = quantiles(ok, r.OK)
				r.ShedLat = quantiles(shed, r.Shed)
				r.Span = lastSent.Sub(first)
				r.Elapsed = lastEnd.Sub(first)
				return r
			}
			r.Sent++
			if first.IsZero() || res.Timestamp.Before(first) {
				first = res.Timestamp
			}
			if res.Timestamp.After(lastSent) {
				lastSent = res.Timestamp
			}
			if end := res.End(); end.After(lastEnd) {
				lastEnd = end
			}
			switch {
			case res.Code >= 200 && res.Code < 300:
				r.OK++
				ok.Add(res.Latency)
			case res.Code == http.StatusServiceUnavailable:
				r.Shed++
				shed.Add(res.Latency)
			default:
				r.Failed++
				msg := res.Error
				if msg == "" {
					msg = fmt.Sprintf("status %d", res.Code)
				}
				r.Errors[msg]++
			}
		case <-tick.C:
			fmt.Fprintf(progress, "%s %-26s %5.1fs sent %7d, done %7d: %d ok, %d 503, %d failed\n",
				prefix, p.Label, time.Since(start).Seconds(), sent.Load(), r.Sent, r.OK, r.Shed, r.Failed)
		case <-hard.C:
			// vegeta should have stopped by now; make it (it still
			// closes results once the requests in flight end).
			atk.Stop()
			fmt.Fprintf(progress, "%s %s: still running after %s; stopped the attacker\n",
				prefix, p.Label, time.Since(start).Round(time.Millisecond))
		}
	}
}

// quantiles reads p50, p99 and max from m, which holds n samples.
func quantiles(m vegeta.LatencyMetrics, n uint64) Latency {
	if n == 0 {
		return Latency{}
	}
	return Latency{P50: m.Quantile(0.50), P99: m.Quantile(0.99), Max: m.Max}
}
