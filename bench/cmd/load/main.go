package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
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
		fmt.Fprintf(stderr, "load: %v\nRun 'go run ./bench/cmd/load -h' to see every flag.\n", err)
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
		dir, remove, err := tempDir()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer remove()
		fmt.Fprintln(stderr, "load: building httpdemo")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		bin, err = buildHTTPDemo(ctx, dir)
		cancel()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}

	sums, problems := measure(c, bin, stderr)
	env.Took = time.Since(env.Date)
	env.LoadEnd = loadAverage()

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
// (a server that failed to start or exited non-zero). Progress goes to
// progress.
func measure(c config, bin string, progress io.Writer) ([]summary, []string) {
	var sums []summary
	var problems []string
	for _, backend := range c.Backends {
		srv, err := startServer(bin, c.ServerCap, "-backend", backend, "-workers", strconv.Itoa(c.Workers))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", backend, err))
			continue
		}
		fmt.Fprintf(progress, "load: %s listening on %s\n", backend, srv.Addr)
		client := newClient(c.Timeout)
		url := "http://" + srv.Addr + "/"
		if c.Warmup > 0 {
			attack(client, plan{Label: "warmup", URL: url, Rate: 0, Workers: uint64(c.Clients), MaxWorkers: uint64(c.Clients),
				Duration: c.Warmup, MaxReqs: c.MaxReqs, Timeout: c.Timeout}, summary{Backend: backend}, progress)
		}
		sums = append(sums, attack(client, plan{Label: fmt.Sprintf("fixed %d/s", c.Rate), URL: url, Rate: c.Rate, Workers: 10, MaxWorkers: 10000,
			Duration: c.Duration, MaxReqs: c.MaxReqs, Timeout: c.Timeout}, summary{Backend: backend, Scenario: scenarioFixed}, progress))
		sums = append(sums, attack(client, plan{Label: fmt.Sprintf("max %d clients", c.Clients), URL: url, Rate: 0, Workers: uint64(c.Clients), MaxWorkers: uint64(c.Clients),
			Duration: c.Duration, MaxReqs: c.MaxReqs, Timeout: c.Timeout}, summary{Backend: backend, Scenario: scenarioMax}, progress))
		client.CloseIdleConnections()
		if err := srv.Stop(); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", backend, err))
		}
	}

	for _, backend := range c.OverloadBackends {
		for _, mode := range []string{"blocking", "nonblocking"} {
			args := []string{"-backend", backend, "-workers", strconv.Itoa(c.OverloadWorkers),
				"-queue", strconv.Itoa(c.OverloadQueue), "-sleep", c.OverloadSleep.String()}
			if mode == "nonblocking" {
				args = append(args, "-nonblocking")
			}
			srv, err := startServer(bin, c.ServerCap, args...)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", backend, mode, err))
				continue
			}
			client := newClient(c.Timeout)
			// Workers and connections grow as vegeta needs to keep the
			// rate while requests wait; the cap only bounds a broken run.
			sums = append(sums, attack(client, plan{Label: fmt.Sprintf("overload %s", mode), URL: "http://" + srv.Addr + "/sleep",
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

// commandLine returns the command that ran, args quoted where a shell
// needs it.
func commandLine(args []string) string {
	line := "go run ./bench/cmd/load"
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		line += " " + a
	}
	return line
}

// writeFile writes the report to path.
func writeFile(path string, c config, env environment, sums []summary, problems []string) error {
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

// cpuModel returns the CPU's model name from /proc/cpuinfo, or GOARCH.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return "?"
	}
	return strings.Join(fields[:3], " ")
}
