package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swapexec/swapexec/bench/internal/cliflag"
)

// errUsage marks a bad flag value; main exits 2 for it.
var errUsage = cliflag.ErrUsage

// config is everything one invocation measures.
type config struct {
	Step    time.Duration // each loaded step
	Ref     time.Duration // the unloaded reference step
	SweepOn time.Duration // the 200% step of each sweep run

	WorkSlots int           // httpdemo -work-slots
	WorkTime  time.Duration // httpdemo -work-time
	MaxWait   time.Duration // httpdemo -max-wait of the bounded modes; HAProxy's timeout queue
	Workers   int           // -workers of the generous fixed modes

	Sweep          []int    // fixed limits tried at 200%
	SweepAdmission []string // "max-wait", "nonblocking": how the sweep's fixed limits refuse
	Fixed          int      // > 0: skip the sweep and use this fixed limit
	Modes          []string // mode keys to run, in order

	Timeout    time.Duration // per request
	Deadline   time.Duration // per request, in the aimd-deadline mode: the callers' deadline
	MaxWorkers uint64        // vegeta's cap on requests in flight
	Scrape     time.Duration // /metrics polling interval
	Bucket     time.Duration // the chart's time resolution
	Lead       time.Duration // from "listening" to the first request

	Quick    bool
	Out      string // Markdown file; empty: stdout only
	SVG      string // chart file; empty: none
	Httpdemo string // prebuilt binary; empty: build one
	HAProxy  string // haproxy binary name or path
	Save     string // write the raw results here, as JSON
	Replay   string // read the raw results from here instead of measuring
}

// Mode keys, in the order the comparison runs them.
const (
	modeBlocking   = "blocking"
	modeWaitBudget = "wait-budget"
	modeBestFixed  = "best-fixed"
	modeAIMD       = "aimd"
	modeAIMDTuned  = "aimd-timeout"
	modeAIMDLoss   = "aimd-deadline"
	modeGradient2  = "gradient2"
	modeG2Fixed    = "gradient2-fixed-budget"
	modeG2Shed     = "gradient2-nonblocking"
	modeHAProxy    = "haproxy"
	modeG2Alone    = "gradient2-alone"
	modeGenerator  = "generator"
)

func allModes() []string {
	return []string{modeGenerator, modeBlocking, modeWaitBudget, modeBestFixed, modeAIMD, modeAIMDTuned, modeAIMDLoss, modeGradient2, modeG2Fixed, modeG2Shed, modeHAProxy, modeG2Alone}
}

// Sweep admission kinds.
const (
	admitMaxWait     = "max-wait"
	admitNonblocking = "nonblocking"
)

func defaultConfig() config {
	return config{
		Step:           10 * time.Second,
		Ref:            6 * time.Second,
		SweepOn:        6 * time.Second,
		WorkSlots:      4,
		WorkTime:       10 * time.Millisecond,
		MaxWait:        30 * time.Millisecond,
		Workers:        256,
		Sweep:          []int{2, 4, 6, 8, 12, 16, 32},
		SweepAdmission: []string{admitMaxWait, admitNonblocking},
		Modes:          allModes(),
		Timeout:        30 * time.Second,
		Deadline:       100 * time.Millisecond,
		MaxWorkers:     8000,
		Scrape:         250 * time.Millisecond,
		Bucket:         time.Second,
		Lead:           time.Second,
		HAProxy:        "haproxy",
	}
}

// quickConfig shrinks c for CI, leaving alone every flag named in set.
func quickConfig(c config, set map[string]bool) config {
	cliflag.Fill(set, map[string]func(){
		"step":            func() { c.Step = 2 * time.Second },
		"ref":             func() { c.Ref = time.Second },
		"sweep-step":      func() { c.SweepOn = 2 * time.Second },
		"sweep":           func() { c.Sweep = []int{8, 16} },
		"sweep-admission": func() { c.SweepAdmission = []string{admitMaxWait} },
		"bucket":          func() { c.Bucket = 500 * time.Millisecond },
		"lead":            func() { c.Lead = 300 * time.Millisecond },
	})
	return c
}

