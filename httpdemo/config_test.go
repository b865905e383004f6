package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swapexec/swapexec/backends"
)

// env returns a lookupEnv over the given variables only.
func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{Addr: "127.0.0.1:7878", Backend: "chanpool", Workers: 4, ShutdownTimeout: 30 * time.Second, Sleep: 5 * time.Second, LogFormat: "text",
		WorkSlots: 8, WorkTime: 10 * time.Millisecond, WorkSlowdownTime: 20 * time.Millisecond, Limit: "fixed", LimitMin: 1, LimitMax: 200, WriteSlack: 30 * time.Second}
	if cfg != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestParseConfigFlagsAndEnvironment(t *testing.T) {
	all := config{Addr: "127.0.0.1:0", Backend: "pond", Workers: 64, Queue: 8, Nonblocking: true,
		ShutdownTimeout: time.Second, DrainDelay: 100 * time.Millisecond, Sleep: 300 * time.Millisecond, MaxRequests: 2, LogFormat: "json",
		MaxWait: 30 * time.Millisecond, CodelTarget: 5 * time.Millisecond, LIFO: true, WorkSlots: 3, WorkTime: 5 * time.Millisecond, WorkSlowdownAt: 40 * time.Second, WorkSlowdownTime: 7 * time.Millisecond,
		Limit: "gradient2", LimitMin: 2, LimitMax: 100, LimitInitial: 64, WriteSlack: 30 * time.Second}
	args := []string{"-addr", "127.0.0.1:0", "-backend", "pond", "-workers", "64", "-queue", "8", "-nonblocking",
		"-shutdown-timeout", "1s", "-drain-delay", "100ms", "-sleep", "300ms", "-max-requests", "2", "-log-format", "json",
		"-max-wait", "30ms", "-work-slots", "3", "-work-time", "5ms", "-work-slowdown-at", "40s", "-work-slowdown-time", "7ms",
		"-limit", "gradient2", "-limit-min", "2", "-limit-max", "100"}
	vars := map[string]string{"SWAPEXEC_ADDR": "127.0.0.1:0", "SWAPEXEC_BACKEND": "pond", "SWAPEXEC_WORKERS": "64",
		"SWAPEXEC_QUEUE": "8", "SWAPEXEC_NONBLOCKING": "true", "SWAPEXEC_SHUTDOWN_TIMEOUT": "1s", "SWAPEXEC_DRAIN_DELAY": "100ms", "SWAPEXEC_SLEEP": "300ms",
		"SWAPEXEC_MAX_REQUESTS": "2", "SWAPEXEC_LOG_FORMAT": "json",
		"SWAPEXEC_MAX_WAIT": "30ms", "SWAPEXEC_WORK_SLOTS": "3", "SWAPEXEC_WORK_TIME": "5ms", "SWAPEXEC_WORK_SLOWDOWN_AT": "40s", "SWAPEXEC_WORK_SLOWDOWN_TIME": "7ms",
		"SWAPEXEC_LIMIT": "gradient2", "SWAPEXEC_LIMIT_MIN": "2", "SWAPEXEC_LIMIT_MAX": "100"}

	t.Run("flags", func(t *testing.T) {
		cfg, err := parseConfig(args, env(nil), io.Discard)
		if err != nil || cfg != all {
			t.Errorf("got %+v, %v\nwant %+v", cfg, err, all)
		}
	})
	t.Run("environment", func(t *testing.T) {
		cfg, err := parseConfig(nil, env(vars), io.Discard)
		if err != nil || cfg != all {
			t.Errorf("got %+v, %v\nwant %+v", cfg, err, all)
		}
	})
	t.Run("flag wins", func(t *testing.T) {
		cfg, err := parseConfig([]string{"-workers", "3", "-nonblocking=false"}, env(vars), io.Discard)
		if err != nil || cfg.Workers != 3 || cfg.Nonblocking || cfg.Queue != 8 {
			t.Errorf("got %+v, %v; want Workers 3, Nonblocking false from flags, Queue 8 from the environment", cfg, err)
		}
	})
}

func TestParseConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // each must appear in the error
	}{
		{"negative workers", []string{"-workers", "-1"}, nil, []string{"-workers", `"-1"`, "0 (one per CPU) or more"}},
		{"workers not a number", []string{"-workers=four"}, nil, []string{"-workers", `"four"`, "or more"}},
		{"negative queue", []string{"-queue", "-3"}, nil, []string{"-queue", `"-3"`, "0 (no queue) or more"}},
		{"aimd timeout without aimd", []string{"-limit", "gradient2", "-aimd-timeout", "50ms"}, nil, []string{"-aimd-timeout", "-limit aimd", "not -limit gradient2"}},
		{"negative aimd timeout", []string{"-limit", "aimd", "-aimd-timeout", "-1s"}, nil, []string{"-aimd-timeout", "0 or more"}},
		{"queue too large", []string{"-queue", "9223372036854775807"}, nil, []string{"-queue 9223372036854775807", "at most 4194304"}},
		{"queue past memory", []string{"-queue", "100000000000"}, nil, []string{"-queue 100000000000", "at most 4194304"}},
		{"workers plus queue too large", []string{"-workers", "4194304", "-queue", "1"}, nil, []string{"-workers 4194304", "-queue 1", "at most 4194304"}},
		{"unknown backend", []string{"-backend", "nope"}, nil, append([]string{"-backend", `"nope"`}, backendNames()...)},
		{"zero shutdown timeout", []string{"-shutdown-timeout", "0s"}, nil, []string{"-shutdown-timeout", `"0s"`, "positive duration"}},
		{"negative drain delay", []string{"-drain-delay", "-1s"}, nil, []string{"-drain-delay", `"-1s"`, "0 or more"}},
		{"drain delay not shorter than shutdown timeout", []string{"-drain-delay", "30s"}, nil, []string{"-drain-delay 30s", "shorter than -shutdown-timeout 30s"}},
		{"sleep not a duration", []string{"-sleep", "5"}, nil, []string{"-sleep", `"5"`, "duration"}},
		{"negative max requests", []string{"-max-requests", "-2"}, nil, []string{"-max-requests", `"-2"`, "0 (no limit) or more"}},
		{"log format", []string{"-log-format", "xml"}, nil, []string{"-log-format", `"xml"`, "text, json"}},
		{"unknown flag", []string{"-port", "80"}, nil, []string{"-port"}},
		{"argument", []string{"serve"}, nil, []string{`"serve"`}},
		{"env backend", nil, map[string]string{"SWAPEXEC_BACKEND": "nope"}, append([]string{"SWAPEXEC_BACKEND", "-backend", `"nope"`}, backendNames()...)},
		{"env nonblocking", nil, map[string]string{"SWAPEXEC_NONBLOCKING": "maybe"}, []string{"SWAPEXEC_NONBLOCKING", `"maybe"`, "true or false"}},
		{"env sleep", nil, map[string]string{"SWAPEXEC_SLEEP": "forever"}, []string{"SWAPEXEC_SLEEP", "-sleep", `"forever"`, "duration"}},
		{"env workers beside good flag", []string{"-workers", "2"}, map[string]string{"SWAPEXEC_WORKERS": "x"}, []string{"SWAPEXEC_WORKERS", `"x"`}},
		// Issue 13, defect 7: an empty address would bind every interface on a random port.
		{"empty addr", []string{"-addr", ""}, nil, []string{"-addr", `""`, "host:port"}},
		{"env empty addr", nil, map[string]string{"SWAPEXEC_ADDR": ""}, []string{"SWAPEXEC_ADDR", "-addr", `""`, "host:port"}},
		{"addr without port", []string{"-addr", "127.0.0.1"}, nil, []string{"-addr", `"127.0.0.1"`, "host:port"}},
		{"addr with empty port", []string{"-addr", "127.0.0.1:"}, nil, []string{"-addr", `"127.0.0.1:"`, "host:port"}},
		{"negative max wait", []string{"-max-wait", "-1ms"}, nil, []string{"-max-wait", `"-1ms"`, "0 or more"}},
		{"max wait without executor", []string{"-backend", "none", "-max-wait", "30ms"}, nil, []string{"-max-wait", "-backend", "none"}},
		{"lifo without executor", []string{"-backend", "none", "-lifo"}, nil, []string{"-lifo", "-backend", "none"}},
		{"codel target without executor", []string{"-backend", "none", "-codel-target", "5ms"}, nil, []string{"-codel-target", "-backend", "none"}},
		{"negative codel target", []string{"-max-wait", "30ms", "-codel-target", "-5ms"}, nil, []string{"-codel-target", `"-5ms"`, "0 or more"}},
		{"codel target at the interval", []string{"-max-wait", "30ms", "-codel-target", "100ms"}, nil, []string{"-codel-target", "100ms", "below", "interval"}},
		{"zero work slots", []string{"-work-slots", "0"}, nil, []string{"-work-slots", `"0"`, "1 or more"}},
		{"negative work time", []string{"-work-time", "-1s"}, nil, []string{"-work-time", `"-1s"`, "0 or more"}},
		{"work slowdown at not a duration", []string{"-work-slowdown-at", "soon"}, nil, []string{"-work-slowdown-at", `"soon"`, "duration"}},
		{"negative work slowdown time", []string{"-work-slowdown-time", "-5ms"}, nil, []string{"-work-slowdown-time", `"-5ms"`, "0 or more"}},
		{"unknown limit", []string{"-limit", "vegas"}, nil, []string{"-limit", `"vegas"`, "fixed, aimd, gradient2"}},
		{"env unknown limit", nil, map[string]string{"SWAPEXEC_LIMIT": "AIMD"}, []string{"SWAPEXEC_LIMIT", "-limit", `"AIMD"`, "fixed, aimd, gradient2"}},
		{"zero limit min", []string{"-limit", "aimd", "-limit-min", "0"}, nil, []string{"-limit-min", `"0"`, "1 or more"}},
		{"zero limit max", []string{"-limit", "aimd", "-limit-max", "0"}, nil, []string{"-limit-max", `"0"`, "1 or more"}},
		{"limit min above max", []string{"-limit", "aimd", "-limit-min", "50", "-limit-max", "10"}, nil, []string{"-limit-min 50", "-limit-max 10"}},
		{"limit max too big", []string{"-limit", "gradient2", "-limit-max", "999999999"}, nil, []string{"-limit-max 999999999", "4194304"}},
		{"limit min with fixed", []string{"-limit-min", "2"}, nil, []string{"-limit-min", "aimd", "gradient2", "-limit fixed"}},
		{"env limit max with fixed", nil, map[string]string{"SWAPEXEC_LIMIT_MAX": "9"}, []string{"-limit-max", "aimd", "gradient2", "-limit fixed"}},
		{"workers outside adaptive bounds", []string{"-limit", "aimd", "-workers", "300"}, nil, []string{"-workers 300", "-limit-min 1", "-limit-max 200"}},
		{"adaptive limit without executor", []string{"-backend", "none", "-limit", "gradient2"}, nil, []string{"-limit gradient2", "-backend", "none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, env(tt.env), io.Discard)
			if err == nil {
				t.Fatal("accepted; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestBackendNamesListsRegistryThenNone(t *testing.T) {
	got := backendNames()
	reg := backends.Names()
	if len(got) != len(reg)+1 || got[0] != "chanpool" || got[len(got)-1] != "none" {
		t.Errorf("backendNames() = %v; want %v then none, chanpool first", got, reg)
	}
	for _, name := range []string{"chanpool", "ants", "pond", "none"} {
		if !slices.Contains(got, name) {
			t.Errorf("backendNames() = %v; want it to offer %s", got, name)
		}
	}
}

func TestParseConfigHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"-h"}, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"addr", "backend", "workers", "queue", "nonblocking", "shutdown-timeout", "drain-delay", "sleep", "max-requests", "log-format",
		"max-wait", "work-slots", "work-time", "work-slowdown-at", "work-slowdown-time", "limit", "limit-min", "limit-max", "aimd-timeout", "codel-target", "lifo"} {
		if !strings.Contains(out.String(), "-"+name) || !strings.Contains(out.String(), "$"+envName(name)) {
			t.Errorf("-h does not document -%s and $%s:\n%s", name, envName(name), out.String())
		}
	}
	if !strings.Contains(out.String(), `(default 127.0.0.1:7878)`) {
		t.Errorf("-h does not show the default address:\n%s", out.String())
	}
	// Issue 11: an adaptive limit alone still queues without bound.
	if !strings.Contains(out.String(), "pair it with -max-wait (e.g. 30ms) or -nonblocking") {
		t.Errorf("-h does not say to pair an adaptive -limit with -max-wait or -nonblocking:\n%s", out.String())
	}
}

func TestParseConfigAdaptive(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantInitial int
	}{
		{"no workers: one per CPU", []string{"-limit", "aimd"}, runtime.GOMAXPROCS(0)},
		{"workers: where the limit starts", []string{"-limit", "aimd", "-workers", "16"}, 16},
		{"workers 0: one per CPU", []string{"-limit", "gradient2", "-workers", "0"}, runtime.GOMAXPROCS(0)},
		{"one per CPU, raised to -limit-min", []string{"-limit", "gradient2", "-limit-min", "200"}, 200},
		{"one per CPU, lowered to -limit-max", []string{"-limit", "gradient2", "-limit-max", "1"}, 1},
		{"fixed keeps workers as the bound", []string{"-workers", "16"}, 0},
	}
	for _, tt := range tests {
		cfg, err := parseConfig(tt.args, env(nil), io.Discard)
		if err != nil || cfg.LimitInitial != tt.wantInitial {
			t.Errorf("%s: LimitInitial %d, %v; want %d", tt.name, cfg.LimitInitial, err, tt.wantInitial)
		}
	}
}

