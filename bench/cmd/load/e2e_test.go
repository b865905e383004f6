package main

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/swapexec/swapexec/bench/internal/demorun/demoruntest"
)

// TestMeasure builds httpdemo and runs every scenario briefly against real
// processes, two rounds. It asserts counts and order, not speeds: the
// second round runs the backends in rotated order, every request of the
// fixed and maximum runs succeeds, the blocking overload run sheds nothing,
// the nonblocking one sheds some (it gets three times its capacity), and
// each server exits 0 after SIGTERM.
func TestMeasure(t *testing.T) {
	bin := demoruntest.Build(t)
	c, err := parseConfig([]string{"-backends", "chanpool,none", "-rounds", "2", "-overload-backends", "ants",
		"-duration", "300ms", "-warmup", "0s", "-rate", "200", "-clients", "8",
		"-overload-duration", "400ms", "-overload-rate", "240", "-timeout", "20s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sums, problems := measure(c, bin, io.Discard)
	if len(problems) > 0 {
		t.Errorf("problems: %s", strings.Join(problems, "\n"))
	}
	if len(sums) != 10 {
		t.Fatalf("got %d summaries; want 10 (2 rounds × 2 backends × 2 runs, 1 × 2 overload modes)", len(sums))
	}
	var order []string
	for _, s := range sums {
		order = append(order, fmt.Sprintf("%s/%s/%d", s.Backend, s.Scenario, s.Round))
	}
	want := "chanpool/fixed/0 chanpool/max/0 none/fixed/0 none/max/0 none/fixed/1 none/max/1 chanpool/fixed/1 chanpool/max/1 ants/overload/0 ants/overload/0"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("runs went\n %s; want\n %s", got, want)
	}
	for _, s := range sums {
		name := s.Backend + " " + s.Scenario + " " + s.Mode
		if s.Sent == 0 || s.Failed != 0 || s.OK+s.Shed != s.Sent {
			t.Errorf("%s: sent %d, ok %d, 503 %d, failed %d (%v); want no failures", name, s.Sent, s.OK, s.Shed, s.Failed, s.Errors)
		}
		switch {
		case s.Mode == "nonblocking" && s.Shed == 0:
			t.Errorf("%s: no 503 at three times capacity; want shedding", name)
		case s.Mode != "nonblocking" && s.Shed != 0:
			t.Errorf("%s: %d 503s; want none without -nonblocking", name, s.Shed)
		}
	}
}
