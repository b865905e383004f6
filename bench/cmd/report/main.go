// Command report runs swapexec's benchmarks (or reads saved go test -bench
// output), summarises them with benchstat's statistics and writes a Markdown
// report, the raw output and an SVG chart to bench/results.
//
// Usage, from anywhere in the repository:
//
//	go run ./bench/cmd/report                        # go test -bench . -count 6 ./bench
//	go run ./bench/cmd/report -count 10 -bench Tiny  # a subset, more runs
//	go run ./bench/cmd/report -scale 1               # the published shapes at full size
//	go run ./bench/cmd/report -in out.txt            # report on saved output
//
// It writes bench/results/<date>-<cpu>.md, .txt (the raw output, with the Go
// version, command, date and load average added as configuration lines) and
// .svg, and copies the chart to bench/results/latest.svg for the README.
// A confidence interval needs at least 6 runs (-count 6).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/swapexec/swapexec/bench"
)

func main() {
	var (
		count     = flag.Int("count", 6, "runs of each benchmark (go test -count); 6 or more gives a 95% confidence interval")
		benchtime = flag.String("benchtime", "", "go test -benchtime, e.g. 2s or 100x; empty for go test's default")
		filter    = flag.String("bench", ".", "go test -bench: a regexp of the benchmarks to run")
		scale     = flag.Int("scale", 0, "divide the published shapes by this (sets "+bench.ScaleEnv+"); 0 keeps the environment's or the default")
		in        = flag.String("in", "", "read saved go test -bench output from this file instead of running the benchmarks")
		out       = flag.String("out", "", "directory for the results; empty for bench/results in the repository")
		date      = flag.String("date", "", "date for the file names, YYYY-MM-DD; empty for the run's date")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench/cmd/report [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*count, *benchtime, *filter, *scale, *in, *out, *date); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(count int, benchtime, filter string, scale int, in, out, date string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "bench", "results")
	}

	var raw []byte
	if in != "" {
		if raw, err = os.ReadFile(in); err != nil {
			return err
		}
	} else {
		if count < 1 {
			return fmt.Errorf("-count is %d; want 1 or more", count)
		}
		if scale < 0 {
			return fmt.Errorf("-scale is %d; want 1 or more, or 0 for the default", scale)
		}
		if raw, err = runBenchmarks(root, count, benchtime, filter, scale); err != nil {
			return err
		}
	}

	s, err := summarize(bytes.NewReader(raw), filepath.Base(in))
	if err != nil {
		return err
	}
	if len(s.Tables) == 0 {
		return errors.New("no benchmark results in the output")
	}
	if date == "" {
		date = s.ConfigValue("date")
		if i := strings.IndexByte(date, 'T'); i >= 0 {
			date = date[:i]
		}
	}
	if date == "" {
		date = time.Now().UTC().Format("2006-01-02")
	}
	stem := date + "-" + slug(s.ConfigValue("cpu"))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	mdPath, txtPath, svgPath := filepath.Join(out, stem+".md"), filepath.Join(out, stem+".txt"), filepath.Join(out, stem+".svg")

	if abs, _ := filepath.Abs(in); in == "" || abs != txtPath {
		if err := os.WriteFile(txtPath, raw, 0o644); err != nil {
			return err
		}
	}

	var svg bytes.Buffer
	if err := writeChart(&svg, s, subtitle(s)); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	for _, p := range []string{svgPath, filepath.Join(out, "latest.svg")} {
		if err := os.WriteFile(p, svg.Bytes(), 0o644); err != nil {
			return err
		}
	}

	var md bytes.Buffer
	m := meta{Title: date + ", " + s.ConfigValue("cpu"), RawFile: stem + ".txt", SVGFile: stem + ".svg"}
	if err := writeMarkdown(&md, s, m); err != nil {
		return err
	}
	if err := os.WriteFile(mdPath, md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "report: wrote %s, %s, %s and latest.svg\n", mdPath, txtPath, svgPath)
	return nil
}

// repoRoot returns the directory of the go.work that joins the library and
// bench modules.
func repoRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOWORK: %w", err)
	}
	gowork := strings.TrimSpace(string(b))
	if gowork == "" || gowork == "off" {
		return "", errors.New("no go.work found: run inside the swapexec repository, with GOWORK unset")
	}
	return filepath.Dir(gowork), nil
}

