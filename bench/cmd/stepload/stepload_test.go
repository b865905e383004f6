package main

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const ms = time.Millisecond

func TestScheduleAt(t *testing.T) {
	sc := schedule{{Name: "a", Load: 0.1, Duration: time.Second}, {Name: "b", Load: 2, Duration: 2 * time.Second}}
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{
		{-1, -1}, {0, 0}, {999 * ms, 0}, {time.Second, 1}, {2999 * ms, 1}, {3 * time.Second, -1},
	} {
		if got := sc.At(tc.at); got != tc.want {
			t.Errorf("At(%s) = %d; want %d", tc.at, got, tc.want)
		}
	}
	if got := sc.Total(); got != 3*time.Second {
		t.Errorf("Total = %s; want 3s", got)
	}
	if got := sc.Start(1); got != time.Second {
		t.Errorf("Start(1) = %s; want 1s", got)
	}
	if _, ok := sc.SlowFrom(); ok {
		t.Errorf("SlowFrom found a slow step in a schedule without one")
	}
	full := fullSchedule(5*time.Second, 10*time.Second)
	if at, ok := full.SlowFrom(); !ok || at != 45*time.Second {
		t.Errorf("fullSchedule(5s, 10s).SlowFrom() = %s, %v; want 45s, true (5s + 4 steps of 10s)", at, ok)
	}
	var loads []float64
	for _, s := range full {
		loads = append(loads, s.Load)
	}
	if want := []float64{0.1, 0.5, 0.9, 2, 1, 1}; !slices.Equal(loads, want) {
		t.Errorf("fullSchedule loads = %v; want %v", loads, want)
	}
}

// pace drives p as vegeta's attacker does, on a simulated clock that
// jumps by each wait, and returns when each hit went out.
func pace(p stepPacer) []time.Duration {
	var sent []time.Duration
	var now time.Duration
	for hits := uint64(0); hits < 1e6; hits++ {
		wait, stop := p.Pace(now, hits)
		if stop {
			return sent
		}
		now += max(wait, 0)
		sent = append(sent, now)
	}
	return sent
}

func TestStepPacer(t *testing.T) {
	p := stepPacer{capacity: 100, steps: schedule{
		{Name: "slow", Load: 0.5, Duration: 2 * time.Second},       // 50/s: 100 hits
		{Name: "fast", Load: 2.0, Duration: time.Second},           // 200/s: 200 hits
		{Name: "mid", Load: 1.0, Duration: 500 * time.Millisecond}, // 100/s: 50 hits
	}}
	sent := pace(p)
	if len(sent) != 350 {
		t.Fatalf("sent %d hits; want 350 (100 + 200 + 50)", len(sent))
	}
	per := map[int]int{}
	for _, at := range sent {
		per[p.steps.At(at)]++
	}
	if per[0] != 100 || per[1] != 200 || per[2] != 50 || per[-1] != 0 {
		t.Errorf("hits per step = %v; want 100, 200, 50 and none outside", per)
	}
	// Evenly spaced within a step: the 201st hit, the 101st of "fast", is
	// due at 2s + 100/200s.
	if got, want := sent[200], 2500*time.Millisecond; (got - want).Abs() > time.Microsecond {
		t.Errorf("hit 201 at %s; want %s", got, want)
	}
	if got := p.Rate(2100 * time.Millisecond); got != 200 {
		t.Errorf("Rate(2.1s) = %v; want 200", got)
	}
	// Behind schedule, the next hit goes at once.
	if wait, stop := p.Pace(time.Second, 10); wait != 0 || stop {
		t.Errorf("Pace(1s, 10 hits) = %s, %v; want 0, false (50 were due)", wait, stop)
	}
}

// trialOf builds a trial of the given samples and limits over sc.
func trialOf(sc schedule, samples []sample, limits []limitPoint) trial {
	return trial{Mode: mode{Key: modeGradient2, Steps: sc, Limit: limitAdaptive}, Samples: samples, Limits: limits}
}

