package main

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"golang.org/x/perf/benchunit"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/swapexec/swapexec/bench/internal/plotstyle"
)

// baselines are the impl names of the comparison baselines in bench; the
// chart draws them in greys so the backends stand out.
var baselines = []string{"direct", "gopertask", "errgroup", "barechan"}

// Colour-blind-safe colours (Okabe and Ito) for the backends, in registry
// order, and greys, dark to light, for the baselines.
var (
	backendColors = []color.Color{
		rgb(0x00, 0x72, 0xB2), rgb(0xE6, 0x9F, 0x00), rgb(0x00, 0x9E, 0x73),
		rgb(0xCC, 0x79, 0xA7), rgb(0xD5, 0x5E, 0x00), rgb(0x56, 0xB4, 0xE9),
	}
	baselineColors = []color.Color{rgb(0x30, 0x30, 0x30), rgb(0x70, 0x70, 0x70), rgb(0xA0, 0xA0, 0xA0), rgb(0xC8, 0xC8, 0xC8)}
)

func rgb(r, g, b uint8) color.Color { return color.RGBA{r, g, b, 0xff} }

// panel is one bar chart of the figure: the rows of the named benchmarks'
// tables in unit, as groups of bars, one bar per impl.
type panel struct {
	title   string
	benches []string
	unit    string
}

var panels = []panel{
	{"Tiny task (one atomic add): time per task", []string{"Tiny"}, "sec/op"},
	{"~1µs CPU task: time per task", []string{"CPU"}, "sec/op"},
	{"Published shapes (tasks sleep 10ms): time per whole shape", []string{"AntsShape", "PondShape"}, "sec/op"},
	{"Published shapes: peak heap objects + goroutine stacks", []string{"AntsShape", "PondShape"}, "peak-B"},
}

