package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

// writeReport writes the Markdown report of sums to w: a header, then one
// table per scenario that has rows (the fixed-rate and maximum ones
// summarised over the rounds), then the problems met (server exits,
// failed runs), if any.
func writeReport(w io.Writer, c config, env demorun.Environment, sums []summary, problems []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# HTTP load: httpdemo per backend\n\n")
	env.WriteHeader(&b, "")
	fmt.Fprintf(&b, "- load generator: vegeta v12 library, in the same process, on the same CPUs as the server (loopback, keep-alive)\n")
	fmt.Fprintf(&b, "- latency: of 2xx responses only, from send to the last byte read; failures are counted apart\n")
	for _, line := range roundsNote(c) {
		fmt.Fprintf(&b, "- %s\n", line)
	}

	if rows := summarise(sums, scenarioFixed, c.Backends); len(rows) > 0 {
		writeFixed(&b, c, rows)
	}
	if rows := summarise(sums, scenarioMax, c.Backends); len(rows) > 0 {
		writeMax(&b, c, rows)
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
			errs = append(errs, fmt.Sprintf("%s %s: %d failed; most often %q (%d)", s.Backend, runName(s, c.Rounds), s.Failed, e, s.Errors[e]))
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

// roundsNote returns the header lines that say how many rounds ran, how
// their order went and what that does and does not buy.
func roundsNote(c config) []string {
	shared := "on a shared machine (see the load average)"
	if c.Rounds == 1 || len(c.Backends) == 0 {
		return []string{"one run per cell, " + shared + ": repeat a run (-rounds 3 or more) before trusting a difference between backends"}
	}
	order := ""
	if len(c.Backends) > 1 {
		order = fmt.Sprintf("; the backend order rotates by one each round (%s, then %s, …), so a slow moment of the machine does not always fall on the same backend",
			strings.Join(rotate(c.Backends, 0), " "), strings.Join(rotate(c.Backends, 1), " "))
	}
	return []string{
		fmt.Sprintf("fixed-rate and maximum runs: %d rounds, a fresh server per backend per round%s", c.Rounds, order),
		"cells of those tables summarise the rounds (medians, ranges, totals: see each table); " + shared +
			", medians damp the noise but do not remove it: a difference within the ok/s min–max ranges is not one to trust",
		"overload runs: one run per cell",
	}
}

// writeFixed writes the fixed-rate table of rows to b.
func writeFixed(b *strings.Builder, c config, rows []overRounds) {
	fmt.Fprintf(b, "\n## Fixed rate: GET / at %d req/s for %s%s (httpdemo -workers %d)\n\n", c.Rate, c.Duration, roundsSuffix(c.Rounds), c.Workers)
	if c.Rounds > 1 {
		fmt.Fprintf(b, "sent/s, ok/s, p50, p99: median of the %d rounds; max: the largest of any round; sent and errors: totals over the rounds.\n\n", c.Rounds)
	}
	b.WriteString("| backend | sent | sent/s | ok/s | p50 | p99 | max | errors |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, o := range rows {
		fmt.Fprintf(b, "| %s | %d | %.0f | %.0f | %s | %s | %s | %s |\n", backendCell(o, c.Rounds), o.Sent, o.SentRate, o.OKRate,
			fmtDur(o.P50), fmtDur(o.P99), fmtDur(o.Max), fmtErrors(o.Errors, o.Sent))
	}
}

// writeMax writes the maximum-run table of rows to b. With one round it
// has no min–max column: there is no range to show.
func writeMax(b *strings.Builder, c config, rows []overRounds) {
	fmt.Fprintf(b, "\n## Maximum: GET /, %d clients back to back for %s%s (vegeta rate 0; httpdemo -workers %d)\n\n", c.Clients, c.Duration, roundsSuffix(c.Rounds), c.Workers)
	spread := c.Rounds > 1
	if spread {
		fmt.Fprintf(b, "ok/s, p50, p99: median of the %d rounds; ok/s min–max: the slowest and fastest round; "+
			"vs none: median of the rounds' ratios, ok/s ÷ none's ok/s in the same round; max: the largest of any round; requests and errors: totals over the rounds.\n\n", c.Rounds)
		b.WriteString("| backend | requests | ok/s | ok/s min–max | vs none | p50 | p99 | max | errors |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	} else {
		b.WriteString("| backend | requests | ok/s | vs none | p50 | p99 | max | errors |\n")
		b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	}
	for _, o := range rows {
		cells := []string{backendCell(o, c.Rounds), fmt.Sprint(o.Sent), fmt.Sprintf("%.0f", o.OKRate)}
		if spread {
			cells = append(cells, fmt.Sprintf("%.0f–%.0f", o.MinOKRate, o.MaxOKRate))
		}
		vs := "–"
		if o.VsNone > 0 {
			vs = fmt.Sprintf("%.2f×", o.VsNone)
		}
		cells = append(cells, vs, fmtDur(o.P50), fmtDur(o.P99), fmtDur(o.Max), fmtErrors(o.Errors, o.Sent))
		fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
	}
}

// roundsSuffix is ", N rounds" for a table heading, or "" for one round.
func roundsSuffix(rounds int) string {
	if rounds == 1 {
		return ""
	}
	return fmt.Sprintf(", %d rounds", rounds)
}

// backendCell names o's backend, and says how many rounds it has if a
// server failed to start in some of them.
func backendCell(o overRounds, rounds int) string {
	if o.Runs < rounds {
		return fmt.Sprintf("%s (%d of %d rounds)", o.Backend, o.Runs, rounds)
	}
	return o.Backend
}

// runName names s's run for the problems list: scenario, then the round
// when there were several, or the overload mode.
func runName(s summary, rounds int) string {
	if s.Scenario != scenarioOverload && rounds > 1 {
		return fmt.Sprintf("%s round %d/%d", s.Scenario, s.Round+1, rounds)
	}
	return s.Scenario + prefixed(" ", s.Mode)
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

// fmtDur formats d as every bench report does; zero (no samples) is "–".
func fmtDur(d time.Duration) string { return demorun.FormatDuration(d) }
