package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchunit"

	"github.com/swapexec/swapexec/bench"
)

// meta is what the report says about how the results were made.
type meta struct {
	Title   string // e.g. "2025-01-31, Intel(R) Xeon(R) Processor"
	RawFile string // the saved go test output, relative to the report
	SVGFile string // the chart, relative to the report
}

// benchNotes says what one op is in each benchmark; unknown benchmarks get
// none.
var benchNotes = map[string]string{
	"Tiny":         "One op is one task that does one atomic add, submitted from `submitters` goroutines to an executor of Workers 4, QueueSize 1024; the final Shutdown is included and amortised.",
	"CPU":          fmt.Sprintf("As Tiny, with a task of %d rounds of xorshift (about 1µs; `impl=direct` shows what it costs on this machine).", bench.SpinIterations),
	"AntsShape":    "ants' published shape: one op builds the executor, submits every task (each sleeps 10ms) from one goroutine to Workers workers with no queue, and shuts down.",
	"PondShape":    "pond's published shapes: one op builds the executor, lets `users` goroutines submit their tasks (each sleeps 10ms) to 200,000/scale workers with a queue of 1,000,000/scale, and shuts down.",
	"Group":        "One op is a batch of 10,000 tasks fanned out and waited for (`ns/task` is the op divided by 10,000), each contender with 4 at once: `group-<backend>` is executor/group's Group (a new one per batch) on a long-lived executor of Workers 4, QueueSize 1024; `errgroup` uses SetLimit(4); `pondgroup` a long-lived pond pool's NewGroup; `conc` conc's pool.New().WithErrors().WithMaxGoroutines(4). Two references: `floor` splits the batch over 4 plain goroutines started per batch, with a WaitGroup and no per-task hand-over (what perfect parallelism costs on this machine: no contender that hands tasks over one at a time can beat it), and `submit-chanpool` is chanpool's Submit with a hand-written WaitGroup (the executor without the group: `group-chanpool` minus it is the group's own cost).",
	"GroupResults": "One op is a batch of 10,000 tasks whose results are collected in input order: `map-<backend>` is executor/group's Map on a long-lived executor of Workers 4, QueueSize 1024; `pondresult` a long-lived pond result pool's NewGroup; `conc` conc's pool.NewWithResults[int]().WithErrors().WithMaxGoroutines(4), which in v0.3.0 returns results in completion order, not input order.",
}

var unitNotes = map[string]string{
	"sec/op":          "time per op",
	"B/op":            "bytes allocated per op",
	"allocs/op":       "allocations per op",
	"peak-B":          "peak bytes of heap objects and goroutine stacks in use during the op, above the start",
	"peak-goroutines": "peak goroutines during the op, above the start",
	"sec/task":        "time per task: the op's time divided by its tasks",
}

