package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
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
	want := config{Addr: "127.0.0.1:7878", Backend: "chanpool", Workers: 4, ShutdownTimeout: 30 * time.Second, Sleep: 5 * time.Second, LogFormat: "text"}
	if cfg != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestParseConfigFlagsAndEnvironment(t *testing.T) {
	all := config{Addr: "127.0.0.1:0", Backend: "none", Workers: 64, Queue: 8, Nonblocking: true,
		ShutdownTimeout: time.Second, DrainDelay: 100 * time.Millisecond, Sleep: 300 * time.Millisecond, MaxRequests: 2, LogFormat: "json"}
	args := []string{"-addr", "127.0.0.1:0", "-backend", "none", "-workers", "64", "-queue", "8", "-nonblocking",
		"-shutdown-timeout", "1s", "-drain-delay", "100ms", "-sleep", "300ms", "-max-requests", "2", "-log-format", "json"}
	vars := map[string]string{"SWAPEXEC_ADDR": "127.0.0.1:0", "SWAPEXEC_BACKEND": "none", "SWAPEXEC_WORKERS": "64",
		"SWAPEXEC_QUEUE": "8", "SWAPEXEC_NONBLOCKING": "true", "SWAPEXEC_SHUTDOWN_TIMEOUT": "1s", "SWAPEXEC_DRAIN_DELAY": "100ms", "SWAPEXEC_SLEEP": "300ms",
		"SWAPEXEC_MAX_REQUESTS": "2", "SWAPEXEC_LOG_FORMAT": "json"}

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
	for _, name := range []string{"addr", "backend", "workers", "queue", "nonblocking", "shutdown-timeout", "drain-delay", "sleep", "max-requests", "log-format"} {
		if !strings.Contains(out.String(), "-"+name) || !strings.Contains(out.String(), "$"+envName(name)) {
			t.Errorf("-h does not document -%s and $%s:\n%s", name, envName(name), out.String())
		}
	}
	if !strings.Contains(out.String(), `(default "127.0.0.1:7878")`) {
		t.Errorf("-h does not show the default address:\n%s", out.String())
	}
}