func TestSteps(t *testing.T) {
	sc := schedule{{Name: "a", Load: 0.5, Duration: time.Second}, {Name: "b", Load: 2, Duration: 2 * time.Second}}
	samples := []sample{
		{Sent: 100 * ms, Latency: 10 * ms, Code: 200},
		{Sent: 200 * ms, Latency: 20 * ms, Code: 200},
		{Sent: 900 * ms, Latency: 300 * ms, Code: 200}, // sent in a, done in b
		{Sent: 950 * ms, Latency: 1 * ms, Code: 503},
		{Sent: 1100 * ms, Latency: 40 * ms, Code: 200},
		{Sent: 1200 * ms, Latency: 5 * ms, Code: 503},
		{Sent: 1300 * ms, Latency: 30 * time.Second, Code: 0}, // timed out
		{Sent: 1400 * ms, Latency: 50 * ms, Code: 500},        // another failure
		{Sent: 2900 * ms, Latency: 500 * ms, Code: 200},       // done after the end
		{Sent: 3100 * ms, Latency: 1 * ms, Code: 200},         // outside the schedule
	}
	limits := []limitPoint{{0, 20}, {500 * ms, 20}, {1250 * ms, 30}, {2000 * ms, 10}, {2600 * ms, 12}, {2800 * ms, 12}}
	st := trialOf(sc, samples, limits).steps(100)

	a, b := st[0], st[1]
	if a.Offered != 50 || b.Offered != 200 {
		t.Errorf("Offered = %v, %v; want 50, 200", a.Offered, b.Offered)
	}
	if a.Sent != 4 || a.OK != 3 || a.Shed != 1 || a.Failed != 0 {
		t.Errorf("step a: sent, ok, 503, failed = %d, %d, %d, %d; want 4, 3, 1, 0", a.Sent, a.OK, a.Shed, a.Failed)
	}
	if b.Sent != 5 || b.OK != 2 || b.Shed != 1 || b.Failed != 2 {
		t.Errorf("step b: sent, ok, 503, failed = %d, %d, %d, %d; want 5, 2, 1, 2", b.Sent, b.OK, b.Shed, b.Failed)
	}
	// Goodput counts 2xx by when they ended: two in a (1s), two in b (2s:
	// the one sent in a and the one at 1.1s; the one that ended at 3.4s
	// is past the schedule).
	if a.Goodput != 2 || b.Goodput != 1 {
		t.Errorf("Goodput = %v, %v; want 2, 1", a.Goodput, b.Goodput)
	}
	if a.P50 != 20*ms || a.P99 != 300*ms {
		t.Errorf("step a: p50, p99 = %s, %s; want 20ms, 300ms (nearest rank of 10, 20, 300)", a.P50, a.P99)
	}
	if got := b.ShedShare(); got != 0.2 {
		t.Errorf("step b: ShedShare = %v; want 0.2", got)
	}
	if a.Limit != 20 || b.LimitLo != 10 || b.LimitHi != 30 || b.Limit != 12 {
		t.Errorf("limits: a %v, b %v (%v–%v); want 20, and 12 (10–30)", a.Limit, b.Limit, b.LimitLo, b.LimitHi)
	}
}

func TestQuantile(t *testing.T) {
	var xs []time.Duration
	for i := 100; i >= 1; i-- {
		xs = append(xs, time.Duration(i)*ms)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * ms}, {0.99, 99 * ms}, {1, 100 * ms}, {0, 1 * ms}} {
		if got := quantile(xs, tc.q); got != tc.want {
			t.Errorf("quantile(1..100ms, %v) = %s; want %s", tc.q, got, tc.want)
		}
	}
	if got := quantile(nil, 0.99); got != 0 {
		t.Errorf("quantile(nil) = %s; want 0", got)
	}
}

