package main

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/swapexec/swapexec/bench/internal/plotstyle"
)

// modeStyle is how a mode's lines look: Okabe and Ito's colour-blind-safe
// colours, the fixed modes in warm or grey tones, the adaptive ones in
// greens and blues.
func modeStyle(key string) (color.Color, []vg.Length) {
	dash := []vg.Length{vg.Points(5), vg.Points(3)}
	switch key {
	case modeBlocking:
		return rgb(0x80, 0x80, 0x80), nil
	case modeWaitBudget:
		return rgb(0xD5, 0x5E, 0x00), nil
	case modeBestFixed:
		return rgb(0x00, 0x72, 0xB2), nil
	case modeAIMD:
		return rgb(0xE6, 0x9F, 0x00), nil
	case modeAIMDTuned:
		return rgb(0xE6, 0x9F, 0x00), dash
	case modeAIMDLoss:
		return rgb(0xE6, 0x9F, 0x00), []vg.Length{vg.Points(1), vg.Points(2)}
	case modeGradient2:
		return rgb(0x00, 0x9E, 0x73), nil
	case modeG2Fixed:
		return rgb(0x00, 0x9E, 0x73), dash
	case modeG2Shed:
		return rgb(0x56, 0xB4, 0xE9), dash
	case modeHAProxy:
		return rgb(0xCC, 0x79, 0xA7), nil
	default: // gradient2-alone
		return rgb(0x00, 0x00, 0x00), dash
	}
}

func rgb(r, g, b uint8) color.Color { return color.RGBA{r, g, b, 0xff} }

// series is one mode's points in one panel.
type series struct {
	key string
	xys plotter.XYs
}

// chartSeries returns, per run, its goodput, p99 (ms) and limit over
// time, in seconds on the full schedule's clock: a run with fewer steps
// is shifted so its last step lines up with the step of that name.
func chartSeries(c config, runs []trial) (good, p99, limit []series) {
	full := fullSchedule(c.Ref, c.Step)
	for _, r := range runs {
		if len(r.Samples) == 0 || r.Mode.Key == modeGenerator {
			continue
		}
		last := len(r.Mode.Steps) - 1
		var shift time.Duration
		if j := full.stepIndex(r.Mode.Steps[last].Name); j >= 0 {
			shift = full.Start(j) - r.Mode.Steps.Start(last)
		}
		var g, p, l plotter.XYs
		for _, b := range r.buckets(c.Bucket) {
			x := (b.At + shift).Seconds()
			g = append(g, plotter.XY{X: x, Y: b.Goodput})
			if b.P99 > 0 { // a log scale has no 0; no 2xx leaves a gap
				p = append(p, plotter.XY{X: x, Y: float64(b.P99) / float64(time.Millisecond)})
			}
		}
		for _, pt := range r.Limits {
			if pt.Limit > 0 && pt.At <= r.Mode.Steps.Total() {
				l = append(l, plotter.XY{X: (pt.At + shift).Seconds(), Y: pt.Limit})
			}
		}
		good = append(good, series{r.Mode.Key, g})
		p99 = append(p99, series{r.Mode.Key, p})
		limit = append(limit, series{r.Mode.Key, l})
	}
	return good, p99, limit
}

