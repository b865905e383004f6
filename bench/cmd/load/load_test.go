package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig(nil) = %v; want the defaults to be valid", err)
	}
	if got, want := strings.Join(c.Backends, ","), "chanpool,ants,pond,none"; got != want {
		t.Errorf("Backends = %s; want %s", got, want)
	}
	if got, want := strings.Join(c.OverloadBackends, ","), "chanpool,ants,pond"; got != want {
		t.Errorf("OverloadBackends = %s; want %s", got, want)
	}
	if c.Rounds != 3 {
		t.Errorf("Rounds = %d; want 3", c.Rounds)
	}
	if cap := c.capacity(); float64(c.OverloadRate) <= cap {
		t.Errorf("default -overload-rate %d is not above the capacity %.0f/s it is meant to overload", c.OverloadRate, cap)
	}
}

func TestParseConfigQuick(t *testing.T) {
	c, err := parseConfig([]string{"-quick", "-duration", "3s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Duration != 3*time.Second {
		t.Errorf("-quick -duration 3s: Duration = %s; want the explicit 3s to win", c.Duration)
	}
	if c.Warmup != 200*time.Millisecond || c.OverloadDuration != 1500*time.Millisecond {
		t.Errorf("-quick: Warmup, OverloadDuration = %s, %s; want 200ms, 1.5s", c.Warmup, c.OverloadDuration)
	}
	if got := strings.Join(c.OverloadBackends, ","); got != "chanpool" {
		t.Errorf("-quick: OverloadBackends = %s; want chanpool", got)
	}
	if c.Rounds != 1 {
		t.Errorf("-quick: Rounds = %d; want 1", c.Rounds)
	}
	c, err = parseConfig([]string{"-quick", "-overload-backends", "ants,pond"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.OverloadBackends, ","); got != "ants,pond" {
		t.Errorf("-quick -overload-backends ants,pond: OverloadBackends = %s; want ants,pond", got)
	}
}

func TestParseConfigRounds(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-rounds", "5"}, 5},
		{[]string{"-rounds=1"}, 1},
		{[]string{"-quick"}, 1},
		{[]string{"-quick", "-rounds", "4"}, 4},
		{[]string{"-rounds", "3", "-quick"}, 3}, // explicit wins in any order, even at the default value
	} {
		c, err := parseConfig(tc.args, io.Discard)
		if err != nil {
			t.Errorf("parseConfig(%q) = %v; want it valid", tc.args, err)
			continue
		}
		if c.Rounds != tc.want {
			t.Errorf("parseConfig(%q): Rounds = %d; want %d", tc.args, c.Rounds, tc.want)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // in the message
	}{
		{[]string{"-backends", "chanpool,fast"}, []string{"-backends", `unknown backend "fast"`, "chanpool, ants, pond, none"}},
		{[]string{"-backends", "ants,ants"}, []string{"-backends", "ants is named twice"}},
		{[]string{"-overload-backends", "none"}, []string{"-overload-backends", "none has no workers or queue"}},
		{[]string{"-backends", "", "-overload-backends", ""}, []string{"-backends", "at least one backend"}},
		{[]string{"-duration", "0s"}, []string{"-duration 0s", "(0, 1h]"}},
		{[]string{"-warmup", "-1s"}, []string{"-warmup -1s", "[0, 1h]"}},
		{[]string{"-rate", "0"}, []string{"-rate 0", "> 0"}},
		{[]string{"-rounds", "0"}, []string{"-rounds 0", "want >= 1"}},
		{[]string{"-quick", "-rounds", "-2"}, []string{"-rounds -2", "want >= 1"}},
		{[]string{"-rounds", "two"}, []string{"-rounds", "invalid value"}},
		{[]string{"-clients", "0"}, []string{"-clients 0", "[1, 10000]"}},
		{[]string{"-overload-queue", "-1"}, []string{"-overload-queue -1", ">= 0"}},
		{[]string{"-overload-sleep", "0s"}, []string{"-overload-sleep 0s", "> 0"}},
		{[]string{"-rate", "many"}, []string{"-rate", "invalid value"}},
		{[]string{"extra"}, []string{`unexpected argument "extra"`}},
	} {
		_, err := parseConfig(tc.args, io.Discard)
		if !errors.Is(err, errUsage) {
			t.Errorf("parseConfig(%q) = %v; want an error wrapping errUsage", tc.args, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parseConfig(%q) = %q; want it to contain %q", tc.args, err, w)
			}
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	var stderr bytes.Buffer
	if got := run([]string{"-h"}, io.Discard, &stderr); got != 0 {
		t.Errorf("run(-h) = %d; want 0", got)
	}
	if !strings.Contains(stderr.String(), "-overload-backends") {
		t.Errorf("run(-h) printed %q; want the flags", stderr.String())
	}
	if !strings.Contains(stderr.String(), "-rounds") {
		t.Errorf("run(-h) printed %q; want -rounds among the flags", stderr.String())
	}
	stderr.Reset()
	if got := run([]string{"-rounds", "0"}, io.Discard, &stderr); got != 2 {
		t.Errorf("run(-rounds 0) = %d; want 2", got)
	}
	if !strings.Contains(stderr.String(), "-rounds 0: want >= 1") {
		t.Errorf("run(-rounds 0) printed %q; want it to name the flag, value and what is allowed", stderr.String())
	}
	stderr.Reset()
	if got := run([]string{"-rate", "-5"}, io.Discard, &stderr); got != 2 {
		t.Errorf("run(-rate -5) = %d; want 2", got)
	}
	if !strings.Contains(stderr.String(), "-rate -5") {
		t.Errorf("run(-rate -5) printed %q; want it to name the flag and value", stderr.String())
	}
	if _, err := parseConfig([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseConfig(-h) = %v; want flag.ErrHelp", err)
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "–",
		87 * time.Microsecond:   "87µs",
		1420 * time.Microsecond: "1.42ms",
		124 * time.Millisecond:  "124ms",
		1666 * time.Millisecond: "1.67s",
	} {
		if got := fmtDur(d); got != want {
			t.Errorf("fmtDur(%s) = %q; want %q", d, got, want)
		}
	}
	if got := fmtErrors(0, 10); got != "0" {
		t.Errorf("fmtErrors(0, 10) = %q; want 0", got)
	}
	if got := fmtErrors(112, 240); got != "112 (46.7%)" {
		t.Errorf("fmtErrors(112, 240) = %q; want 112 (46.7%%)", got)
	}
}

func TestWriteReport(t *testing.T) {
	c := defaultConfig()
	c.Rounds = 1
	sec := time.Second
	sums := []summary{
		{Backend: "chanpool", Scenario: scenarioFixed, Result: demorun.Result{Sent: 1000, OK: 1000, Span: sec, Elapsed: sec,
			OKLat: demorun.Latency{P50: 95 * time.Microsecond, P99: 466 * time.Microsecond, Max: 1420 * time.Microsecond}}},
		{Backend: "chanpool", Scenario: scenarioMax, Result: demorun.Result{Sent: 9000, OK: 9000, Span: sec, Elapsed: sec}},
		{Backend: "none", Scenario: scenarioMax, Result: demorun.Result{Sent: 10000, OK: 10000, Span: sec, Elapsed: sec}},
		{Backend: "ants", Scenario: scenarioOverload, Mode: "nonblocking", Result: demorun.Result{Sent: 240, OK: 128, Shed: 110, Failed: 2,
			Span: sec, Elapsed: 2 * sec, ShedLat: demorun.Latency{P99: 872 * time.Microsecond},
			Errors: map[string]int{"timeout": 2}}},
	}
	var b strings.Builder
	if err := writeReport(&b, c, demorun.Environment{Command: "go run ./bench/cmd/load"}, sums, []string{"pond: exited 1\nlog"}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"## Fixed rate: GET / at 1000 req/s for 8s (httpdemo -workers 64)",
		"| chanpool | 1000 | 1000 | 1000 | 95µs | 466µs | 1.42ms | 0 |",
		"- one run per cell, on a shared machine",
		"| backend | requests | ok/s | vs none | p50 | p99 | max | errors |",
		"| chanpool | 9000 | 9000 | 0.90× | – | – | – | 0 |",
		"| none | 10000 | 10000 | 1.00× |",
		"capacity 80 req/s (httpdemo -sleep 50ms -workers 4 -queue 8)",
		"| ants | nonblocking | 240 | 128 | 64 | – | – | – | 110 (45.8%) | 872µs | 2 (0.8%) |",
		`- ants overload nonblocking: 2 failed; most often "timeout" (2)`,
		"- pond: exited 1\n  log",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q; got:\n%s", want, got)
		}
	}
}

func TestWriteReportRounds(t *testing.T) {
	c := defaultConfig()
	c.Rounds = 2
	c.Backends = []string{"chanpool", "none"}
	c.OverloadBackends = nil
	sec := time.Second
	ms := time.Millisecond
	sums := []summary{
		{Backend: "chanpool", Scenario: scenarioFixed, Round: 0, Result: demorun.Result{Sent: 1000, OK: 1000, Span: sec, Elapsed: sec,
			OKLat: demorun.Latency{P50: 100 * time.Microsecond, P99: 400 * time.Microsecond, Max: 2 * ms}}},
		{Backend: "chanpool", Scenario: scenarioMax, Round: 0, Result: demorun.Result{Sent: 9000, OK: 9000, Span: sec, Elapsed: sec,
			OKLat: demorun.Latency{P50: ms, P99: 4 * ms, Max: 9 * ms}}},
		{Backend: "none", Scenario: scenarioMax, Round: 0, Result: demorun.Result{Sent: 10000, OK: 10000, Span: sec, Elapsed: sec,
			OKLat: demorun.Latency{P50: ms, P99: 3 * ms, Max: 5 * ms}}},
		// Round 1: none's server did not start, so this round gives
		// chanpool no ratio.
		{Backend: "chanpool", Scenario: scenarioFixed, Round: 1, Result: demorun.Result{Sent: 1000, OK: 1000, Span: sec, Elapsed: sec,
			OKLat: demorun.Latency{P50: 200 * time.Microsecond, P99: 600 * time.Microsecond, Max: 3 * ms}}},
		{Backend: "chanpool", Scenario: scenarioMax, Round: 1, Result: demorun.Result{Sent: 8001, OK: 8000, Failed: 1, Span: sec, Elapsed: sec,
			OKLat: demorun.Latency{P50: 3 * ms, P99: 8 * ms, Max: 20 * ms}, Errors: map[string]int{"timeout": 1}}},
	}
	var b strings.Builder
	if err := writeReport(&b, c, demorun.Environment{}, sums, []string{"none round 2/2: exited 1"}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"- fixed-rate and maximum runs: 2 rounds, a fresh server per backend per round; the backend order rotates by one each round (chanpool none, then none chanpool, …)",
		"- overload runs: one run per cell",
		"## Fixed rate: GET / at 1000 req/s for 8s, 2 rounds (httpdemo -workers 64)",
		"median of the 2 rounds",
		"| chanpool | 2000 | 1000 | 1000 | 150µs | 500µs | 3.00ms | 0 |",
		"## Maximum: GET /, 64 clients back to back for 8s, 2 rounds (vegeta rate 0; httpdemo -workers 64)",
		"| backend | requests | ok/s | ok/s min–max | vs none | p50 | p99 | max | errors |",
		"| chanpool | 17001 | 8500 | 8000–9000 | 0.90× | 2.00ms | 6.00ms | 20ms | 1 (0.0%) |",
		"| none (1 of 2 rounds) | 10000 | 10000 | 10000–10000 | 1.00× | 1.00ms | 3.00ms | 5.00ms | 0 |",
		`- chanpool max round 2/2: 1 failed; most often "timeout" (1)`,
		"- none round 2/2: exited 1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "one run per cell,") {
		t.Errorf("report with 2 rounds says one run per cell; got:\n%s", got)
	}
}

func TestRotate(t *testing.T) {
	all := []string{"chanpool", "ants", "pond", "none"}
	for _, tc := range []struct {
		backends []string
		round    int
		want     string
	}{
		{all, 0, "chanpool ants pond none"},
		{all, 1, "ants pond none chanpool"},
		{all, 2, "pond none chanpool ants"},
		{all, 3, "none chanpool ants pond"},
		{all, 4, "chanpool ants pond none"},
		{all, 6, "pond none chanpool ants"},
		{[]string{"ants"}, 2, "ants"},
		{nil, 1, ""},
	} {
		if got := strings.Join(rotate(tc.backends, tc.round), " "); got != tc.want {
			t.Errorf("rotate(%q, %d) = %s; want %s", tc.backends, tc.round, got, tc.want)
		}
	}
	// Over len(all) rounds each backend takes each position once.
	for pos := range all {
		seen := map[string]bool{}
		for r := range all {
			seen[rotate(all, r)[pos]] = true
		}
		if len(seen) != len(all) {
			t.Errorf("position %d over %d rounds held %v; want every backend once", pos, len(all), seen)
		}
	}
	if got := strings.Join(all, " "); got != "chanpool ants pond none" {
		t.Errorf("rotate changed its argument to %s", got)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5}, // mean of the middle two
		{[]float64{5, 5, 1, 9, 5}, 5},
	} {
		in := append([]float64(nil), tc.xs...)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v; want %v", tc.xs, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.xs[i] {
				t.Errorf("median(%v) reordered its argument to %v", tc.xs, in)
				break
			}
		}
	}
	if got, want := median([]time.Duration{3 * time.Millisecond, time.Millisecond}), 2*time.Millisecond; got != want {
		t.Errorf("median(3ms, 1ms) = %s; want %s", got, want)
	}
}

// synthRun is a synthetic one-second run of backend in round with ok 2xx
// responses of the given p50, p99 and max (µs), and fails failures.
func synthRun(scenario, backend string, round int, ok, fails uint64, p50, p99, maxLat int) summary {
	us := time.Microsecond
	return summary{Backend: backend, Scenario: scenario, Round: round, Result: demorun.Result{Sent: ok + fails, OK: ok, Failed: fails,
		Span: time.Second, Elapsed: time.Second,
		OKLat: demorun.Latency{P50: time.Duration(p50) * us, P99: time.Duration(p99) * us, Max: time.Duration(maxLat) * us}}}
}

func TestSummarise(t *testing.T) {
	m := scenarioMax
	// none's ok/s by round: 10000, 5000, 8000. chanpool's: 9000, 4800,
	// 4000, so its ratios are 0.9, 0.96, 0.5 with median 0.9, while the
	// ratio of the medians would be 4800/8000 = 0.6. ants misses round 1
	// (ratios 0.7, 0.75: median 0.725). pond has a round with no 2xx,
	// which must not count towards its latency medians.
	sums := []summary{
		synthRun(m, "chanpool", 0, 9000, 1, 100, 1000, 5000),
		synthRun(m, "ants", 0, 7000, 0, 100, 1000, 3000),
		synthRun(m, "pond", 0, 6000, 0, 100, 1000, 3000),
		synthRun(m, "none", 0, 10000, 0, 50, 500, 2000),
		synthRun(scenarioFixed, "chanpool", 0, 1000, 0, 1, 1, 1), // another scenario: ignored
		synthRun(m, "pond", 1, 0, 10, 0, 0, 0),
		synthRun(m, "none", 1, 5000, 0, 70, 700, 9000),
		synthRun(m, "chanpool", 1, 4800, 0, 300, 3000, 7000),
		synthRun(m, "none", 2, 8000, 0, 60, 600, 1000),
		synthRun(m, "chanpool", 2, 4000, 2, 200, 2000, 6000),
		synthRun(m, "ants", 2, 6000, 0, 200, 2000, 4000),
		synthRun(m, "pond", 2, 4000, 0, 300, 3000, 3000),
		{Backend: "chanpool", Scenario: scenarioOverload, Mode: "blocking", Result: demorun.Result{Sent: 5, OK: 5, Elapsed: time.Second}},
	}
	us := time.Microsecond
	want := []overRounds{
		{Backend: "chanpool", Runs: 3, Sent: 17803, Errors: 3, SentRate: 4800, OKRate: 4800, MinOKRate: 4000, MaxOKRate: 9000,
			VsNone: 0.9, P50: 200 * us, P99: 2000 * us, Max: 7000 * us},
		{Backend: "ants", Runs: 2, Sent: 13000, SentRate: 6500, OKRate: 6500, MinOKRate: 6000, MaxOKRate: 7000,
			VsNone: 0.725, P50: 150 * us, P99: 1500 * us, Max: 4000 * us},
		{Backend: "pond", Runs: 3, Sent: 10010, Errors: 10, SentRate: 4000, OKRate: 4000, MinOKRate: 0, MaxOKRate: 6000,
			VsNone: 0.5, P50: 200 * us, P99: 2000 * us, Max: 3000 * us},
		{Backend: "none", Runs: 3, Sent: 23000, SentRate: 8000, OKRate: 8000, MinOKRate: 5000, MaxOKRate: 10000,
			VsNone: 1, P50: 60 * us, P99: 600 * us, Max: 9000 * us},
	}
	got := summarise(sums, m, []string{"chanpool", "ants", "pond", "none"})
	if len(got) != len(want) {
		t.Fatalf("summarise gave %d rows %+v; want %d", len(got), got, len(want))
	}
	const eps = 1e-9
	for i, w := range want {
		g := got[i]
		vs := g.VsNone
		g.VsNone, w.VsNone = 0, 0
		if g != w || math.Abs(vs-want[i].VsNone) > eps {
			t.Errorf("row %d:\n got %+v, VsNone %v\nwant %+v, VsNone %v", i, g, vs, w, want[i].VsNone)
		}
	}

	// Without none, no ratios; a backend without runs gets no row, and
	// rows follow the order given, not that of the runs.
	got = summarise(sums[:3], m, []string{"none", "pond", "chanpool", "ants"})
	if len(got) != 3 || got[0].Backend != "pond" || got[1].Backend != "chanpool" || got[2].Backend != "ants" {
		t.Fatalf("summarise without none = %+v; want rows pond, chanpool, ants in that order", got)
	}
	for _, o := range got {
		if o.VsNone != 0 {
			t.Errorf("%s: VsNone = %v without any run of none; want 0", o.Backend, o.VsNone)
		}
	}
}
