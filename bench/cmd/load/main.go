package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/swapexec/swapexec/bench/internal/cliflag"
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
	if status, goOn := cliflag.Status(err, command, stderr); !goOn {
		return status
	}
	env := demorun.NewEnvironment(command, args)

	bin, remove, err := demorun.Binary(c.Httpdemo, "load", stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer remove()

	sums, problems := measure(c, bin, stderr)
	env.End()

	status := 0
	if len(problems) > 0 {
		status = 1
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
	}
	if err := writeReport(stdout, c, env, sums, problems); err != nil {
		fmt.Fprintf(stderr, "load: write the report: %v\n", err)
		status = 1
	}
	if c.Out != "" {
		if err := writeFile(c.Out, c, env, sums, problems); err != nil {
			fmt.Fprintln(stderr, err)
			status = 1
		}
	}
	return status
}

// measure runs every scenario c asks for against httpdemo binary bin, one
// server process at a time, and returns the summaries and the problems met
// (a server that failed to start or exited non-zero). The fixed-rate and
// maximum runs come first, c.Rounds times over c.Backends in the order
// rotate gives for each round; then the overload runs, once each. Progress
// goes to progress.
func measure(c config, bin string, progress io.Writer) ([]summary, []string) {
	var sums []summary
	var problems []string
	for r := 0; r < c.Rounds; r++ {
		for _, backend := range rotate(c.Backends, r) {
			s, err := measureBackend(c, bin, backend, r, progress)
			sums = append(sums, s...)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s round %d/%d: %v", backend, r+1, c.Rounds, err))
			}
		}
	}

	for _, backend := range c.OverloadBackends {
		for _, mode := range []string{"blocking", "nonblocking"} {
			args := []string{"-backend", backend, "-workers", strconv.Itoa(c.OverloadWorkers),
				"-queue", strconv.Itoa(c.OverloadQueue), "-sleep", c.OverloadSleep.String()}
			if mode == "nonblocking" {
				args = append(args, "-nonblocking")
			}
			srv, err := demorun.Start(bin, "127.0.0.1:0", c.ServerCap, args...)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", backend, mode, err))
				continue
			}
			client := demorun.NewClient(c.Timeout)
			// Workers and connections grow as vegeta needs to keep the
			// rate while requests wait; the cap only bounds a broken run.
			sums = append(sums, attack(client, demorun.Plan{Label: fmt.Sprintf("overload %s", mode), URL: "http://" + srv.Addr + "/sleep",
				Rate: c.OverloadRate, Workers: 10, MaxWorkers: 10000, Duration: c.OverloadDuration, MaxReqs: c.MaxReqs, Timeout: c.Timeout},
				summary{Backend: backend, Scenario: scenarioOverload, Mode: mode}, progress))
			client.CloseIdleConnections()
			if err := srv.Stop(); err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", backend, mode, err))
			}
		}
	}
	return sums, problems
}

// rotate returns backends rotated left by round: round 0 is backends as
// given, round 1 starts with the second, and so on, so that over
// len(backends) rounds each backend runs once in each position.
func rotate(backends []string, round int) []string {
	if len(backends) == 0 {
		return nil
	}
	k := round % len(backends)
	return append(append([]string(nil), backends[k:]...), backends[:k]...)
}

// measureBackend starts a fresh server for backend, warms it up, makes
// round's fixed-rate and maximum runs against it and stops it. It returns
// the runs' summaries, none if the server did not start, and the start or
// stop error.
func measureBackend(c config, bin, backend string, round int, progress io.Writer) ([]summary, error) {
	srv, err := demorun.Start(bin, "127.0.0.1:0", c.ServerCap, "-backend", backend, "-workers", strconv.Itoa(c.Workers))
	if err != nil {
		return nil, err
	}
	tag := fmt.Sprintf("round %d/%d", round+1, c.Rounds)
	fmt.Fprintf(progress, "load: %s: %s listening on %s\n", tag, backend, srv.Addr)
	client := demorun.NewClient(c.Timeout)
	url := "http://" + srv.Addr + "/"
	if c.Warmup > 0 {
		attack(client, demorun.Plan{Label: tag + " warmup", URL: url, Rate: 0, Workers: uint64(c.Clients), MaxWorkers: uint64(c.Clients),
			Duration: c.Warmup, MaxReqs: c.MaxReqs, Timeout: c.Timeout}, summary{Backend: backend}, progress)
	}
	sums := []summary{
		attack(client, demorun.Plan{Label: fmt.Sprintf("%s fixed %d/s", tag, c.Rate), URL: url, Rate: c.Rate, Workers: 10, MaxWorkers: 10000,
			Duration: c.Duration, MaxReqs: c.MaxReqs, Timeout: c.Timeout}, summary{Backend: backend, Scenario: scenarioFixed, Round: round}, progress),
		attack(client, demorun.Plan{Label: fmt.Sprintf("%s max %d clients", tag, c.Clients), URL: url, Rate: 0, Workers: uint64(c.Clients), MaxWorkers: uint64(c.Clients),
			Duration: c.Duration, MaxReqs: c.MaxReqs, Timeout: c.Timeout}, summary{Backend: backend, Scenario: scenarioMax, Round: round}, progress),
	}
	client.CloseIdleConnections()
	return sums, srv.Stop()
}

// command is how the usage hint and the report say to run load.
const command = "go run ./bench/cmd/load"

// writeFile writes the report to path.
func writeFile(path string, c config, env demorun.Environment, sums []summary, problems []string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := writeReport(f, c, env, sums, problems); err != nil {
		f.Close()
		return fmt.Errorf("load: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("load: write %s: %w", path, err)
	}
	return nil
}
