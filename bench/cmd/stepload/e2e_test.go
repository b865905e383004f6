package main

import (
	"io"
	"math"
	"net/http"
	"testing"

	"github.com/swapexec/swapexec/bench/internal/demorun/demoruntest"
)

// TestMeasure builds httpdemo and runs two modes briefly against real
// processes. It asserts counts, not speeds: every scheduled request is
// sent and answered 200 or 503, the adaptive limit is read from /metrics,
// the fixed one is the given -fixed, and the servers exit 0.
func TestMeasure(t *testing.T) {
	bin := demoruntest.Build(t)
	c, err := parseConfig([]string{"-modes", "best-fixed,gradient2", "-fixed", "3", "-work-slots", "2",
		"-step", "400ms", "-ref", "400ms", "-lead", "100ms", "-scrape", "50ms", "-timeout", "20s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res := measure(c, bin, io.Discard)
	for _, p := range res.problems() {
		t.Error(p)
	}
	if len(res.Sweep) != 0 || len(res.Runs) != 2 {
		t.Fatalf("got %d sweep runs and %d runs; want 0 (-fixed given) and 2", len(res.Sweep), len(res.Runs))
	}
	for _, r := range res.Runs {
		var want float64
		for _, s := range r.Mode.Steps {
			want += s.Rate(c.capacity()) * s.Duration.Seconds()
		}
		if got := float64(len(r.Samples)); math.Abs(got-want) > 1 {
			t.Errorf("%s: %v requests; want the schedule's %v", r.Mode.Key, got, want)
		}
		for _, s := range r.Samples {
			if !s.OK() && s.Code != http.StatusServiceUnavailable {
				t.Errorf("%s: a request got status %d; want 200 or 503 (errors: %v)", r.Mode.Key, s.Code, r.Errors)
				break
			}
		}
		if len(r.Limits) == 0 {
			t.Errorf("%s: no limit readings", r.Mode.Key)
		}
		for _, p := range r.Limits {
			if r.Mode.Key == modeBestFixed && p.Limit != 3 {
				t.Errorf("best-fixed: limit read %v; want -fixed 3", p.Limit)
				break
			}
		}
	}
}