// runBenchmarks runs go test -bench in root, echoing its output to stderr
// as progress, and returns the output preceded by configuration lines that
// say how it was made.
func runBenchmarks(root string, count int, benchtime, filter string, scale int) ([]byte, error) {
	args := []string{"test", "-run", "^$", "-bench", filter, "-count", strconv.Itoa(count), "-timeout", "0"}
	if benchtime != "" {
		args = append(args, "-benchtime", benchtime)
	}
	args = append(args, "./bench")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	shown := "go " + shellJoin(args)
	if scale > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", bench.ScaleEnv, scale))
		shown = fmt.Sprintf("%s=%d %s", bench.ScaleEnv, scale, shown)
	} else if v := os.Getenv(bench.ScaleEnv); v != "" {
		shown = fmt.Sprintf("%s=%s %s", bench.ScaleEnv, v, shown)
	}
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOVERSION: %w", err)
	}

	var head bytes.Buffer
	fmt.Fprintf(&head, "goversion: %s\n", strings.TrimSpace(string(goVersion)))
	fmt.Fprintf(&head, "cpus: %d\n", runtime.NumCPU())
	fmt.Fprintf(&head, "command: %s\n", shown)
	fmt.Fprintf(&head, "date: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&head, "loadavg-before: %s\n", loadavg())
	if rev, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output(); err == nil {
		// "-dirty": the benchmarks ran on uncommitted changes too.
		fmt.Fprintf(&head, "commit: %s\n", strings.TrimSpace(string(rev)))
	}

	fmt.Fprintf(os.Stderr, "report: running %s\n", shown)
	var body bytes.Buffer
	cmd.Stdout = io.MultiWriter(&body, os.Stderr)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	// Configuration lines apply to the results after them, so this one
	// joins the header too.
	fmt.Fprintf(&head, "loadavg-after: %s\n", loadavg())
	fmt.Fprintf(os.Stderr, "report: benchmarks took %v\n", time.Since(start).Round(time.Second))
	return append(head.Bytes(), body.Bytes()...), nil
}

// loadavg returns the 1, 5 and 15 minute load averages, or "unknown" where
// /proc/loadavg does not exist.
func loadavg() string {
	f, err := os.Open("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return "unknown"
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// shellJoin quotes args for a POSIX shell where they need it.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$*?[]^|&;<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// slug turns a CPU model into a file name part: "Intel(R) Xeon(R) Processor"
// becomes "intel-xeon-processor".
func slug(cpu string) string {
	s := strings.ToLower(cpu)
	for _, mark := range []string{"(r)", "(tm)", "(c)"} {
		s = strings.ReplaceAll(s, mark, "")
	}
	s = strings.Trim(nonAlnum.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "unknown-cpu"
	}
	return s
}

// subtitle is the chart's second line: where and how the results were made.
func subtitle(s *summary) string {
	parts := []string{s.ConfigValue("cpu")}
	if v := gomaxprocs(s); v != "" {
		parts = append(parts, "GOMAXPROCS "+v)
	}
	for _, k := range []string{"goversion", "date"} {
		if v := s.ConfigValue(k); v != "" {
			parts = append(parts, v)
		}
	}
	if n := runsPerCell(s); n != "" {
		parts = append(parts, n)
	}
	return strings.Join(parts, ", ")
}

// runsPerCell describes how many runs each cell has: "6 runs each" or
// "3-6 runs each".
func runsPerCell(s *summary) string {
	lo, hi := 0, 0
	for _, t := range s.Tables {
		for _, row := range t.Cells {
			for _, c := range row {
				if c == nil {
					continue
				}
				n := len(c.Sample.Values)
				if lo == 0 || n < lo {
					lo = n
				}
				hi = max(hi, n)
			}
		}
	}
	switch {
	case hi == 0:
		return ""
	case lo == hi:
		return fmt.Sprintf("%d runs each", lo)
	default:
		return fmt.Sprintf("%d-%d runs each", lo, hi)
	}
}