// capacity is the downstream's base capacity in requests per second.
func (c config) capacity() float64 { return float64(c.WorkSlots) / c.WorkTime.Seconds() }

// parseConfig reads args into a validated config. It returns flag.ErrHelp
// for -h, and an error wrapping errUsage for a bad value.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	c := defaultConfig()
	fs := cliflag.NewFlagSet("stepload", `stepload drives open-loop step load at httpdemo's /work (a simulated downstream of
-work-slots slots, -work-time each) and compares how each way of bounding concurrency
holds up: goodput, 2xx latency, 503 share and the limit over time, per step and mode.

Usage: go run ./bench/cmd/stepload [flags]

Steps: unloaded (10% of capacity, the latency reference), 50%, 90%, 200%, 100%, then
100% again with the downstream twice as slow. First a sweep of fixed limits at 200%
picks the best hand-tuned one (most goodput; within 2% of it, lowest p99). Each mode
runs on a fresh server. Defaults take about 13 minutes; -quick about 1 minute.

Flags:
`, stderr)
	sweep := joinInts(c.Sweep)
	admission := strings.Join(c.SweepAdmission, ",")
	modes := strings.Join(c.Modes, ",")
	fs.DurationVar(&c.Step, "step", c.Step, "length of each loaded step")
	fs.DurationVar(&c.Ref, "ref", c.Ref, "length of the unloaded reference step that starts every run")
	fs.DurationVar(&c.SweepOn, "sweep-step", c.SweepOn, "length of the 200% step of each sweep run")
	fs.IntVar(&c.WorkSlots, "work-slots", c.WorkSlots, "httpdemo -work-slots: the downstream serves `n` at once")
	fs.DurationVar(&c.WorkTime, "work-time", c.WorkTime, "httpdemo -work-time; capacity is work-slots / work-time")
	fs.DurationVar(&c.MaxWait, "max-wait", c.MaxWait, "httpdemo -max-wait of the bounded modes, and HAProxy's timeout queue")
	fs.IntVar(&c.Workers, "workers", c.Workers, "httpdemo -workers of the generous fixed modes (blocking, wait-budget)")
	fs.StringVar(&sweep, "sweep", sweep, "comma-separated fixed `limits` tried at 200% to find the best one")
	fs.StringVar(&admission, "sweep-admission", admission, "how the swept limits refuse: comma-separated "+admitMaxWait+" (-max-wait), "+admitNonblocking+" (-nonblocking)")
	fs.IntVar(&c.Fixed, "fixed", 0, "skip the sweep and use this fixed `limit` (with -max-wait) for best-fixed and HAProxy's maxconn")
	fs.StringVar(&modes, "modes", modes, "comma-separated `modes` to run: "+strings.Join(allModes(), ", "))
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "give up on a request after this long (counted as an error)")
	fs.DurationVar(&c.Deadline, "deadline", c.Deadline, "in the "+modeAIMDLoss+" mode, give up on a request after this long instead (the callers' deadline, counted as an error)")
	fs.Uint64Var(&c.MaxWorkers, "max-in-flight", c.MaxWorkers, "most requests in flight from the load generator (each holds a connection)")
	fs.DurationVar(&c.Scrape, "scrape", c.Scrape, "how often /metrics is read for the limit")
	fs.DurationVar(&c.Bucket, "bucket", c.Bucket, "the chart's time resolution")
	fs.DurationVar(&c.Lead, "lead", c.Lead, "pause between the server's \"listening\" and the first request")
	fs.BoolVar(&c.Quick, "quick", false, "CI-sized run: -step 2s -ref 1s -sweep-step 2s -sweep 8,16 -sweep-admission max-wait -bucket 500ms -lead 300ms (flags given win)")
	fs.StringVar(&c.Out, "out", "", "also write the Markdown to this `file`")
	fs.StringVar(&c.SVG, "svg", "", "write the chart (goodput, p99, limit over time, per mode) to this `file`")
	fs.StringVar(&c.Httpdemo, "httpdemo", "", "use this prebuilt httpdemo `binary` instead of building one")
	fs.StringVar(&c.Save, "save", "", "also write every request's outcome and every limit reading to this JSON `file`, for -replay")
	fs.StringVar(&c.Replay, "replay", "", "measure nothing: rebuild the report and chart from a -save `file` (with the flags that made it)")
	fs.StringVar(&c.HAProxy, "haproxy", c.HAProxy, "HAProxy `binary`; the haproxy mode is skipped, with a note, when it is not found")
	if err := cliflag.Parse(fs, args); err != nil {
		return c, err
	}
	set := cliflag.Given(fs)
	if c.Quick {
		c = quickConfig(c, set)
	}
	var err error
	if set["sweep"] || !c.Quick {
		if c.Sweep, err = parseInts("sweep", sweep); err != nil {
			return c, err
		}
	}
	if set["sweep-admission"] || !c.Quick {
		if c.SweepAdmission, err = cliflag.Names("sweep-admission", "", admission, []string{admitMaxWait, admitNonblocking}); err != nil {
			return c, err
		}
	}
	if c.Modes, err = cliflag.Names("modes", "", modes, allModes()); err != nil {
		return c, err
	}
	return c, c.validate()
}

