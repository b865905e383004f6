// Package plotstyle holds the look the bench module's charts share (the
// report's and the step load's), so they read alike.
package plotstyle

import (
	"bytes"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
)

// NewPlot returns a plot whose text is in Liberation Sans, which reads
// better than gonum's default serif at small sizes.
func NewPlot() *plot.Plot {
	p := plot.New()
	for _, f := range []*font.Font{
		&p.Title.TextStyle.Font,
		&p.X.Label.TextStyle.Font, &p.X.Tick.Label.Font,
		&p.Y.Label.TextStyle.Font, &p.Y.Tick.Label.Font,
	} {
		f.Variant = "Sans"
	}
	return p
}

// WebFonts returns svg, as gonum's vgsvg wrote it, with fallbacks after
// the font it names. vgsvg names only the font it measured the text with;
// Liberation Sans has Arial's metrics, so naming Arial and Helvetica after
// it keeps the layout on viewers that lack it, instead of a browser's
// default serif.
func WebFonts(svg []byte) []byte {
	return bytes.ReplaceAll(svg, []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
}