func TestSettleTime(t *testing.T) {
	d := 4 * time.Second
	pts := func(vals ...float64) []limitPoint { // one reading each 250ms
		var out []limitPoint
		for i, v := range vals {
			out = append(out, limitPoint{At: time.Duration(i) * 250 * ms, Limit: v})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		pts  []limitPoint
		want time.Duration
		ok   bool
	}{
		{"flat", pts(16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16), 0, true},
		{"falls then holds", pts(40, 35, 30, 25, 20, 17, 16, 15, 16, 17, 16, 16, 15, 16, 16, 16), 1250 * ms, true},
		{"within the band of 2", pts(12, 10, 11, 13, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12), 0, true},
		{"a late excursion counts", pts(16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 30, 16, 16, 16, 16, 16), 2750 * ms, true},
		{"too few readings", pts(16, 16, 16), 0, false},
	} {
		got, ok := settleTime(tc.pts, d)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: settleTime = %s, %v; want %s, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBuckets(t *testing.T) {
	sc := schedule{{Name: "a", Load: 1, Duration: 2 * time.Second}}
	samples := []sample{
		{Sent: 100 * ms, Latency: 10 * ms, Code: 200},
		{Sent: 900 * ms, Latency: 200 * ms, Code: 200}, // ends in the second bucket
		{Sent: 1500 * ms, Latency: 5 * ms, Code: 503},  // not a 2xx: in no bucket
	}
	got := trialOf(sc, samples, nil).buckets(time.Second)
	want := []bucket{{At: 500 * ms, Goodput: 1, P99: 200 * ms}, {At: 1500 * ms, Goodput: 1, P99: 0}}
	if !slices.Equal(got, want) {
		t.Errorf("buckets = %+v; want %+v", got, want)
	}
}

func TestSweepChoice(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stats []stepStats
		want  int
	}{
		{"most goodput", []stepStats{{Sent: 1, Goodput: 300, P99: 10 * ms}, {Sent: 1, Goodput: 390, P99: 50 * ms}}, 1},
		{"within 2%, lower p99", []stepStats{{Sent: 1, Goodput: 395, P99: 60 * ms}, {Sent: 1, Goodput: 390, P99: 40 * ms}, {Sent: 1, Goodput: 380, P99: 20 * ms}}, 1},
		{"a run that sent nothing", []stepStats{{Sent: 0}, {Sent: 1, Goodput: 10, P99: ms}}, 1},
		{"none", nil, -1},
	} {
		if got := sweepChoice(tc.stats); got != tc.want {
			t.Errorf("%s: sweepChoice = %d; want %d", tc.name, got, tc.want)
		}
	}
}

func TestMetricValue(t *testing.T) {
	body := []byte(`# HELP swapexec_adaptive_limit The limit.
# TYPE swapexec_adaptive_limit gauge
swapexec_adaptive_limit_changes_total 7
swapexec_adaptive_limit{algorithm="gradient2",backend="chanpool"} 17
swapexec_executor_workers{backend="chanpool"} 200
go_goroutines 12 1700000000000
`)
	for _, tc := range []struct {
		name string
		want float64
		ok   bool
	}{
		{"swapexec_adaptive_limit", 17, true},
		{"swapexec_executor_workers", 200, true},
		{"go_goroutines", 12, true},
		{"swapexec_adaptive", 0, false},
		{"absent", 0, false},
	} {
		got, ok := metricValue(body, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("metricValue(%s) = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHAProxyConfig(t *testing.T) {
	got := haproxyConfig("127.0.0.1:1000", "127.0.0.1:2000", 12, 30*ms)
	for _, want := range []string{"timeout queue 30ms", "bind 127.0.0.1:1000", "server demo 127.0.0.1:2000 maxconn 12", "retries 0"} {
		if !strings.Contains(got, want) {
			t.Errorf("haproxyConfig lacks %q:\n%s", want, got)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig(nil) = %v; want the defaults valid", err)
	}
	if got := c.capacity(); got != 400 {
		t.Errorf("default capacity = %v; want 400 (-work-slots 4 -work-time 10ms)", got)
	}
	if !slices.Equal(c.Modes, allModes()) {
		t.Errorf("default Modes = %v; want every mode", c.Modes)
	}
	q, err := parseConfig([]string{"-quick", "-step", "3s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if q.Step != 3*time.Second || q.Ref != time.Second || !slices.Equal(q.Sweep, []int{8, 16}) {
		t.Errorf("-quick -step 3s: Step %s, Ref %s, Sweep %v; want 3s (given), 1s, [8 16]", q.Step, q.Ref, q.Sweep)
	}
	q, err = parseConfig([]string{"-quick", "-sweep", "3,5"}, io.Discard)
	if err != nil || !slices.Equal(q.Sweep, []int{3, 5}) {
		t.Errorf("-quick -sweep 3,5: Sweep %v, %v; want [3 5]", q.Sweep, err)
	}
	for _, args := range [][]string{
		{"-sweep", "4,x"}, {"-sweep", "4,4"}, {"-sweep", "0"}, {"-modes", "gradient2,nope"},
		{"-modes", ""}, {"-step", "0s"}, {"-work-slots", "0"}, {"-max-in-flight", "20000"},
		{"-sweep", "", "-modes", "best-fixed"}, {"extra"}, {"-deadline", "0s"}, {"-deadline", "1m"},
	} {
		if _, err := parseConfig(args, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("parseConfig(%q) = %v; want errUsage", args, err)
		}
	}
	if _, err := parseConfig([]string{"-sweep", "", "-modes", "gradient2"}, io.Discard); err != nil {
		t.Errorf("no sweep and no mode that needs it: %v; want it valid", err)
	}
}

func TestBuildModes(t *testing.T) {
	c, _ := parseConfig(nil, io.Discard)
	modes := buildModes(c, 6, []string{"-nonblocking"})
	byKey := map[string]mode{}
	for _, m := range modes {
		byKey[m.Key] = m
	}
	if got := joinArgs(byKey[modeBestFixed].Args); got != "-workers 6 -nonblocking" {
		t.Errorf("best-fixed args = %q; want -workers 6 -nonblocking", got)
	}
	if h := byKey[modeHAProxy]; h.HAProxy != 6 || h.Backend != "none" {
		t.Errorf("haproxy: maxconn %d, backend %q; want 6, none", h.HAProxy, h.Backend)
	}
	for _, key := range []string{modeAIMD, modeAIMDLoss, modeGradient2} {
		if args := joinArgs(byKey[key].Args); strings.Contains(args, "-workers") || !strings.Contains(args, "-max-wait 30ms") {
			t.Errorf("%s args = %q; want -max-wait 30ms and no -workers (untuned)", key, args)
		}
	}
	// Only the aimd-deadline mode's callers give up sooner than -timeout.
	for _, m := range modes {
		if want := map[bool]time.Duration{true: 100 * time.Millisecond}[m.Key == modeAIMDLoss]; m.Timeout != want {
			t.Errorf("%s: Timeout %s; want %s", m.Key, m.Timeout, want)
		}
	}
	if args := joinArgs(byKey[modeG2Alone].Args); strings.Contains(args, "-max-wait") || strings.Contains(args, "-nonblocking") {
		t.Errorf("gradient2-alone args = %q; want no bound on waiting", args)
	}
	// The slowdown goes on the command line only for a schedule with a slow step.
	args := joinArgs(serverArgs(c, byKey[modeGradient2], 46*time.Second))
	if !strings.Contains(args, "-backend chanpool") || !strings.Contains(args, "-work-slowdown-at 46s") {
		t.Errorf("serverArgs(gradient2) = %q; want chanpool and the slowdown", args)
	}
	if args := joinArgs(serverArgs(c, byKey[modeGenerator], 0)); !strings.HasSuffix(args, "-work-slots 80") || !strings.Contains(args, "-backend none") {
		t.Errorf("serverArgs(generator) = %q; want -backend none and its own -work-slots last, so it wins", args)
	}
}

func TestReport(t *testing.T) {
	c, _ := parseConfig([]string{"-quick", "-modes", "best-fixed,gradient2,haproxy"}, io.Discard)
	modes := buildModes(c, 8, []string{"-max-wait", "30ms"})
	var runs []trial
	for i, m := range modes {
		r := trial{Mode: m, Errors: map[string]int{}}
		// 2xx at the step's rate up to capacity, 503 beyond, p99 growing with i.
		for j, st := range m.Steps {
			start := m.Steps.Start(j)
			n := int(st.Rate(c.capacity()) * st.Duration.Seconds())
			for k := 0; k < n; k++ {
				at := start + time.Duration(k)*st.Duration/time.Duration(n)
				code := uint16(http.StatusOK)
				if float64(k) >= c.capacity()*st.Duration.Seconds() {
					code = http.StatusServiceUnavailable
				}
				r.Samples = append(r.Samples, sample{Sent: at, Latency: time.Duration(10+i) * ms, Code: code})
			}
		}
		for at := time.Duration(0); at < m.Steps.Total(); at += 250 * ms {
			r.Limits = append(r.Limits, limitPoint{At: at, Limit: 8})
		}
		runs = append(runs, r)
	}
	var b bytes.Buffer
	writeReport(&b, c, demorun.Environment{Date: time.Unix(0, 0)}, results{Runs: runs, Best: -1, Fixed: 8})
	out := b.String()
	for _, want := range []string{
		"## Step 3: 200% (800 req/s offered for 2s)",
		"| -limit gradient2 -max-wait 30ms | ",
		"gradient2 goodput vs the best fixed limit (-workers 8 -max-wait 30ms), every step",
		"vs HAProxy at 200%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	var svg bytes.Buffer
	if err := writeChart(&svg, c, runs, svgCanvas); err != nil {
		t.Fatalf("writeChart: %v", err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(svg.Bytes()), []byte("<?xml")) || !bytes.Contains(svg.Bytes(), []byte("gradient2")) {
		t.Errorf("chart is not an SVG naming the modes: %.200s", svg.String())
	}
	if math.IsNaN(runs[0].steps(c.capacity())[0].Goodput) {
		t.Errorf("goodput is NaN")
	}
}
