package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/swapexec/swapexec/bench/internal/cliflag"
)

// errUsage marks a bad flag value; main exits 2 for it.
var errUsage = cliflag.ErrUsage

// knownBackends are httpdemo's -backend names, in the order the runs go.
var knownBackends = []string{"chanpool", "ants", "pond", "none"}

// config is everything one invocation measures.
type config struct {
	Backends  []string      // servers for the fixed-rate and maximum runs, in round 0's order
	Rounds    int           // passes over Backends; each rotates the order by one
	Duration  time.Duration // each measured fixed-rate and maximum run
	Warmup    time.Duration // unmeasured maximum-rate run before them, per server
	Rate      int           // fixed-rate run: requests per second
	Clients   int           // maximum run: concurrent clients (vegeta workers, rate 0)
	Workers   int           // httpdemo -workers for the fixed-rate and maximum runs
	MaxReqs   uint64        // cap on requests sent by any one run
	Timeout   time.Duration // per request
	ServerCap time.Duration // httpdemo -shutdown-timeout; also bounds the wait for its exit

	OverloadBackends []string      // servers for the overload runs (none has no queue: not allowed)
	OverloadDuration time.Duration // each overload run
	OverloadRate     int           // requests per second to /sleep
	OverloadWorkers  int           // httpdemo -workers
	OverloadQueue    int           // httpdemo -queue
	OverloadSleep    time.Duration // httpdemo -sleep

	Quick    bool   // CI-sized defaults
	Out      string // also write the Markdown here
	Httpdemo string // prebuilt httpdemo binary; empty: go build it
}

// defaultConfig is what a bare `go run ./bench/cmd/load` measures: about
// five minutes on a 2-core machine.
func defaultConfig() config {
	return config{
		Backends:         append([]string(nil), knownBackends...),
		Rounds:           3,
		Duration:         8 * time.Second,
		Warmup:           time.Second,
		Rate:             1000,
		Clients:          64,
		Workers:          64,
		MaxReqs:          2_000_000,
		Timeout:          30 * time.Second,
		ServerCap:        30 * time.Second,
		OverloadBackends: []string{"chanpool", "ants", "pond"},
		OverloadDuration: 5 * time.Second,
		OverloadRate:     160,
		OverloadWorkers:  4,
		OverloadQueue:    8,
		OverloadSleep:    50 * time.Millisecond,
	}
}

// quickConfig shrinks c for CI (about 20 s with the build), leaving alone
// every flag named in set.
func quickConfig(c config, set map[string]bool) config {
	cliflag.Fill(set, map[string]func(){
		"duration":          func() { c.Duration = time.Second },
		"rounds":            func() { c.Rounds = 1 },
		"warmup":            func() { c.Warmup = 200 * time.Millisecond },
		"overload-duration": func() { c.OverloadDuration = 1500 * time.Millisecond },
		"overload-backends": func() { c.OverloadBackends = []string{"chanpool"} },
	})
	return c
}

// capacity is the most /sleep requests per second the overload server can
// complete.
func (c config) capacity() float64 {
	return float64(c.OverloadWorkers) / c.OverloadSleep.Seconds()
}