func TestWaitBudgets(t *testing.T) {
	for _, tt := range []struct {
		maxWait, want time.Duration
	}{
		{0, 0},
		{30 * time.Millisecond, 30 * time.Millisecond},
		{time.Hour, 29 * time.Second},
	} {
		cfg := defaultConfig()
		cfg.MaxWait = tt.maxWait
		if got := cfg.maxWait(); got != tt.want {
			t.Errorf("-max-wait %v: executorhttp's MaxWait %v, want %v", tt.maxWait, got, tt.want)
		}
	}
	for _, sleep := range []time.Duration{0, 5 * time.Second, time.Hour} {
		cfg := defaultConfig()
		cfg.Sleep = sleep
		// A request that waits the whole start budget and then does the
		// longest work must still be able to reply before WriteTimeout.
		if slack := cfg.writeTimeout() - cfg.startBudget() - cfg.longestWork(); slack < time.Second {
			t.Errorf("-sleep %v: %v left for the reply after the start budget and the work, want at least 1s", sleep, slack)
		}
	}
}

// TestParseConfigCodelTarget: -max-wait comes with CoDel at folly's 5ms
// target unless -codel-target says otherwise; without -max-wait there is
// none unless asked for.
func TestParseConfigCodelTarget(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want time.Duration
	}{
		{nil, nil, 0},
		{[]string{"-limit", "gradient2"}, nil, 0},
		{[]string{"-max-wait", "30ms"}, nil, 5 * time.Millisecond},
		{[]string{"-max-wait", "30ms", "-codel-target", "0"}, nil, 0},
		{[]string{"-max-wait", "30ms", "-codel-target", "2ms"}, nil, 2 * time.Millisecond},
		{[]string{"-codel-target", "5ms"}, nil, 5 * time.Millisecond},
		{nil, map[string]string{"SWAPEXEC_MAX_WAIT": "30ms", "SWAPEXEC_CODEL_TARGET": "0"}, 0},
		{nil, map[string]string{"SWAPEXEC_MAX_WAIT": "30ms"}, 5 * time.Millisecond},
	} {
		cfg, err := parseConfig(tc.args, env(tc.vars), io.Discard)
		if err != nil || cfg.CodelTarget != tc.want {
			t.Errorf("parseConfig(%q, env %v): CodelTarget %v, error %v; want %v and nil", tc.args, tc.vars, cfg.CodelTarget, err, tc.want)
		}
	}
}

