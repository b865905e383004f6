package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/bench/internal/cliflag"
	"github.com/swapexec/swapexec/executor"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks a bad flag value; run returns 2 for it.
var errUsage = cliflag.ErrUsage

// config is one invocation's settings.
type config struct {
	Backends    []string
	Duration    time.Duration // of the load, per backend
	Warmup      time.Duration // 0: Duration/5
	Every       time.Duration // between samples
	Scrape      time.Duration // between Stats checks
	ResizeEvery time.Duration // between Resize calls; 0: none
	Workers     int
	Queue       int
	Submitters  int
	Nonblocking bool
	Verbose     bool
	Out         string
}

func defaultConfig() config {
	return config{Backends: backends.Names(), Duration: 2 * time.Minute, Every: time.Second, Scrape: time.Millisecond,
		ResizeEvery: 2 * time.Second, Workers: 8, Queue: 64, Submitters: 8}
}

// parseConfig reads args. It returns flag.ErrHelp for -h and an error
// wrapping errUsage, naming the flag, for a bad value.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	c := defaultConfig()
	fs := cliflag.NewFlagSet("soak", `soak runs each backend under a mixed load for -duration, samples the heap,
the goroutines and Stats, and exits 1 if anything grew or any count is wrong.

Usage: go run ./bench/cmd/soak [flags]

Flags:
`, stderr)
	backend := "all"
	fs.StringVar(&backend, "backend", backend, "backend `name`, a comma-separated list, or all: "+strings.Join(backends.Names(), ", "))
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long the load runs on each backend")
	fs.DurationVar(&c.Warmup, "warmup", 0, "samples before this are left out of the growth rule (0: a fifth of -duration)")
	fs.DurationVar(&c.Every, "every", c.Every, "time between samples of heap, goroutines and Stats")
	fs.DurationVar(&c.Scrape, "scrape", c.Scrape, "time between Stats consistency checks while the load runs")
	fs.DurationVar(&c.ResizeEvery, "resize-every", c.ResizeEvery, "halve or restore the workers this often (0: never)")
	fs.IntVar(&c.Workers, "workers", c.Workers, "executor workers")
	fs.IntVar(&c.Queue, "queue", c.Queue, "executor queue size")
	fs.IntVar(&c.Submitters, "submitters", c.Submitters, "goroutines submitting tasks")
	fs.BoolVar(&c.Nonblocking, "nonblocking", c.Nonblocking, "a Nonblocking executor: Submit refuses instead of waiting")
	fs.BoolVar(&c.Verbose, "v", false, "print every sample")
	fs.StringVar(&c.Out, "out", "", "also write the Markdown report to this `file`")
	if err := cliflag.Parse(fs, args); err != nil {
		return c, err
	}
	var err error
	if c.Backends, err = parseBackends(backend); err != nil {
		return c, err
	}
	return c, c.validate()
}

// parseBackends reads -backend: all, or known distinct names.
func parseBackends(list string) ([]string, error) {
	if strings.TrimSpace(list) == "all" {
		return backends.Names(), nil
	}
	names, err := cliflag.Names("backend", "backend", list, backends.Names())
	if err == nil && len(names) == 0 {
		err = fmt.Errorf("%w: -backend %q: want all or some of %s", errUsage, list, strings.Join(backends.Names(), ", "))
	}
	return names, err
}

// validate reports the first value that cannot make a bounded, meaningful
// soak.
func (c config) validate() error {
	rule := defaultRuleFor(c)
	return cliflag.First([]cliflag.Check{
		cliflag.Want(c.Duration > 0 && c.Duration <= 24*time.Hour, "duration", c.Duration, "in (0, 24h]"),
		cliflag.Want(c.Warmup >= 0 && c.Warmup < c.Duration, "warmup", c.Warmup, "in [0, -duration)"),
		cliflag.Want(c.Every > 0, "every", c.Every, "> 0"),
		cliflag.Want(c.Every <= 0 || int((c.Duration-rule.Warmup)/c.Every) >= 2*minWindow, "every", c.Every,
			fmt.Sprintf("at most (-duration - warm-up) / %d, for two windows of %d samples after the warm-up", 2*minWindow, minWindow)),
		cliflag.Want(c.Scrape > 0, "scrape", c.Scrape, "> 0"),
		cliflag.Want(c.ResizeEvery >= 0, "resize-every", c.ResizeEvery, ">= 0"),
		cliflag.Want(c.Workers >= 1 && c.Workers <= 4096, "workers", c.Workers, "in [1, 4096]"),
		cliflag.Want(c.Queue >= 0 && c.Queue <= 1<<20, "queue", c.Queue, "in [0, 1048576]"),
		cliflag.Want(c.Submitters >= 1 && c.Submitters <= 1024, "submitters", c.Submitters, "in [1, 1024]"),
	})
}

