package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// environment describes the machine and the run, for the report's header.
type environment struct {
	Date      time.Time
	Command   string
	GoVersion string
	OSArch    string
	CPU       string
	NumCPU    int
	LoadStart string // /proc/loadavg before the runs
	LoadEnd   string // and after
	Took      time.Duration
}

// writeReport writes the Markdown report of sums to w: a header, then one
// table per scenario that has rows, then the problems met (server exits,
// failed runs), if any.
func writeReport(w io.Writer, c config, env environment, sums []summary, problems []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# HTTP load: httpdemo per backend\n\n")
	fmt.Fprintf(&b, "- date: %s; took %s\n", env.Date.Format("2006-01-02 15:04 MST"), env.Took.Round(time.Second))
	fmt.Fprintf(&b, "- command: `%s`\n", env.Command)
	fmt.Fprintf(&b, "- %s %s, %s, %d CPUs; load average before %s, after %s\n",
		env.GoVersion, env.OSArch, env.CPU, env.NumCPU, env.LoadStart, env.LoadEnd)
	fmt.Fprintf(&b, "- load generator: vegeta v12 library, in the same process, on the same CPUs as the server (loopback, keep-alive)\n")
	fmt.Fprintf(&b, "- latency: of 2xx responses only, from send to the last byte read; failures are counted apart\n")
	fmt.Fprintf(&b, "- one run per cell, on a shared machine (see the load average): repeat a run before trusting a difference between backends\n")

	if rows := filter(sums, scenarioFixed); len(rows) > 0 {
		fmt.Fprintf(&b, "\n## Fixed rate: GET / at %d req/s for %s (httpdemo -workers %d)\n\n", c.Rate, c.Duration, c.Workers)
		b.WriteString("| backend | sent | sent/s | ok/s | p50 | p99 | max | errors |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range rows {
			fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %s | %s | %s | %s |\n", s.Backend, s.Sent, s.SentRate(), s.OKRate(),
				fmtDur(s.OKLat.P50), fmtDur(s.OKLat.P99), fmtDur(s.OKLat.Max), fmtErrors(s.Shed+s.Failed, s.Sent))
		}
	}
	if rows := filter(sums, scenarioMax); len(rows) > 0 {
		fmt.Fprintf(&b, "\n## Maximum: GET /, %d clients back to back for %s (vegeta rate 0; httpdemo -workers %d)\n\n", c.Clients, c.Duration, c.Workers)
		b.WriteString("| backend | requests | ok/s | vs none | p50 | p99 | max | errors |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
		var base float64
		for _, s := range rows {
			if s.Backend == "none" {
				base = s.OKRate()
			}
		}
		for _, s := range rows {
			vs := "–"
			if base > 0 {
				vs = fmt.Sprintf("%.2f×", s.OKRate()/base)
			}
			fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %s | %s | %s |\n", s.Backend, s.Sent, s.OKRate(), vs,
				fmtDur(s.OKLat.P50), fmtDur(s.OKLat.P99), fmtDur(s.OKLat.Max), fmtErrors(s.Shed+s.Failed, s.Sent))
		}
	}
	if rows := filter(sums, scenarioOverload); len(rows) > 0 {
		fmt.Fprintf(&b, "\n## Overload: GET /sleep at %d req/s for %s; capacity %.0f req/s (httpdemo -sleep %s -workers %d -queue %d)\n\n",
			c.OverloadRate, c.OverloadDuration, c.capacity(), c.OverloadSleep, c.OverloadWorkers, c.OverloadQueue)
		b.WriteString("Blocking: a request waits for room in the queue, so waits grow while the backlog lasts. ")
		b.WriteString("Nonblocking (`-nonblocking`): a request that finds workers and queue full gets 503 at once, so the ones served wait at most for the queue.\n\n")
		b.WriteString("| backend | mode | sent/s | ok | ok/s | ok p50 | ok p99 | ok max | 503 | 503 p99 | other errors |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range rows {
			fmt.Fprintf(&b, "| %s | %s | %.0f | %d | %.0f | %s | %s | %s | %s | %s | %s |\n", s.Backend, s.Mode, s.SentRate(), s.OK, s.OKRate(),
				fmtDur(s.OKLat.P50), fmtDur(s.OKLat.P99), fmtDur(s.OKLat.Max), fmtErrors(s.Shed, s.Sent), fmtDur(s.ShedLat.P99), fmtErrors(s.Failed, s.Sent))
		}
	}

	var errs []string
	for _, s := range sums {
		if e := s.TopError(); e != "" {
			errs = append(errs, fmt.Sprintf("%s %s%s: %d failed; most often %q (%d)", s.Backend, s.Scenario, prefixed(" ", s.Mode), s.Failed, e, s.Errors[e]))
		}
	}
	if len(errs)+len(problems) > 0 {
		b.WriteString("\n## Problems\n\n")
		for _, p := range append(errs, problems...) {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(p, "\n", "\n  "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func filter(sums []summary, scenario string) []summary {
	var out []summary
	for _, s := range sums {
		if s.Scenario == scenario {
			out = append(out, s)
		}
	}
	return out
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// fmtErrors formats n of total as "0" or "n (x.y%)".
func fmtErrors(n, total uint64) string {
	if n == 0 || total == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.1f%%)", n, 100*float64(n)/float64(total))
}

// fmtDur formats d with three significant figures or so, in the unit that
// suits it; zero (no samples) is "–".
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}