// TestParseConfigLIFO: -max-wait comes with adaptive LIFO unless -lifo
// says otherwise; without -max-wait there is none unless asked for.
func TestParseConfigLIFO(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want bool
	}{
		{nil, nil, false},
		{[]string{"-limit", "gradient2"}, nil, false},
		{[]string{"-max-wait", "30ms"}, nil, true},
		{[]string{"-max-wait", "30ms", "-lifo=false"}, nil, false},
		{[]string{"-lifo"}, nil, true},
		{nil, map[string]string{"SWAPEXEC_MAX_WAIT": "30ms", "SWAPEXEC_LIFO": "false"}, false},
		{nil, map[string]string{"SWAPEXEC_MAX_WAIT": "30ms"}, true},
	} {
		cfg, err := parseConfig(tc.args, env(tc.vars), io.Discard)
		if err != nil || cfg.LIFO != tc.want {
			t.Errorf("parseConfig(%q, env %v): LIFO %v, error %v; want %v and nil", tc.args, tc.vars, cfg.LIFO, err, tc.want)
		}
	}
}

func TestParseConfigAIMDTimeout(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
	}{
		{[]string{"-limit", "aimd", "-aimd-timeout", "50ms"}, nil},
		{nil, map[string]string{"SWAPEXEC_LIMIT": "aimd", "SWAPEXEC_AIMD_TIMEOUT": "50ms"}},
	} {
		cfg, err := parseConfig(tc.args, env(tc.vars), io.Discard)
		if err != nil || cfg.AIMDTimeout != 50*time.Millisecond {
			t.Errorf("parseConfig(%q, env %v): AIMDTimeout %v, error %v; want 50ms and nil", tc.args, tc.vars, cfg.AIMDTimeout, err)
		}
	}
}
