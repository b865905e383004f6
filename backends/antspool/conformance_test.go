package antspool

import (
	"testing"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executortest"
)

// TestConformance runs the executor contract's suite. The suite takes
// goleak.IgnoreCurrent before it builds each executor, which already ignores
// ants' default-pool goroutines (they run from init), so no LeakOptions are
// passed: ignoring PackageGoroutines by name here would also hide a Pool's
// own purge or ticktock goroutine left running after Shutdown.
func TestConformance(t *testing.T) {
	executortest.Run(t, func(cfg executor.Config) (executor.Executor, error) {
		return New(cfg)
	})
}

// FuzzSchedule plays the suite's fuzzed schedules (submits, held tasks,
// panics, Goexit, nested submits, Stats, SubmitContext, TrySubmit, Resize,
// Shutdown) against a Pool. Run it with
// go test -fuzz=FuzzSchedule -fuzztime=30s ./backends/antspool.
func FuzzSchedule(f *testing.F) {
	executortest.Fuzz(f, func(cfg executor.Config) (executor.Executor, error) {
		return New(cfg)
	})
}
