package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.uber.org/goleak"
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
	c, err = parseConfig([]string{"-quick", "-overload-backends", "ants,pond"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.OverloadBackends, ","); got != "ants,pond" {
		t.Errorf("-quick -overload-backends ants,pond: OverloadBackends = %s; want ants,pond", got)
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

func TestLogWriter(t *testing.T) {
	w := &logWriter{listening: make(chan string, 1)}
	// The listening line arrives in two writes, and a second one must not
	// block or replace the first.
	lines := `{"level":"INFO","msg":"fx event"}` + "\n" +
		`{"level":"INFO","msg":"listening","addr":"127.0.0.1:4` + `1234","backend":"ants"}` + "\n" +
		`{"msg":"listening","addr":"127.0.0.1:9"}` + "\n" + "not json\n" + `{"msg":"partial`
	for _, chunk := range []string{lines[:50], lines[50:]} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(chunk))
		}
	}
	select {
	case got := <-w.listening:
		if got != "127.0.0.1:41234" {
			t.Errorf("listening address = %q; want 127.0.0.1:41234", got)
		}
	default:
		t.Fatal("no listening address reported")
	}
	if tail := w.tail(); !strings.Contains(tail, "not json") || !strings.Contains(tail, `{"msg":"partial`) {
		t.Errorf("tail() = %q; want the last lines, the unterminated one included", tail)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:7878": true,
		"[::1]:80":       true,
		"0.0.0.0:7878":   false,
		"10.0.0.1:80":    false,
		"localhost:80":   false, // a name could resolve anywhere
		"no-port":        false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v; want ok=%v", addr, err, ok)
		}
	}
}

func TestLimitedPacer(t *testing.T) {
	p := limited{Pacer: vegeta.ConstantPacer{}, max: 3}
	for hits := uint64(0); hits < 5; hits++ {
		if _, stop := p.Pace(time.Second, hits); stop != (hits >= 3) {
			t.Errorf("Pace(1s, %d) stop = %v; want %v", hits, stop, hits >= 3)
		}
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
	sec := time.Second
	sums := []summary{
		{Backend: "chanpool", Scenario: scenarioFixed, Sent: 1000, OK: 1000, Span: sec, Elapsed: sec,
			OKLat: latency{P50: 95 * time.Microsecond, P99: 466 * time.Microsecond, Max: 1420 * time.Microsecond}},
		{Backend: "chanpool", Scenario: scenarioMax, Sent: 9000, OK: 9000, Span: sec, Elapsed: sec},
		{Backend: "none", Scenario: scenarioMax, Sent: 10000, OK: 10000, Span: sec, Elapsed: sec},
		{Backend: "ants", Scenario: scenarioOverload, Mode: "nonblocking", Sent: 240, OK: 128, Shed: 110, Failed: 2,
			Span: sec, Elapsed: 2 * sec, ShedLat: latency{P99: 872 * time.Microsecond},
			Errors: map[string]int{"timeout": 2}},
	}
	var b strings.Builder
	if err := writeReport(&b, c, environment{Command: "go run ./bench/cmd/load"}, sums, []string{"pond: exited 1\nlog"}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"## Fixed rate: GET / at 1000 req/s for 8s (httpdemo -workers 64)",
		"| chanpool | 1000 | 1000 | 1000 | 95µs | 466µs | 1.42ms | 0 |",
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

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"-overload-backends", "", "-out", "it's here.md", "-quick"})
	want := `go run ./bench/cmd/load -overload-backends '' -out 'it'\''s here.md' -quick`
	if got != want {
		t.Errorf("commandLine = %s; want %s", got, want)
	}
}
