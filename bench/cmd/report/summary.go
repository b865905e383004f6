package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
	"golang.org/x/perf/benchproc"
)

// confidence is the level of every confidence interval, as benchstat's
// default.
const confidence = 0.95

// summary is a set of benchmark results grouped into tables, one per
// benchmark and unit, with rows for the remaining name dimensions and a
// column for each impl.
type summary struct {
	Tables []*table
	// Config holds each file configuration key (goos, cpu, swapexec-scale,
	// ...) with its distinct values in order of appearance.
	Config map[string][]string
	// Skipped counts lines that looked like benchmark results but could not
	// be parsed.
	Skipped []string
}

// table is one benchmark's measurements in one unit.
type table struct {
	Bench      string // benchmark name without "Benchmark", e.g. "Tiny"
	Gomaxprocs string // the -N suffix, "" for 1
	Unit       string // tidied unit: sec/op, B/op, allocs/op, peak-B, ...
	Rows       []string
	Cols       []string
	Cells      [][]*cell // [row][col], nil where there was no result
}

// cell is one sample: every measurement of one benchmark in one unit.
type cell struct {
	Sample  *benchmath.Sample
	Summary benchmath.Summary
}

// Config returns the single value of file configuration key k, the values
// joined with " | " if there were several, or "" if there were none.
func (s *summary) ConfigValue(k string) string {
	return strings.Join(s.Config[k], " | ")
}

// summarize reads go test -bench output from r (named name in messages)
// and groups it, as benchstat -table .name -row .fullname -col /impl would.
func summarize(r io.Reader, name string) (*summary, error) {
	var parser benchproc.ProjectionParser
	tableBy, _, err := parser.ParseWithUnit(".name,/gomaxprocs", nil)
	if err != nil {
		return nil, err
	}
	colBy, err := parser.Parse("/impl", nil)
	if err != nil {
		return nil, err
	}
	// Parsed last, so that .fullname leaves out the keys projected above.
	rowBy, err := parser.Parse(".fullname", nil)
	if err != nil {
		return nil, err
	}

	type cellKey struct{ table, row, col benchproc.Key }
	values := make(map[cellKey][]float64)
	rowsOf := make(map[benchproc.Key][]benchproc.Key)
	colsOf := make(map[benchproc.Key][]benchproc.Key)
	var tables []benchproc.Key
	s := &summary{Config: make(map[string][]string)}

	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			s.Skipped = append(s.Skipped, rec.Error())
		case *benchfmt.Result:
			for _, c := range rec.Config {
				if c.File && !slices.Contains(s.Config[c.Key], string(c.Value)) {
					s.Config[c.Key] = append(s.Config[c.Key], string(c.Value))
				}
			}
			row, col := rowBy.Project(rec), colBy.Project(rec)
			for i, tk := range tableBy.ProjectValues(rec) {
				k := cellKey{tk, row, col}
				if _, ok := rowsOf[tk]; !ok {
					tables = append(tables, tk)
				}
				if !slices.Contains(rowsOf[tk], row) {
					rowsOf[tk] = append(rowsOf[tk], row)
				}
				if !slices.Contains(colsOf[tk], col) {
					colsOf[tk] = append(colsOf[tk], col)
				}
				values[k] = append(values[k], rec.Values[i].Value)
			}
		}
	}
	if err := br.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}

	benchproc.SortKeys(tables)
	field := func(p *benchproc.Projection, name string) *benchproc.Field {
		for _, f := range p.Fields() {
			if f.Name == name {
				return f
			}
		}
		panic("report: no field " + name) // the projections above define them
	}
	nameF, procsF, unitF := field(tableBy, ".name"), field(tableBy, "/gomaxprocs"), field(tableBy, ".unit")
	implF, fullF := field(colBy, "/impl"), field(rowBy, ".fullname")

	for _, tk := range tables {
		rows, cols := rowsOf[tk], colsOf[tk]
		benchproc.SortKeys(rows)
		benchproc.SortKeys(cols)
		t := &table{
			Bench:      tk.Get(nameF),
			Gomaxprocs: tk.Get(procsF),
			Unit:       tk.Get(unitF),
			Cells:      make([][]*cell, len(rows)),
		}
		for _, c := range cols {
			t.Cols = append(t.Cols, c.Get(implF))
		}
		for i, rk := range rows {
			t.Rows = append(t.Rows, rowLabel(rk.Get(fullF)))
			t.Cells[i] = make([]*cell, len(cols))
			for j, ck := range cols {
				vs := values[cellKey{tk, rk, ck}]
				if len(vs) == 0 {
					continue
				}
				sample := benchmath.NewSample(vs, &benchmath.DefaultThresholds)
				t.Cells[i][j] = &cell{Sample: sample, Summary: benchmath.AssumeNothing.Summary(sample, confidence)}
			}
		}
		s.Tables = append(s.Tables, t)
	}
	// Within a benchmark, show time first, then the allocation counters,
	// then the custom metrics in the order they appeared.
	group := make(map[[2]string]int)
	for _, t := range s.Tables {
		k := [2]string{t.Bench, t.Gomaxprocs}
		if _, ok := group[k]; !ok {
			group[k] = len(group)
		}
	}
	slices.SortStableFunc(s.Tables, func(a, b *table) int {
		if ga, gb := group[[2]string{a.Bench, a.Gomaxprocs}], group[[2]string{b.Bench, b.Gomaxprocs}]; ga != gb {
			return ga - gb
		}
		return unitRank(a.Unit) - unitRank(b.Unit)
	})
	return s, nil
}

// unitRank orders the units the testing package reports before custom ones.
func unitRank(unit string) int {
	if i := slices.Index([]string{"sec/op", "B/op", "allocs/op"}, unit); i >= 0 {
		return i
	}
	return 3
}

// rowLabel turns a .fullname with the benchmark name and impl removed
// ("*/submitters=1") into a row label ("submitters=1").
func rowLabel(full string) string {
	full = strings.TrimPrefix(full, "*")
	return strings.TrimPrefix(full, "/")
}

// best reports, for row i of t, which cells are the lowest median or not
// distinguishable from it (Mann-Whitney U test at benchmath's default
// alpha). Every unit the benchmarks report is better lower. With fewer than
// two samples per cell nothing can be told apart, and only the lowest is
// marked.
func (t *table) best(i int) []bool {
	marks := make([]bool, len(t.Cols))
	lo := -1
	for j, c := range t.Cells[i] {
		if c != nil && (lo < 0 || c.Summary.Center < t.Cells[i][lo].Summary.Center) {
			lo = j
		}
	}
	if lo < 0 {
		return marks
	}
	min := t.Cells[i][lo]
	for j, c := range t.Cells[i] {
		switch {
		case j == lo:
			marks[j] = true
		case c == nil || len(c.Sample.Values) < 2 || len(min.Sample.Values) < 2:
		default:
			cmp := benchmath.AssumeNothing.Compare(min.Sample, c.Sample)
			marks[j] = cmp.P > cmp.Alpha
		}
	}
	return marks
}
