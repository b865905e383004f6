package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/swapexec/swapexec/bench/internal/cliflag"
	"github.com/swapexec/swapexec/bench/internal/demorun"
)

// command is how the usage hint and the report say to run stepload.
const command = "go run ./bench/cmd/stepload"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command short of exiting: it returns the exit status,
// 2 for a bad flag, 1 if anything went wrong (the report is still written,
// with what went wrong at its end).
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseConfig(args, stderr)
	if status, goOn := cliflag.Status(err, command, stderr); !goOn {
		return status
	}
	env := demorun.NewEnvironment(command, args)
	var res results
	if c.Replay != "" {
		if res, err = loadResults(c.Replay); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		// The report describes the run that measured, under its flags;
		// only where this one writes comes from the command line.
		res.Config.Out, res.Config.SVG, res.Config.Save = c.Out, c.SVG, c.Save
		c, env = res.Config, res.Env
	} else {
		if res, err = build(c, stderr); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		env.End()
		res.Config, res.Env = c, env
	}

	status := 0
	if c.Save != "" {
		if err := saveResults(c.Save, res); err != nil {
			fmt.Fprintln(stderr, err)
			status = 1
		}
	}
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

// build builds httpdemo (unless c names one) and measures with it.
func build(c config, progress io.Writer) (results, error) {
	bin, remove, err := demorun.Binary(c.Httpdemo, "stepload", progress)
	if err != nil {
		return results{}, err
	}
	defer remove()
	return measure(c, bin, progress), nil
}

// saveResults writes res to path as JSON, errors as their text.
func saveResults(path string, res results) error {
	for _, rs := range [][]trial{res.Sweep, res.Runs} {
		for i := range rs {
			if rs[i].Err != nil {
				rs[i].ErrText = rs[i].Err.Error()
			}
		}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("stepload: save: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("stepload: save: %w", err)
	}
	return nil
}

// loadResults reads what saveResults wrote.
func loadResults(path string) (results, error) {
	var res results
	b, err := os.ReadFile(path)
	if err != nil {
		return res, fmt.Errorf("stepload: replay: %w", err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("stepload: replay %s: %w", path, err)
	}
	for _, rs := range [][]trial{res.Sweep, res.Runs} {
		for i := range rs {
			if rs[i].ErrText != "" {
				rs[i].Err = errors.New(rs[i].ErrText)
			}
		}
	}
	return res, nil
}

// results is everything measure found.
type results struct {
	Config config              // what was asked; set by run, for -save
	Env    demorun.Environment // where and when; set by run, for -save

	Sweep     []trial     // the sweep's runs, in order
	SweepAt   []stepStats // each sweep run's 200% step
	Best      int         // index into Sweep of the best fixed limit; -1 without a sweep
	Fixed     int         // the fixed limit used for best-fixed and HAProxy; 0 if none
	FixedArgs []string    // its admission flags
	Runs      []trial     // the modes' runs, in c.Modes order
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
			m := res.Sweep[res.Best].Mode
			res.Fixed, res.FixedArgs = m.ConstLimit, m.Admission
			fmt.Fprintf(progress, "stepload: best fixed limit: %s\n", m.Label)
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