// writeChartFile draws goodput, p99 and limit over time, one line per
// mode, with the steps marked, into path: PNG if its name ends in .png,
// else SVG.
func writeChartFile(path string, c config, res results) error {
	var buf bytes.Buffer
	newCanvas := svgCanvas
	if strings.HasSuffix(path, ".png") {
		newCanvas = pngCanvas
	}
	if err := writeChart(&buf, c, res.Runs, newCanvas); err != nil {
		return fmt.Errorf("stepload: chart: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("stepload: chart: %w", err)
	}
	return nil
}

// canvas is what the chart is drawn on and written from.
type canvas interface {
	vg.CanvasWriterTo
}

func svgCanvas(w, h vg.Length) canvas { return vgsvg.New(w, h) }
func pngCanvas(w, h vg.Length) canvas { return vgimg.PngCanvas{Canvas: vgimg.New(w, h)} }

func writeChart(buf *bytes.Buffer, c config, runs []trial, newCanvas func(w, h vg.Length) canvas) error {
	good, p99, limit := chartSeries(c, runs)
	if len(good) == 0 {
		return fmt.Errorf("no run has samples")
	}
	full := fullSchedule(c.Ref, c.Step)
	panels := []struct {
		title string
		ylab  string
		log   bool
		s     []series
	}{
		{fmt.Sprintf("Goodput: 2xx per second (capacity %.0f, then %.0f from \"100%%, slow\")", c.capacity(), c.capacity()/2), "req/s", false, good},
		{"p99 latency of 2xx (log scale)", "ms", true, p99},
		{"Concurrency limit (log scale; HAProxy: maxconn)", "limit", true, limit},
	}
	const (
		width  = 1000
		header = 90
		rowH   = 260
		margin = 8
	)
	W, H := vg.Points(width), vg.Points(header+rowH*float64(len(panels)))
	cv := newCanvas(W, H)
	dc := draw.New(cv)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	var labels []legendItem
	for _, r := range runs {
		if len(r.Samples) > 0 && r.Mode.Key != modeGenerator {
			labels = append(labels, legendItem{r.Mode.Key, r.Mode.Label})
		}
	}
	drawLegend(draw.Crop(dc, margin, -margin, H-vg.Points(header), -4), fmt.Sprintf(
		"swapexec: step load on /work (-work-slots %d -work-time %s), open loop; steps: %s", c.WorkSlots, c.WorkTime, stepNames(full)), labels)

	for i, pn := range panels {
		p := plotstyle.NewPlot()
		p.Title.Text = pn.title
		p.Title.TextStyle.Font.Size = 11
		p.Y.Label.Text = pn.ylab
		if pn.log {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		}
		p.Add(plotter.NewGrid())
		ymax := 0.0
		for _, s := range pn.s {
			for _, xy := range s.xys {
				ymax = max(ymax, xy.Y)
			}
		}
		// Step boundaries, as light vertical lines.
		for j := 1; j < len(full); j++ {
			x := full.Start(j).Seconds()
			lo := 0.0
			if pn.log {
				lo = 1
			}
			ln, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo}, {X: x, Y: max(ymax, lo*10)}})
			if err != nil {
				return err
			}
			ln.Color = color.Gray{0xB0}
			ln.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
			p.Add(ln)
		}
		for _, s := range pn.s {
			if len(s.xys) == 0 {
				continue
			}
			ln, err := plotter.NewLine(s.xys)
			if err != nil {
				return err
			}
			ln.Color, ln.Dashes = modeStyle(s.key)
			ln.Width = vg.Points(1.3)
			p.Add(ln)
		}
		// After the lines: Add widens the axes to their data.
		p.X.Min, p.X.Max = 0, full.Total().Seconds()
		p.X.Label.Text = "time (s); each tick is a step's start"
		var ticks []plot.Tick
		for j, st := range full {
			at := full.Start(j).Seconds()
			ticks = append(ticks, plot.Tick{Value: at, Label: fmt.Sprintf("%.0fs %s", at, st.Name)})
		}
		ticks = append(ticks, plot.Tick{Value: full.Total().Seconds(), Label: fmt.Sprintf("%.0fs", full.Total().Seconds())})
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		if pn.log {
			p.Y.Min, p.Y.Max = 1, max(10, ymax*1.5)
		} else {
			p.Y.Min, p.Y.Max = 0, ymax*1.08
		}
		top := H - vg.Points(header) - vg.Points(rowH)*vg.Length(i)
		p.Draw(draw.Crop(dc, margin, -margin, top-vg.Points(rowH), top-H-6))
	}
	if _, err := cv.WriteTo(buf); err != nil {
		return err
	}
	b := plotstyle.WebFonts(buf.Bytes())
	buf.Reset()
	buf.Write(b)
	return nil
}

type legendItem struct{ key, label string }

// drawLegend writes the title and a legend of two columns.
func drawLegend(c draw.Canvas, title string, items []legendItem) {
	style := plotstyle.NewPlot().Title.TextStyle
	style.XAlign, style.YAlign = draw.XLeft, draw.YTop
	style.Font.Size = 11
	y := c.Max.Y
	c.FillText(style, vg.Point{X: c.Min.X, Y: y}, title)
	style.Font.Size = 9
	style.YAlign = draw.YCenter
	colW := (c.Max.X - c.Min.X) / 2
	for i, it := range items {
		x := c.Min.X + colW*vg.Length(i%2)
		ly := y - 22 - vg.Length(i/2)*12
		col, dash := modeStyle(it.key)
		c.StrokeLine2(draw.LineStyle{Color: col, Width: vg.Points(2), Dashes: dash}, x, ly, x+20, ly)
		c.FillText(style, vg.Point{X: x + 26, Y: ly}, it.label)
	}
}

func stepNames(sc schedule) string {
	out := ""
	for i, s := range sc {
		if i > 0 {
			out += " → "
		}
		out += s.Name
	}
	return out
}
