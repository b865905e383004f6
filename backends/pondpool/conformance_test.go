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