// run is the whole command short of exiting: 0 if every backend passed, 1
// if any failed, 2 for a bad flag.
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseConfig(args, stderr)
	if status, goOn := cliflag.Status(err, "go run ./bench/cmd/soak", stderr); !goOn {
		return status
	}
	start := time.Now()
	var results []result
	for _, b := range c.Backends {
		fmt.Fprintf(stderr, "soak: %s for %s\n", b, c.Duration)
		build := func(cfg executor.Config) (executor.Executor, error) { return backends.New(b, cfg) }
		results = append(results, soak(c, b, build, stderr))
	}
	report := markdown(c, args, start, results)
	fmt.Fprint(stdout, report)
	status := 0
	for _, r := range results {
		if len(r.Problems) > 0 {
			status = 1
			fmt.Fprintf(stderr, "soak: %s FAILED:\n  %s\n", r.Backend, strings.Join(r.Problems, "\n  "))
		}
	}
	if c.Out != "" {
		if err := os.WriteFile(c.Out, []byte(report), 0o644); err != nil {
			fmt.Fprintf(stderr, "soak: %v\n", err)
			status = 1
		}
	}
	return status
}

// markdown is the report: the setup, the rule, one row per backend and
// what went wrong.
func markdown(c config, args []string, start time.Time, results []result) string {
	var b strings.Builder
	rule := defaultRuleFor(c)
	fmt.Fprintf(&b, "# Soak: swapexec backends under a mixed load\n\n")
	fmt.Fprintf(&b, "- date: %s; `go run ./bench/cmd/soak %s`\n", start.UTC().Format("2006-01-02 15:04 MST"), strings.Join(args, " "))
	fmt.Fprintf(&b, "- %s, %s/%s, GOMAXPROCS %d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "- executor: -workers %d -queue %d, nonblocking %v, resized to %d and back every %s; %d submitters for %s each\n",
		c.Workers, c.Queue, c.Nonblocking, max(1, c.Workers/2), c.ResizeEvery, c.Submitters, c.Duration)
	fmt.Fprintf(&b, "- mix: 85%% Submit (CPU tasks; 15%% of all calls allocate 1–64 KiB), 8%% SubmitContext with a 1 ms deadline of a task sleeping ≤2 ms, "+
		"5%% TrySubmit, 1%% panics, 1%% tasks that TrySubmit a child (inline when refused); an executor without SubmitContext or TrySubmit gets Submit instead, one without Resize is not resized\n")
	fmt.Fprintf(&b, "- growth rule: after a %s warm-up, heap live (at the last GC) at the end (min of the last window) ≤ max of the first window × %.2f + %s, "+
		"and goroutines ≤ max of the first window + %d; a window is a fifth of the samples after the warm-up, at least %d\n\n",
		rule.Warmup, rule.HeapFactor, mib(rule.HeapSlack), rule.GoroutineSlack, minWindow)
	fmt.Fprintf(&b, "| backend | abilities used | tasks run | tasks/s | panics | refused | inline | Stats checks | max running / queued | heap live: first → last window (bound) | goroutines: first → last (bound) | goroutines before / after | Shutdown | result |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		verdict := "ok"
		if len(r.Problems) > 0 {
			verdict = fmt.Sprintf("**FAILED** (%d)", len(r.Problems))
		}
		g := r.Growth
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %d | %d | %d | %d | %d / %d | %s → %s (%s) | %d → %d (%d) | %d / %d | %s | %s |\n",
			r.Backend, r.Abilities, r.Final.Completed, float64(r.Final.Completed)/r.Took.Seconds(), r.Final.Panicked, r.Final.Rejected, r.Inline,
			r.Scrapes, r.MaxRunning, r.MaxQueued, mib(g.HeapBase), mib(g.HeapEnd), mib(g.HeapBound),
			g.GoroutineBase, g.GorEnd, g.GoroutineBound, r.GoroutinesBefore, r.GoroutinesAfter, r.ShutdownTook.Round(time.Microsecond), verdict)
	}
	for _, r := range results {
		if len(r.Problems) > 0 {
			fmt.Fprintf(&b, "\n%s:\n", r.Backend)
			for _, p := range r.Problems {
				fmt.Fprintf(&b, "- %s\n", p)
			}
		}
	}
	return b.String()
}