// parseConfig reads args into a config and validates it. It returns
// flag.ErrHelp for -h, and an error wrapping errUsage for a bad value.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	c := defaultConfig()
	fs := cliflag.NewFlagSet("load", `load drives loopback HTTP load at httpdemo, per backend and round, with
vegeta's library, and prints a Markdown table of requests per second, latency and errors.

Usage: go run ./bench/cmd/load [flags]

Scenarios, per backend: a fixed-rate run of GET /, a maximum run of GET / (vegeta's
rate 0: -clients concurrent clients, each sending its next request when the last
returns), both repeated for -rounds rounds, a fresh server each time and the
backend order rotated by one each round; the tables give medians over the rounds.
Then, per -overload-backends, GET /sleep above capacity, blocking and -nonblocking,
one run each. Defaults take about 5 minutes; -quick about 20 s.

Flags:
`, stderr)
	backends := strings.Join(c.Backends, ",")
	overBackends := strings.Join(c.OverloadBackends, ",")
	fs.StringVar(&backends, "backends", backends, "comma-separated `names` for the fixed-rate and maximum runs: "+strings.Join(knownBackends, ", "))
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "repeat the fixed-rate and maximum runs this many times, rotating the backend order each round; the tables give medians")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "length of each fixed-rate and maximum run")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "unmeasured maximum-rate run on each new server before the measured ones (0: none)")
	fs.IntVar(&c.Rate, "rate", c.Rate, "fixed-rate run: requests per second")
	fs.IntVar(&c.Clients, "clients", c.Clients, "maximum run: concurrent clients")
	fs.IntVar(&c.Workers, "workers", c.Workers, "httpdemo -workers for the fixed-rate and maximum runs")
	fs.Uint64Var(&c.MaxReqs, "max-requests", c.MaxReqs, "stop any one run after it has sent this many requests")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "give up on a request after this long (counted as an error)")
	fs.DurationVar(&c.ServerCap, "shutdown-timeout", c.ServerCap, "httpdemo -shutdown-timeout; a server that has not exited this long after SIGTERM (plus 5s) is killed")
	fs.StringVar(&overBackends, "overload-backends", overBackends, "comma-separated `names` for the overload runs (not none: it has no queue); empty: no overload runs")
	fs.DurationVar(&c.OverloadDuration, "overload-duration", c.OverloadDuration, "length of each overload run")
	fs.IntVar(&c.OverloadRate, "overload-rate", c.OverloadRate, "overload runs: requests per second to /sleep; should exceed -overload-workers / -overload-sleep")
	fs.IntVar(&c.OverloadWorkers, "overload-workers", c.OverloadWorkers, "httpdemo -workers for the overload runs")
	fs.IntVar(&c.OverloadQueue, "overload-queue", c.OverloadQueue, "httpdemo -queue for the overload runs")
	fs.DurationVar(&c.OverloadSleep, "overload-sleep", c.OverloadSleep, "httpdemo -sleep for the overload runs")
	fs.BoolVar(&c.Quick, "quick", false, "CI-sized run: -rounds 1 -duration 1s -warmup 200ms -overload-duration 1.5s -overload-backends chanpool (flags given explicitly win)")
	fs.StringVar(&c.Out, "out", "", "also write the Markdown to this `file`")
	fs.StringVar(&c.Httpdemo, "httpdemo", "", "use this prebuilt httpdemo `binary` instead of building one")
	if err := cliflag.Parse(fs, args); err != nil {
		return c, err
	}
	var err error
	if c.Backends, err = parseBackends("backends", backends, true); err != nil {
		return c, err
	}
	if c.OverloadBackends, err = parseBackends("overload-backends", overBackends, false); err != nil {
		return c, err
	}
	if c.Quick {
		c = quickConfig(c, cliflag.Given(fs))
	}
	return c, c.validate()
}

// parseBackends splits a comma-separated list of known, distinct backend
// names; "none" is allowed only if allowNone.
func parseBackends(flagName, list string, allowNone bool) ([]string, error) {
	names, err := cliflag.Names(flagName, "backend", list, knownBackends)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if name == "none" && !allowNone {
			return nil, fmt.Errorf("%w: -%s %q: none has no workers or queue to overload; want some of chanpool, ants, pond", errUsage, flagName, list)
		}
	}
	return names, nil
}

// validate reports the first value that cannot make a bounded, meaningful
// run, naming the flag, the value and what is allowed.
func (c config) validate() error {
	return cliflag.First([]cliflag.Check{
		cliflag.Want(len(c.Backends)+len(c.OverloadBackends) > 0, "backends", "", "at least one backend here or in -overload-backends"),
		cliflag.Want(c.Rounds >= 1, "rounds", c.Rounds, ">= 1"),
		cliflag.Want(c.Duration > 0 && c.Duration <= time.Hour, "duration", c.Duration, "in (0, 1h]"),
		cliflag.Want(c.Warmup >= 0 && c.Warmup <= time.Hour, "warmup", c.Warmup, "in [0, 1h]"),
		cliflag.Want(c.Rate > 0, "rate", c.Rate, "> 0"),
		cliflag.Want(c.Clients > 0 && c.Clients <= 10000, "clients", c.Clients, "in [1, 10000]"),
		cliflag.Want(c.Workers > 0, "workers", c.Workers, "> 0"),
		cliflag.Want(c.MaxReqs > 0, "max-requests", c.MaxReqs, "> 0"),
		cliflag.Want(c.Timeout > 0, "timeout", c.Timeout, "> 0"),
		cliflag.Want(c.ServerCap > 0, "shutdown-timeout", c.ServerCap, "> 0"),
		cliflag.Want(c.OverloadDuration > 0 && c.OverloadDuration <= time.Hour, "overload-duration", c.OverloadDuration, "in (0, 1h]"),
		cliflag.Want(c.OverloadRate > 0, "overload-rate", c.OverloadRate, "> 0"),
		cliflag.Want(c.OverloadWorkers > 0, "overload-workers", c.OverloadWorkers, "> 0"),
		cliflag.Want(c.OverloadQueue >= 0, "overload-queue", c.OverloadQueue, ">= 0"),
		cliflag.Want(c.OverloadSleep > 0, "overload-sleep", c.OverloadSleep, "> 0"),
	})
}