// writeChart draws s as grouped bars with 95% confidence intervals and writes
// it as SVG. Panels with no data are left out.
func writeChart(w io.Writer, s *summary, subtitle string) error {
	impls, colors := implColors(s)

	var plots []*plot.Plot
	for _, pn := range panels {
		p, err := panelPlot(s, pn, impls, colors)
		if err != nil {
			return err
		}
		if p != nil {
			plots = append(plots, p)
		}
	}
	if len(plots) == 0 {
		return fmt.Errorf("no results for any chart panel")
	}

	// The first two panels (one or two groups each) share a row; the shape
	// panels, with many groups, take a row each.
	const (
		width   = 1000
		header  = 62
		rowH    = 290
		margin  = 8
		halfRow = 2
	)
	var rows [][]*plot.Plot
	for i := 0; i < len(plots); {
		if i < halfRow && i+1 < len(plots) && i+1 < halfRow {
			rows = append(rows, plots[i:i+2])
			i += 2
			continue
		}
		rows = append(rows, plots[i:i+1])
		i++
	}
	W, H := vg.Points(width), vg.Points(header+rowH*float64(len(rows)))
	c := vgsvg.New(W, H)
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	drawHeader(draw.Crop(dc, margin, -margin, H-vg.Points(header), -4), subtitle, impls, colors)
	for r, row := range rows {
		top := H - vg.Points(header) - vg.Points(rowH)*vg.Length(r)
		cellW := (W - 2*margin) / vg.Length(len(row))
		for i, p := range row {
			left := margin + cellW*vg.Length(i)
			p.Draw(draw.Crop(dc, left, left+cellW-W, top-vg.Points(rowH), top-H-6))
		}
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	svg := plotstyle.WebFonts(buf.Bytes())
	_, err := w.Write(svg)
	return err
}

// implColors assigns every impl in s a colour: backends in order of
// appearance, then baselines in their fixed order.
func implColors(s *summary) ([]string, map[string]color.Color) {
	var backends []string
	for _, t := range s.Tables {
		if !charted(t) {
			continue // its impls would crowd the one-line legend and draw nothing
		}
		for _, c := range t.Cols {
			if !slices.Contains(baselines, c) && !slices.Contains(backends, c) {
				backends = append(backends, c)
			}
		}
	}
	colors := make(map[string]color.Color)
	impls := slices.Clone(backends)
	for i, b := range backends {
		colors[b] = backendColors[i%len(backendColors)]
	}
	for i, b := range baselines {
		for _, t := range s.Tables {
			if charted(t) && slices.Contains(t.Cols, b) {
				impls = append(impls, b)
				colors[b] = baselineColors[i]
				break
			}
		}
	}
	return impls, colors
}

// charted reports whether some panel draws t's benchmark. Benchmarks that
// no panel draws (BenchmarkGroup's batches, say) are in the Markdown tables
// only.
func charted(t *table) bool {
	for _, pn := range panels {
		if slices.Contains(pn.benches, t.Bench) {
			return true
		}
	}
	return false
}

// drawHeader writes the title, the subtitle and a one-line legend.
func drawHeader(c draw.Canvas, subtitle string, impls []string, colors map[string]color.Color) {
	style := plotstyle.NewPlot().Title.TextStyle
	style.XAlign, style.YAlign = draw.XLeft, draw.YTop
	y := c.Max.Y
	c.FillText(style, vg.Point{X: c.Min.X, Y: y}, "swapexec: executor backends and baselines")
	style.Font.Size = 10
	c.FillText(style, vg.Point{X: c.Min.X, Y: y - 16}, subtitle)

	style.YAlign = draw.YCenter
	x, ly := c.Min.X, y-44
	for _, name := range impls {
		sw := vg.Points(12)
		c.SetColor(colors[name])
		c.Fill(rectPath(x, ly-sw/2, sw, sw))
		c.FillText(style, vg.Point{X: x + sw + 4, Y: ly}, name)
		x += sw + 4 + style.Width(name) + 16
	}
	style.Font.Size = 9
	c.FillText(style, vg.Point{X: x + 8, Y: ly}, "grey: baselines · bars: median · whiskers: 95% confidence interval")
}

func rectPath(x, y, w, h vg.Length) vg.Path {
	var p vg.Path
	p.Move(vg.Point{X: x, Y: y})
	p.Line(vg.Point{X: x + w, Y: y})
	p.Line(vg.Point{X: x + w, Y: y + h})
	p.Line(vg.Point{X: x, Y: y + h})
	p.Close()
	return p
}

// panelPlot builds the plot for pn, or nil if s has no data for it.
func panelPlot(s *summary, pn panel, impls []string, colors map[string]color.Color) (*plot.Plot, error) {
	type group struct {
		label string
		t     *table
		row   int
	}
	var groups []group
	var scales []string
	for _, t := range s.Tables {
		if t.Unit != pn.unit || !slices.Contains(pn.benches, t.Bench) {
			continue
		}
		for i, r := range t.Rows {
			label, scale := groupLabel(t.Bench, r)
			groups = append(groups, group{label, t, i})
			if scale != "" && !slices.Contains(scales, scale) {
				scales = append(scales, scale)
			}
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	// Only the impls present in this panel take a slot.
	var present []string
	for _, im := range impls {
		for _, g := range groups {
			if j := slices.Index(g.t.Cols, im); j >= 0 && g.t.Cells[g.row][j] != nil {
				present = append(present, im)
				break
			}
		}
	}
	slot := len(present) + 1 // one empty slot between groups

	var max float64
	for _, g := range groups {
		for _, c := range g.t.Cells[g.row] {
			if c != nil {
				max = math.Max(max, c.Summary.Center)
			}
		}
	}
	cls := benchunit.ClassOf(pn.unit)
	scaler := benchunit.CommonScale([]float64{max}, cls)
	suffix := ""
	switch {
	case pn.unit == "sec/op":
		suffix = "s"
	case cls == benchunit.Binary:
		suffix = "B"
	}

	p := plotstyle.NewPlot()
	p.Title.Text = pn.title
	if len(scales) > 0 {
		p.Title.Text += " (scale " + strings.Join(scales, ", ") + ")"
	}
	p.Title.TextStyle.Font.Size = 11
	p.Y.Label.Text = scaler.Prefix + suffix
	p.Y.Min = 0
	p.Y.Tick.Label.Font.Size = 9
	p.X.Tick.Label.Font.Size = 9
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil // the groups need no vertical lines
	p.Add(grid)

	barWidth := vg.Points(860) / vg.Length(len(groups)*slot)
	barWidth = vg.Length(math.Min(float64(barWidth), 28))
	var ticks []plot.Tick
	var errs errorPoints
	for gi, g := range groups {
		base := float64(gi * slot)
		ticks = append(ticks, plot.Tick{Value: base + float64(len(present)-1)/2, Label: g.label})
		for k, im := range present {
			j := slices.Index(g.t.Cols, im)
			if j < 0 || g.t.Cells[g.row][j] == nil {
				continue
			}
			sum := g.t.Cells[g.row][j].Summary
			bc, err := plotter.NewBarChart(plotter.Values{sum.Center / scaler.Factor}, barWidth)
			if err != nil {
				return nil, err
			}
			bc.XMin = base + float64(k)
			bc.Color = colors[im]
			bc.LineStyle.Width = vg.Points(0.5)
			bc.LineStyle.Color = color.Gray{0x60}
			p.Add(bc)
			if !math.IsInf(sum.Lo, 0) && !math.IsInf(sum.Hi, 0) {
				errs = append(errs, errorPoint{x: bc.XMin, y: sum.Center / scaler.Factor,
					low: (sum.Center - sum.Lo) / scaler.Factor, high: (sum.Hi - sum.Center) / scaler.Factor})
			}
		}
	}
	if len(errs) > 0 {
		eb, err := plotter.NewYErrorBars(errs)
		if err != nil {
			return nil, err
		}
		eb.CapWidth = barWidth / 2
		eb.LineStyle.Width = vg.Points(0.8)
		p.Add(eb)
	}
	p.X.Min = -1
	p.X.Max = float64(len(groups)*slot - 1)
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Length = 0
	return p, nil
}

// groupLabel names a table row in the chart: the benchmark ("ants" for
// AntsShape) and the row's values without their keys, with any scale=...
// part returned apart for the title.
func groupLabel(bench, row string) (label, scale string) {
	var parts []string
	if strings.HasSuffix(bench, "Shape") {
		parts = append(parts, strings.ToLower(strings.TrimSuffix(bench, "Shape")))
	}
	for _, kv := range strings.Split(row, "/") {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case kv == "":
		case ok && k == "scale":
			scale = v
		case ok:
			if k == "submitters" {
				v = k + "=" + v
			}
			parts = append(parts, v)
		default:
			parts = append(parts, kv)
		}
	}
	return strings.Join(parts, " "), scale
}

// errorPoint is one bar's confidence interval for plotter.YErrorBars.
type errorPoint struct{ x, y, low, high float64 }

type errorPoints []errorPoint

func (e errorPoints) Len() int                    { return len(e) }
func (e errorPoints) XY(i int) (float64, float64) { return e[i].x, e[i].y }
func (e errorPoints) YError(i int) (float64, float64) {
	return e[i].low, e[i].high
}