// needsFixed reports whether some mode needs the best fixed limit.
func (c config) needsFixed() bool {
	return slices.Contains(c.Modes, modeBestFixed) || slices.Contains(c.Modes, modeHAProxy)
}

// validate reports the first value that cannot make a bounded, meaningful
// run, naming the flag, the value and what is allowed.
func (c config) validate() error {
	return cliflag.First([]cliflag.Check{
		cliflag.Want(c.Step > 0 && c.Step <= 10*time.Minute, "step", c.Step, "in (0, 10m]"),
		cliflag.Want(c.Ref > 0 && c.Ref <= 10*time.Minute, "ref", c.Ref, "in (0, 10m]"),
		cliflag.Want(c.SweepOn > 0 && c.SweepOn <= 10*time.Minute, "sweep-step", c.SweepOn, "in (0, 10m]"),
		cliflag.Want(c.WorkSlots >= 1, "work-slots", c.WorkSlots, ">= 1"),
		cliflag.Want(c.WorkTime >= time.Millisecond, "work-time", c.WorkTime, ">= 1ms"),
		cliflag.Want(c.MaxWait > 0, "max-wait", c.MaxWait, "> 0"),
		cliflag.Want(c.Workers >= 1, "workers", c.Workers, ">= 1"),
		cliflag.Want(c.Fixed >= 0, "fixed", c.Fixed, "0 (sweep) or more"),
		cliflag.Want(c.Fixed > 0 || !c.needsFixed() || len(c.Sweep) > 0, "sweep", "", "some limits, or -fixed, for the best-fixed and haproxy modes"),
		cliflag.Want(c.Fixed > 0 || !c.needsFixed() || len(c.SweepAdmission) > 0, "sweep-admission", "", "one or both of "+admitMaxWait+", "+admitNonblocking),
		cliflag.Want(len(c.Modes) > 0, "modes", "", "at least one of "+strings.Join(allModes(), ", ")),
		cliflag.Want(c.Timeout > 0, "timeout", c.Timeout, "> 0"),
		cliflag.Want(c.Deadline > 0 && c.Deadline <= c.Timeout, "deadline", c.Deadline, "in (0, -timeout]"),
		cliflag.Want(c.MaxWorkers >= 1 && c.MaxWorkers <= 15000, "max-in-flight", c.MaxWorkers, "in [1, 15000] (one file descriptor each)"),
		cliflag.Want(c.Scrape >= 10*time.Millisecond, "scrape", c.Scrape, ">= 10ms"),
		cliflag.Want(c.Bucket >= 100*time.Millisecond, "bucket", c.Bucket, ">= 100ms"),
		cliflag.Want(c.Lead >= 0 && c.Lead <= time.Minute, "lead", c.Lead, "in [0, 1m]"),
	})
}

// parseInts splits a comma-separated list of distinct positive integers.
func parseInts(flagName, list string) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: -%s %q: %q is not a positive integer", errUsage, flagName, list, strings.TrimSpace(f))
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("%w: -%s %q: %d is named twice", errUsage, flagName, list, n)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
