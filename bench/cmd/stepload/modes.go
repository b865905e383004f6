package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// mode is one way of bounding concurrency, run on a fresh server.
type mode struct {
	Key   string   // a modeX constant, or "fixed N max-wait" in the sweep
	Label string   // for tables and the chart's legend
	Args  []string // httpdemo flags besides the common ones (backend, downstream)
	Steps schedule

	// Limit is how the run's limit is known: "adaptive" reads
	// swapexec_adaptive_limit from /metrics, "workers" reads
	// swapexec_executor_workers, and "" means the fixed ConstLimit (which
	// a sweep mode also sets to its -workers).
	Limit      string
	ConstLimit int

	// HAProxy > 0 puts HAProxy in front of -backend none, with this
	// maxconn on its one server and c.MaxWait as timeout queue.
	HAProxy int
	// Backend is httpdemo's -backend: chanpool when empty.
	Backend string
	// Timeout, if not zero, is how long the load generator waits for a
	// response in this mode, instead of the config's Timeout.
	Timeout time.Duration
	// Admission is a sweep mode's flags for what happens past the limit
	// (ConstLimit), for the best-fixed mode to reuse.
	Admission []string
}

// generatorSlots multiplies the downstream's slots in the generator
// check, so that only the machine can limit it.
const generatorSlots = 20

const (
	limitAdaptive = "adaptive"
	limitWorkers  = "workers"
)

// buildModes returns the modes c names, in c's order, with fixed as the
// best fixed limit (0 if no sweep was needed) and fixedArgs its admission
// flags.
func buildModes(c config, fixed int, fixedArgs []string) []mode {
	full := fullSchedule(c.Ref, c.Step)
	mw := []string{"-max-wait", c.MaxWait.String()}
	var out []mode
	for _, key := range c.Modes {
		m := mode{Key: key, Steps: full, Limit: limitWorkers}
		switch key {
		case modeBlocking:
			m.Label = fmt.Sprintf("-workers %d (blocking)", c.Workers)
			m.Args = []string{"-workers", strconv.Itoa(c.Workers)}
		case modeWaitBudget:
			m.Label = fmt.Sprintf("-workers %d -max-wait %s", c.Workers, c.MaxWait)
			m.Args = append([]string{"-workers", strconv.Itoa(c.Workers)}, mw...)
		case modeBestFixed:
			m.Args = append([]string{"-workers", strconv.Itoa(fixed)}, fixedArgs...)
			m.Label = "best fixed: " + joinArgs(m.Args)
		case modeAIMD:
			m.Label = "-limit aimd -max-wait " + c.MaxWait.String()
			m.Args = append([]string{"-limit", "aimd"}, mw...)
			m.Limit = limitAdaptive
		case modeAIMDTuned:
			// A tuned value: twice the downstream's unloaded time, which
			// the untuned command line cannot know.
			to := (2 * c.WorkTime).String()
			m.Label = "-limit aimd -max-wait " + c.MaxWait.String() + " -aimd-timeout " + to
			m.Args = append(append([]string{"-limit", "aimd"}, mw...), "-aimd-timeout", to)
			m.Limit = limitAdaptive
		case modeAIMDLoss:
			m.Label = "-limit aimd -max-wait " + c.MaxWait.String() + ", callers give up at " + c.Deadline.String()
			m.Args = append([]string{"-limit", "aimd"}, mw...)
			m.Timeout = c.Deadline
			m.Limit = limitAdaptive
		case modeG2Fixed:
			m.Label = "-limit gradient2 -max-wait " + c.MaxWait.String() + " -codel-target 0"
			m.Args = append(append([]string{"-limit", "gradient2"}, mw...), "-codel-target", "0")
			m.Limit = limitAdaptive
		case modeGradient2:
			m.Label = "-limit gradient2 -max-wait " + c.MaxWait.String()
			m.Args = append([]string{"-limit", "gradient2"}, mw...)
			m.Limit = limitAdaptive
		case modeG2Shed:
			m.Label = "-limit gradient2 -nonblocking"
			m.Args = []string{"-limit", "gradient2", "-nonblocking"}
			m.Limit = limitAdaptive
		case modeHAProxy:
			m.Label = fmt.Sprintf("HAProxy maxconn %d, timeout queue %s (-backend none)", fixed, c.MaxWait)
			m.HAProxy = fixed
			m.Backend = "none"
			m.Limit, m.ConstLimit = "", fixed
		case modeGenerator:
			m.Label = fmt.Sprintf("generator check: -backend none -work-slots %d (no bottleneck)", generatorSlots*c.WorkSlots)
			m.Args = []string{"-work-slots", strconv.Itoa(generatorSlots * c.WorkSlots)}
			m.Backend = "none"
			m.Steps = schedule{{Name: "200%", Load: 2.00, Duration: c.Step}}
			m.Limit = ""
		case modeG2Alone:
			m.Label = "-limit gradient2 (blocking, no budget)"
			m.Args = []string{"-limit", "gradient2"}
			m.Steps = overloadSchedule(c.Ref, c.Step)
			m.Limit = limitAdaptive
		}
		out = append(out, m)
	}
	return out
}

// sweepWarmup is the most a sweep run spends unloaded before its 200% step:
// it only warms the server up.
const sweepWarmup = 2 * time.Second

// sweepModes returns one short run per fixed limit and admission kind.
func sweepModes(c config) []mode {
	var out []mode
	for _, adm := range c.SweepAdmission {
		for _, n := range c.Sweep {
			args := []string{"-workers", strconv.Itoa(n)}
			args = append(args, admissionArgs(adm, c.MaxWait)...)
			out = append(out, mode{Key: "sweep", Label: joinArgs(args), Args: args,
				Steps: overloadSchedule(min(c.Ref, sweepWarmup), c.SweepOn), Limit: limitWorkers,
				ConstLimit: n, Admission: admissionArgs(adm, c.MaxWait)})
		}
	}
	return out
}

// admissionArgs are the httpdemo flags for a sweep admission kind.
func admissionArgs(kind string, maxWait time.Duration) []string {
	if kind == admitNonblocking {
		return []string{"-nonblocking"}
	}
	return []string{"-max-wait", maxWait.String()}
}

// serverArgs are the httpdemo flags every run of m gets: the backend, the
// downstream, and its slowdown at slowAt from listening, if m's schedule
// has one; then m's own, which win over them.
func serverArgs(c config, m mode, slowAt time.Duration) []string {
	backend := m.Backend
	if backend == "" {
		backend = "chanpool"
	}
	args := []string{"-backend", backend, "-work-slots", strconv.Itoa(c.WorkSlots), "-work-time", c.WorkTime.String()}
	if slowAt > 0 {
		args = append(args, "-work-slowdown-at", slowAt.String())
	}
	return append(args, m.Args...)
}

func joinArgs(args []string) string { return strings.Join(args, " ") }
