package main

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

// summary is what one run measured.
type summary struct {
	Backend  string
	Scenario string // scenarioFixed, scenarioMax or scenarioOverload
	Mode     string // overload only: "blocking" or "nonblocking"
	Round    int    // fixed and max only: the 0-based round it ran in

	Sent    uint64        // requests sent
	OK      uint64        // 2xx responses
	Shed    uint64        // 503 responses
	Failed  uint64        // every other outcome: other statuses, timeouts, connection errors
	Span    time.Duration // first send to last send
	Elapsed time.Duration // first send to last response

	OKLat   latency        // latency of the 2xx responses
	ShedLat latency        // latency of the 503 responses
	Errors  map[string]int // each distinct failure (not 503) and how often
}

// latency holds the quantiles of one set of requests; zero if there were none.
type latency struct{ P50, P99, Max time.Duration }

const (
	scenarioFixed    = "fixed"
	scenarioMax      = "max"
	scenarioOverload = "overload"
)

// SentRate is requests sent per second.
func (s summary) SentRate() float64 { return perSecond(s.Sent, s.Span) }

// OKRate is 2xx responses per second, over the whole run until the last
// response.
func (s summary) OKRate() float64 { return perSecond(s.OK, s.Elapsed) }

func perSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// TopError returns the most frequent failure message, or "".
func (s summary) TopError() string {
	var keys []string
	for k := range s.Errors {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if s.Errors[keys[i]] != s.Errors[keys[j]] {
			return s.Errors[keys[i]] > s.Errors[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// newClient returns the HTTP client for one server: keep-alive, no proxy,
// enough idle connections for every vegeta worker. Close its idle
// connections when the server's runs are done.
func newClient(timeout time.Duration) *http.Client {
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

// plan is one attack to make.
type plan struct {
	Label      string // for the progress line, round included
	URL        string
	Rate       int    // requests per second; 0: as fast as MaxWorkers clients go
	Workers    uint64 // vegeta's initial workers
	MaxWorkers uint64 // vegeta's cap on workers (each is one request in flight)
	Duration   time.Duration
	MaxReqs    uint64
	Timeout    time.Duration // per request, for the hard deadline
}

// limited stops an attack after max hits, so every run is bounded in count
// as well as time.
type limited struct {
	vegeta.Pacer
	max uint64
}

// Pace implements vegeta.Pacer.
func (l limited) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= l.max {
		return 0, true
	}
	return l.Pacer.Pace(elapsed, hits)
}

// attack runs r with client and returns what it measured into s, printing
// a progress line to progress every second. It returns within about
// r.Duration + 2×r.Timeout + 5s whatever the server does: vegeta stops
// sending after r.Duration or r.MaxReqs requests, and is told to stop at
// r.Duration + r.Timeout + 5s if it has not; each request in flight then
// ends within r.Timeout.
func attack(client *http.Client, r plan, s summary, progress io.Writer) summary {
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(r.Workers),
		vegeta.MaxWorkers(r.MaxWorkers),
		vegeta.MaxBody(0), // read and discard bodies; keep none
	)
	pacer := limited{Pacer: vegeta.ConstantPacer{Freq: r.Rate, Per: time.Second}, max: r.MaxReqs}
	static := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: r.URL})
	// Results arrive as responses do; the targeter, called once per
	// request sent (from many workers), counts the sends for the progress
	// line.
	var sent atomic.Uint64
	target := func(t *vegeta.Target) error {
		sent.Add(1)
		return static(t)
	}

	var ok, shed vegeta.LatencyMetrics
	var first, lastSent, lastEnd time.Time
	s.Errors = map[string]int{}

	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	hard := time.NewTimer(r.Duration + r.Timeout + 5*time.Second)
	defer hard.Stop()
	results := atk.Attack(target, pacer, r.Duration, r.Label)
	for {
		select {
		case res, open := <-results:
			if !open {
				s.OKLat = quantiles(ok, s.OK)
				s.ShedLat = quantiles(shed, s.Shed)
				s.Span = lastSent.Sub(first)
				s.Elapsed = lastEnd.Sub(first)
				return s
			}
			s.Sent++
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
				s.OK++
				ok.Add(res.Latency)
			case res.Code == http.StatusServiceUnavailable:
				s.Shed++
				shed.Add(res.Latency)
			default:
				s.Failed++
				msg := res.Error
				if msg == "" {
					msg = fmt.Sprintf("status %d", res.Code)
				}
				s.Errors[msg]++
			}
		case <-tick.C:
			fmt.Fprintf(progress, "load: %-8s %-26s %5.1fs sent %7d, done %7d: %d ok, %d 503, %d failed\n",
				s.Backend, r.Label, time.Since(start).Seconds(), sent.Load(), s.Sent, s.OK, s.Shed, s.Failed)
		case <-hard.C:
			// vegeta should have stopped by now; make it (it still
			// closes results once the requests in flight end).
			atk.Stop()
			fmt.Fprintf(progress, "load: %s %s: still running after %s; stopped the attacker\n",
				s.Backend, r.Label, time.Since(start).Round(time.Millisecond))
		}
	}
}

// quantiles reads p50, p99 and max from m, which holds n samples.
func quantiles(m vegeta.LatencyMetrics, n uint64) latency {
	if n == 0 {
		return latency{}
	}
	return latency{P50: m.Quantile(0.50), P99: m.Quantile(0.99), Max: m.Max}
}
