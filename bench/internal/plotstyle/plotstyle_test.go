package plotstyle

import (
	"bytes"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

func TestWebFonts(t *testing.T) {
	p := NewPlot()
	p.Title.Text = "title"
	c := vgsvg.New(vg.Points(200), vg.Points(100))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("font-family:Liberation Sans;")) {
		t.Fatalf("vgsvg no longer writes font-family:Liberation Sans; WebFonts would change nothing")
	}
	got := WebFonts(buf.Bytes())
	if bytes.Contains(got, []byte("font-family:Liberation Sans;")) || !bytes.Contains(got, []byte("Arial,Helvetica,sans-serif")) {
		t.Errorf("WebFonts left a font without fallbacks")
	}
}