// writeMarkdown writes the report for s.
func writeMarkdown(w io.Writer, s *summary, m meta) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# swapexec benchmarks: %s\n\n", m.Title)
	p("| | |\n|---|---|\n")
	for _, kv := range [][2]string{
		{"Go", s.ConfigValue("goversion")},
		{"OS/arch", strings.TrimSpace(s.ConfigValue("goos") + "/" + s.ConfigValue("goarch"))},
		{"CPU", s.ConfigValue("cpu")},
		{"Logical CPUs", s.ConfigValue("cpus")},
		{"GOMAXPROCS", gomaxprocs(s)},
		{"Command", code(s.ConfigValue("command"))},
		{"Date", s.ConfigValue("date")},
		{"Commit", s.ConfigValue("commit")},
		{"Load average before", s.ConfigValue("loadavg-before")},
		{"Load average after", s.ConfigValue("loadavg-after")},
		{"Scale of the shapes", s.ConfigValue("swapexec-scale")},
		{"Raw output", link(m.RawFile)},
	} {
		if kv[1] != "" && kv[1] != "/" {
			p("| %s | %s |\n", kv[0], kv[1])
		}
	}
	p("\n")
	if m.SVGFile != "" {
		p("![Time per op and peak memory, per workload and implementation](%s)\n\n", m.SVGFile)
	}

	p("## How to read this\n\n")
	p("Each cell is the median of the runs ± the %.0f%% confidence interval of that median, as a percentage of it "+
		"(benchstat's statistics, golang.org/x/perf/benchmath, which assume no distribution). "+
		"**Bold** marks the lowest median of its row and every cell that a Mann-Whitney U test cannot tell apart from it (α = %.2f); "+
		"every unit here is better lower. ∞ means too few runs for an interval (6 are needed). "+
		"The machine is small and may be shared: compare cells within a row, from one run, rather than with other machines.\n\n",
		confidence*100, 0.05)
	p("Implementations: every backend in `backends.Names()` through the executor API, beside the baselines " +
		"`direct` (the submitter calls the task), `gopertask` (a goroutine per task), " +
		"`errgroup` (errgroup.Group with SetLimit(Workers): a goroutine per task, no queue) and " +
		"`barechan` (Workers goroutines ranging over a `chan func()` buffered to QueueSize).\n\n")
	if notes := scaleNotes(s.Config["swapexec-scale"]); notes != "" {
		p("%s\n", notes)
	}

	last := ""
	for _, t := range s.Tables {
		if t.Bench != last {
			last = t.Bench
			p("## %s\n\n", t.Bench)
			if n := benchNotes[t.Bench]; n != "" {
				p("%s\n\n", n)
			}
		}
		p("### %s", t.Unit)
		if n := unitNotes[t.Unit]; n != "" {
			p(": %s", n)
		}
		p("\n\n")
		writeTable(&b, t)
		p("\n")
	}
	if len(s.Skipped) > 0 {
		p("## Lines that could not be parsed\n\n")
		for _, e := range s.Skipped {
			p("- %s\n", e)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTable(b *strings.Builder, t *table) {
	b.WriteString("| |")
	for _, c := range t.Cols {
		fmt.Fprintf(b, " %s |", c)
	}
	b.WriteString("\n|---|")
	for range t.Cols {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for i, r := range t.Rows {
		if r == "" {
			r = t.Bench
		}
		fmt.Fprintf(b, "| %s |", r)
		best := t.best(i)
		for j, c := range t.Cells[i] {
			s := "–"
			if c != nil {
				s = formatValue(c.Summary.Center, t.Unit) + " ± " + c.Summary.PctRangeString()
				if best[j] {
					s = "**" + s + "**"
				}
			}
			fmt.Fprintf(b, " %s |", s)
		}
		b.WriteString("\n")
	}
}

// formatValue writes v in unit with an SI or binary prefix and at least
// three significant digits: "5.64µs", "14.0MiB", "20.1k".
func formatValue(v float64, unit string) string {
	if v == 0 {
		return "0"
	}
	cls := benchunit.ClassOf(unit)
	s := benchunit.Scale(v, cls)
	switch {
	case unit == "sec/op":
		s += "s"
	case cls == benchunit.Binary:
		s += "B"
	}
	return s
}

// scaleNotes describes the actual sizes of the shapes at each scale
// ("1:10") the results were made with.
func scaleNotes(scales []string) string {
	var b strings.Builder
	for _, sc := range scales {
		n, err := strconv.Atoi(strings.TrimPrefix(sc, "1:"))
		if err != nil || n < 1 {
			fmt.Fprintf(&b, "Scale %q is not one this report knows.\n", sc)
			continue
		}
		what := "the published sizes"
		if n > 1 {
			what = fmt.Sprintf("the published sizes divided by %d (set %s=1 for full size)", n, bench.ScaleEnv)
		}
		fmt.Fprintf(&b, "Shapes at scale %s, %s:\n\n", sc, what)
		a := bench.AntsShape(n)
		fmt.Fprintf(&b, "- AntsShape: %d tasks × %v sleep on %d workers, no queue, 1 submitter.\n", a.Tasks(), bench.TaskSleep, a.Workers)
		for _, s := range bench.PondShapes(n) {
			fmt.Fprintf(&b, "- PondShape shape=%s: %d users × %d tasks × %v sleep on %d workers, queue %d.\n",
				s.Name, s.Users, s.TasksPerUser, bench.TaskSleep, s.Workers, s.QueueSize)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// gomaxprocs lists the GOMAXPROCS values the tables were run at.
func gomaxprocs(s *summary) string {
	var vs []string
	for _, t := range s.Tables {
		v := t.Gomaxprocs
		if v == "" {
			v = "1"
		}
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	return strings.Join(vs, ", ")
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

func link(file string) string {
	if file == "" {
		return ""
	}
	return fmt.Sprintf("[%s](%s)", file, file)
}
