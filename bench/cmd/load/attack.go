package main

import (
	"fmt"
	"io"
	"net/http"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

// summary is what one run measured, and which run it was.
type summary struct {
	Backend  string
	Scenario string // scenarioFixed, scenarioMax or scenarioOverload
	Mode     string // overload only: "blocking" or "nonblocking"
	Round    int    // fixed and max only: the 0-based round it ran in

	demorun.Result
}

const (
	scenarioFixed    = "fixed"
	scenarioMax      = "max"
	scenarioOverload = "overload"
)

// attack runs p with client and returns s with what it measured; see
// demorun.Attack for how long that takes.
func attack(client *http.Client, p demorun.Plan, s summary, progress io.Writer) summary {
	s.Result = demorun.Attack(client, p, fmt.Sprintf("load: %-8s", s.Backend), progress)
	return s
}
