package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

// sample is one request's outcome.
type sample struct {
	Sent    time.Duration // from the attack's start
	Latency time.Duration // send to last byte read
	Code    uint16        // HTTP status; 0 for a request that got none
}

// OK reports a 2xx response.
func (s sample) OK() bool { return s.Code >= 200 && s.Code < 300 }

// Done is when the response ended, from the attack's start.
func (s sample) Done() time.Duration { return s.Sent + s.Latency }

// limitPoint is one reading of the limit.
type limitPoint struct {
	At    time.Duration // from the attack's start
	Limit float64
}

// trial is everything one mode's server gave.
type trial struct {
	Mode     mode
	Samples  []sample
	Limits   []limitPoint
	Errors   map[string]int // each distinct failure other than 503, and how often
	SlowSkew time.Duration  // when the downstream slowed, minus when its step began (0 without one)
	Err      error          `json:"-"` // the server or HAProxy failed to start or stop; the run may be partial
	ErrText  string         // Err's text, kept by -save for -replay
}

// runMode starts m's server (and HAProxy), drives its schedule at it,
// reads its limit while it runs, and stops it. It always returns the run,
// partial with Err set if something failed.
func runMode(c config, bin string, m mode, progress io.Writer) (r trial) {
	r = trial{Mode: m, Errors: map[string]int{}}
	slowFrom, slow := m.Steps.SlowFrom()
	var slowAt time.Duration
	if slow {
		slowAt = c.Lead + slowFrom
	}
	srv, err := demorun.Start(bin, "127.0.0.1:0", 10*time.Second, serverArgs(c, m, slowAt)...)
	if err != nil {
		r.Err = err
		return r
	}
	defer func() {
		if err := srv.Stop(); err != nil && r.Err == nil {
			r.Err = err
		}
	}()
	listened, err := listenTime(srv)
	if err != nil {
		r.Err = err
		return r
	}
	target := "http://" + srv.Addr + "/work"
	if m.HAProxy > 0 {
		h, front, err := startHAProxy(c.HAProxy, srv.Addr, m.HAProxy, c.MaxWait)
		if err != nil {
			r.Err = err
			return r
		}
		defer h.Stop()
		target = "http://" + front + "/work"
	}
	fmt.Fprintf(progress, "stepload: %s: %s on %s\n", m.Label, joinArgs(serverArgs(c, m, slowAt)), srv.Addr)

	// The slowdown is timed from "listening"; the attack starts c.Lead
	// after it, so the slowdown falls on its step's start.
	time.Sleep(time.Until(listened.Add(c.Lead)))
	began := time.Now()
	if slow {
		r.SlowSkew = listened.Add(slowAt).Sub(began.Add(slowFrom))
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if m.Limit != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Limits = scrapeLimits(ctx, "http://"+srv.Addr+"/metrics", metricName(m.Limit), c.Scrape, began)
		}()
	}
	timeout := c.Timeout
	if m.Timeout > 0 {
		timeout = m.Timeout
	}
	client := demorun.NewClient(timeout)
	r.Samples = attackSteps(client, c, m, target, began, r.Errors, progress)
	client.CloseIdleConnections()
	cancel()
	wg.Wait()
	if m.Limit == "" {
		r.Limits = []limitPoint{{0, float64(m.ConstLimit)}, {m.Steps.Total(), float64(m.ConstLimit)}}
	}
	return r
}

// listenTime reads the time of srv's "listening" log record.
func listenTime(srv *demorun.Server) (time.Time, error) {
	rec, ok := srv.Record("listening")
	if !ok {
		return time.Time{}, fmt.Errorf("stepload: no \"listening\" record in httpdemo's log")
	}
	s, _ := rec["time"].(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stepload: the \"listening\" record's time %q: %w", s, err)
	}
	return t, nil
}

// metricName is the /metrics series that holds a mode's limit.
func metricName(limit string) string {
	if limit == limitAdaptive {
		return "swapexec_adaptive_limit"
	}
	return "swapexec_executor_workers"
}

// addrPattern matches the host:port pairs in error messages, so that one
// failure reached by many connections counts as one kind.
var addrPattern = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)

// attackSteps sends m's schedule at target, open loop, and returns every
// request's outcome; failures other than 503 are counted in errs by
// message. It returns within the schedule plus 2×c.Timeout plus 5s,
// whatever the server does.
func attackSteps(client *http.Client, c config, m mode, target string, began time.Time, errs map[string]int, progress io.Writer) []sample {
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(64),
		vegeta.MaxWorkers(c.MaxWorkers),
		vegeta.MaxBody(0),
	)
	pacer := stepPacer{steps: m.Steps, capacity: c.capacity()}
	var sent atomic.Uint64
	static := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: target})
	targeter := func(t *vegeta.Target) error {
		sent.Add(1)
		return static(t)
	}
	total := m.Steps.Total()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	hard := time.NewTimer(total + c.Timeout + 5*time.Second)
	defer hard.Stop()

	var out []sample
	var ok, shed int
	results := atk.Attack(targeter, pacer, total, m.Key)
	for {
		select {
		case res, open := <-results:
			if !open {
				return out
			}
			s := sample{Sent: res.Timestamp.Sub(began), Latency: res.Latency, Code: res.Code}
			out = append(out, s)
			switch {
			case s.OK():
				ok++
			case s.Code == http.StatusServiceUnavailable:
				shed++
			default:
				msg := res.Error
				if msg == "" {
					msg = fmt.Sprintf("status %d", res.Code)
				}
				errs[addrPattern.ReplaceAllString(msg, "host:port")]++
			}
		case <-tick.C:
			el := time.Since(began)
			name := "after the last step"
			if i := m.Steps.At(el); i >= 0 {
				name = m.Steps[i].Name
			}
			fmt.Fprintf(progress, "stepload: %-10s %5.1fs %-15s sent %6d, done %6d: %d ok, %d 503, %d other\n",
				m.Key, el.Seconds(), name, sent.Load(), len(out), ok, shed, len(out)-ok-shed)
		case <-hard.C:
			atk.Stop()
			fmt.Fprintf(progress, "stepload: %s: still running %s after the schedule; stopped the attacker\n", m.Key, c.Timeout+5*time.Second)
		}
	}
}
