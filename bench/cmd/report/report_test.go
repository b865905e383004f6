package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readSample(t *testing.T) *summary {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := summarize(f, "sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// find returns the table of bench in unit, failing t if there is none.
func find(t *testing.T, s *summary, bench, unit string) *table {
	t.Helper()
	for _, tb := range s.Tables {
		if tb.Bench == bench && tb.Unit == unit {
			return tb
		}
	}
	t.Fatalf("no table for %s in %s", bench, unit)
	return nil
}

func TestSummarizeTables(t *testing.T) {
	s := readSample(t)
	var got []string
	for _, tb := range s.Tables {
		got = append(got, tb.Bench+" "+tb.Unit+" -"+tb.Gomaxprocs)
	}
	// Time first, then the testing package's counters, then custom metrics
	// in the order they appear.
	want := []string{
		"Tiny sec/op -2", "Tiny B/op -2", "Tiny allocs/op -2",
		"AntsShape sec/op -2", "AntsShape B/op -2", "AntsShape allocs/op -2",
		"AntsShape peak-B -2", "AntsShape peak-goroutines -2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("tables:\n got %q\nwant %q", got, want)
	}

	tiny := find(t, s, "Tiny", "sec/op")
	if want := []string{"submitters=1", "submitters=16"}; !slices.Equal(tiny.Rows, want) {
		t.Errorf("Tiny rows = %q; want %q", tiny.Rows, want)
	}
	if want := []string{"chanpool", "barechan", "direct"}; !slices.Equal(tiny.Cols, want) {
		t.Errorf("Tiny cols = %q; want %q", tiny.Cols, want)
	}
	if c := tiny.Cells[1][2]; c != nil {
		t.Errorf("Tiny submitters=16 direct = %v; want no cell (no results)", c.Sample.Values)
	}
	ants := find(t, s, "AntsShape", "peak-B")
	if want := []string{"shape=1Mt-50Kw/scale=1:10"}; !slices.Equal(ants.Rows, want) {
		t.Errorf("AntsShape rows = %q; want %q", ants.Rows, want)
	}
}

func TestSummarizeStatistics(t *testing.T) {
	s := readSample(t)
	tiny := find(t, s, "Tiny", "sec/op")
	for _, tc := range []struct {
		row, col       int
		median, lo, hi float64 // seconds
		n              int
	}{
		// With 6 runs the 95% interval of the median is [min, max].
		{0, 0, 102.5e-9, 100e-9, 105e-9, 6},
		{0, 1, 225e-9, 200e-9, 250e-9, 6},
		// With 3 it cannot be had: ±∞.
		{0, 2, 2.1e-9, math.Inf(-1), math.Inf(1), 3},
	} {
		c := tiny.Cells[tc.row][tc.col]
		if c == nil {
			t.Fatalf("cell %d,%d missing", tc.row, tc.col)
		}
		sum := c.Summary
		if len(c.Sample.Values) != tc.n || !near(sum.Center, tc.median) || !near(sum.Lo, tc.lo) || !near(sum.Hi, tc.hi) {
			t.Errorf("%s %s: n=%d median %g [%g, %g]; want n=%d %g [%g, %g]",
				tiny.Rows[tc.row], tiny.Cols[tc.col], len(c.Sample.Values), sum.Center, sum.Lo, sum.Hi, tc.n, tc.median, tc.lo, tc.hi)
		}
	}
	peak := find(t, s, "AntsShape", "peak-B")
	if got, want := peak.Cells[0][0].Summary.Center, 14.25e6; !near(got, want) {
		t.Errorf("AntsShape chanpool peak-B median = %g; want %g", got, want)
	}
}

func near(a, b float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func TestBest(t *testing.T) {
	tiny := find(t, readSample(t), "Tiny", "sec/op")
	for _, tc := range []struct {
		row  int
		want []bool
	}{
		// direct is lowest; with 3 runs against 6 the U test can still
		// tell both others apart from it.
		{0, []bool{false, false, true}},
		// chanpool and barechan overlap: the test cannot tell them apart.
		{1, []bool{true, true, false}},
	} {
		if got := tiny.best(tc.row); !slices.Equal(got, tc.want) {
			t.Errorf("best(%s) = %v; want %v", tiny.Rows[tc.row], got, tc.want)
		}
	}
}

func TestSummarizeConfigAndSkipped(t *testing.T) {
	s := readSample(t)
	for k, want := range map[string]string{
		"goversion":      "go1.26.8",
		"cpu":            "Intel(R) Xeon(R) Processor",
		"swapexec-scale": "1:10",
		"command":        "go test -run '^$' -bench . -count 6 -timeout 0 ./bench",
	} {
		if got := s.ConfigValue(k); got != want {
			t.Errorf("config %s = %q; want %q", k, got, want)
		}
	}
	if len(s.Skipped) != 1 || !strings.Contains(s.Skipped[0], "sample.txt:") {
		t.Errorf("Skipped = %q; want the one malformed line, with its position", s.Skipped)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	s, err := summarize(strings.NewReader("PASS\nok  \tx\t0.1s\n"), "empty")
	if err != nil || len(s.Tables) != 0 {
		t.Errorf("summarize(no results) = %d tables, %v; want 0, nil", len(s.Tables), err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestSummarizeReadError(t *testing.T) {
	if _, err := summarize(io.MultiReader(strings.NewReader("BenchmarkX 1 2 ns/op\n"), failingReader{}), "x"); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("summarize(failing reader) error = %v; want the read error", err)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{102.5e-9, "sec/op", "102.5ns"},
		{2.5, "sec/op", "2.500s"},
		{14.25e6, "peak-B", "13.59MiB"},
		{16, "B/op", "16.00B"},
		{20073, "allocs/op", "20.07k"},
		{0, "B/op", "0"},
	} {
		if got := formatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("formatValue(%g, %q) = %q; want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := writeMarkdown(&b, readSample(t), meta{Title: "T", RawFile: "r.txt", SVGFile: "c.svg"}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"# swapexec benchmarks: T",
		"| Go | go1.26.8 |",
		"| GOMAXPROCS | 2 |",
		"| Command | `go test -run '^$' -bench . -count 6 -timeout 0 ./bench` |",
		"![Time per op and peak memory, per workload and implementation](c.svg)",
		"[r.txt](r.txt)",
		"- AntsShape: 100000 tasks × 10ms sleep on 5000 workers, no queue, 1 submitter.",
		"- PondShape shape=1Mu-1t: 100000 users × 1 tasks × 10ms sleep on 20000 workers, queue 100000.",
		"| | chanpool | barechan | direct |",
		"| submitters=1 | 102.5ns ± 2% | 225.0ns ± 11% | **2.100ns ± ∞** |",
		"| submitters=16 | **152.5ns ± 2%** | **153.0ns ± 2%** | – |",
		"### peak-B: peak bytes",
		"## Lines that could not be parsed",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", md)
	}
}

func TestWriteChart(t *testing.T) {
	var b bytes.Buffer
	if err := writeChart(&b, readSample(t), "subtitle here"); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML whose text names every impl and group.
	var texts []string
	d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			texts = append(texts, strings.TrimSpace(string(cd)))
		}
	}
	for _, want := range []string{"subtitle here", "chanpool", "barechan", "direct", "gopertask", "submitters=16", "ants 1Mt-50Kw"} {
		if !slices.Contains(texts, want) {
			t.Errorf("chart has no text %q", want)
		}
	}
	if !bytes.Contains(b.Bytes(), []byte("Arial")) {
		t.Errorf("chart names no fallback for Liberation Sans")
	}
}

func TestWriteChartNoData(t *testing.T) {
	s, err := summarize(strings.NewReader("BenchmarkOther/impl=x 1 2 ns/op\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeChart(io.Discard, s, ""); err == nil {
		t.Errorf("writeChart(no panel data) = nil; want an error")
	}
}

func TestGroupLabel(t *testing.T) {
	for _, tc := range []struct{ bench, row, label, scale string }{
		{"Tiny", "submitters=16", "submitters=16", ""},
		{"AntsShape", "shape=1Mt-50Kw/scale=1:10", "ants 1Mt-50Kw", "1:10"},
		{"PondShape", "shape=1u-1Mt/scale=1:1", "pond 1u-1Mt", "1:1"},
		{"CPU", "", "", ""},
	} {
		label, scale := groupLabel(tc.bench, tc.row)
		if label != tc.label || scale != tc.scale {
			t.Errorf("groupLabel(%q, %q) = %q, %q; want %q, %q", tc.bench, tc.row, label, scale, tc.label, tc.scale)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Intel(R) Xeon(R) Processor":            "intel-xeon-processor",
		"AMD EPYC 7B13 64-Core Processor":       "amd-epyc-7b13-64-core-processor",
		"Apple M2 Pro":                          "apple-m2-pro",
		"":                                      "unknown-cpu",
		"Intel(R) Core(TM) i7-9750H CPU @ 2.60": "intel-core-i7-9750h-cpu-2-60",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"test", "-run", "^$", "-bench", ".", "-benchtime", "1x", "it's"})
	if want := `test -run '^$' -bench . -benchtime 1x 'it'\''s'`; got != want {
		t.Errorf("shellJoin = %s; want %s", got, want)
	}
}

func TestChartLegendOnlyNamesChartedImpls(t *testing.T) {
	in := "BenchmarkTiny/impl=chanpool 1 2 ns/op\nBenchmarkGroup/impl=group-chanpool 1 2 ns/op\n"
	s, err := summarize(strings.NewReader(in), "x")
	if err != nil {
		t.Fatal(err)
	}
	impls, _ := implColors(s)
	if !slices.Equal(impls, []string{"chanpool"}) {
		t.Errorf("implColors = %v; want [chanpool]: BenchmarkGroup is in no panel", impls)
	}
}
