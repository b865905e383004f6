package adaptive

import (
	"context"
	"testing"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
	"github.com/swapexec/swapexec/executor/executortest"
)

// TestConformance runs the executor contract's suite on an Executor whose
// bounds are pinned to Config.Workers, over every backend with Resize: the
// wrapper must keep every promise the backend keeps. (The fake pool has no
// queue, so it is not a backend here.)
func TestConformance(t *testing.T) {
	for name, newBackend := range resizableBackends(t) {
		if name == "fake" {
			continue
		}
		newBackend := newBackend
		t.Run("backend="+name, func(t *testing.T) {
			executortest.Run(t, func(cfg executor.Config) (executor.Executor, error) {
				ex, err := newBackend(cfg)
				if err != nil {
					return nil, err
				}
				n, _ := backend.Normalize(cfg) // valid: the backend accepted it
				e, err := New(ex, Options{Min: n.Workers, Max: n.Workers, Initial: n.Workers})
				if err != nil {
					_ = ex.Shutdown(context.Background())
					return nil, err
				}
				return e, nil
			})
		})
	}
}
