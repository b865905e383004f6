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
