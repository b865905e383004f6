package pondpool

import (
	"testing"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executortest"
)

// TestConformance runs the executor contract's suite.
func TestConformance(t *testing.T) {
	executortest.Run(t, func(cfg executor.Config) (executor.Executor, error) {
		return New(cfg)
	})
}

// FuzzSchedule plays the suite's fuzzed schedules of Submits, waits,
// panics, Goexits, nested submits, Stats, SubmitContext, TrySubmit, Resize
// and Shutdown against a Pool: go test -fuzz=FuzzSchedule -fuzztime=30s.
func FuzzSchedule(f *testing.F) {
	executortest.Fuzz(f, func(cfg executor.Config) (executor.Executor, error) {
		return New(cfg)
	})
}
