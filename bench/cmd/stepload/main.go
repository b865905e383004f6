package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command short of exiting: it returns the exit status,
// 2 for a bad flag, 1 if anything went wrong (the report is still written,
// with what went wrong at its end).
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "stepload: %v\nRun 'go run ./bench/cmd/stepload -h' to see every flag.\n", err)
		return 2
	}
	env := environment{
		Date:      time.Now(),
		Command:   commandLine(args),
		GoVersion: runtime.Version(),
		OSArch:    runtime.GOOS + "/" + runtime.GOARCH,
		CPU:       cpuModel(),
		NumCPU:    runtime.NumCPU(),
		LoadStart: loadAverage(),
	}
	bin := c.Httpdemo
	if bin == "" {
		dir, err := os.MkdirTemp("", "stepload-")
		if err != nil {
			fmt.Fprintf(stderr, "stepload: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(stderr, "stepload: building httpdemo")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		bin, err = demorun.Build(ctx, dir)
		cancel()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}

	res := measure(c, bin, stderr)
	env.Took = time.Since(env.Date)
	env.LoadEnd = loadAverage()

	status := 0
	for _, p := range res.problems() {
		fmt.Fprintln(stderr, p)
		status = 1
	}
	var md strings.Builder
	writeReport(&md, c, env, res)
	if _, err := io.WriteString(stdout, md.String()); err != nil {
		status = 1
	}
	if c.Out != "" {
		if err := os.WriteFile(c.Out, []byte(md.String()), 0o644); err != nil {
			fmt.Fprintf(stderr, "stepload: %v\n", err)
			status = 1
		}
	}
	if c.SVG != "" {
		if err := writeChartFile(c.SVG, c, res); err != nil {
			fmt.Fprintln(stderr, err)
			status = 1
		}
	}
	return status
}

// results is everything measure found.
type results struct {
	Sweep     []trial       // the sweep's runs, in order
	SweepAt   []stepStats // each sweep run's 200% step
	Best      int         // index into Sweep of the best fixed limit; -1 without a sweep
	Fixed     int         // the fixed limit used for best-fixed and HAProxy; 0 if none
	FixedArgs []string    // its admission flags
	Runs      []trial       // the modes' runs, in c.Modes order
	Skipped   []string    // modes not run, and why
}

// problems lists the runs that failed.
func (r results) problems() []string {
	var out []string
	for _, rr := range append(slices.Clone(r.Sweep), r.Runs...) {
		if rr.Err != nil {
			out = append(out, fmt.Sprintf("%s: %v", rr.Mode.Label, rr.Err))
		}
	}
	return out
}

// measure runs the sweep (unless c.Fixed or no mode needs it), then every
// mode, each on a fresh server, one at a time.
func measure(c config, bin string, progress io.Writer) results {
	res := results{Best: -1, Fixed: c.Fixed, FixedArgs: []string{"-max-wait", c.MaxWait.String()}}
	if c.needsFixed() && c.Fixed == 0 {
		for _, m := range sweepModes(c) {
			r := runMode(c, bin, m, progress)
			res.Sweep = append(res.Sweep, r)
			st := r.steps(c.capacity())
			res.SweepAt = append(res.SweepAt, st[m.Steps.stepIndex("200%")])
		}
		if res.Best = sweepChoice(res.SweepAt); res.Best >= 0 {
			args := res.Sweep[res.Best].Mode.Args
			fmt.Sscan(args[1], &res.Fixed) // args are "-workers", N, admission...
			res.FixedArgs = args[2:]
			fmt.Fprintf(progress, "stepload: best fixed limit: %s\n", joinArgs(args))
		}
	}
	for _, m := range buildModes(c, res.Fixed, res.FixedArgs) {
		if (m.Key == modeBestFixed || m.Key == modeHAProxy) && res.Fixed == 0 {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: no fixed limit (the sweep measured nothing)", m.Key))
			continue
		}
		if m.HAProxy > 0 {
			if _, err := exec.LookPath(c.HAProxy); err != nil {
				msg := fmt.Sprintf("%s: skipped, %s not found: %s", m.Key, c.HAProxy, installHint)
				fmt.Fprintln(progress, "stepload: "+msg)
				res.Skipped = append(res.Skipped, msg)
				continue
			}
		}
		res.Runs = append(res.Runs, runMode(c, bin, m, progress))
	}
	return res
}
