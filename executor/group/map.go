package group

import (
	"context"
	"fmt"

	"github.com/swapexec/swapexec/executor"
)

// Map calls f on every element of in, each as a task on ex, and returns the
// results in the order of in: result i is f's result for in[i].
//
// The tasks share a Context derived from ctx. The first error (f's, a
// panic as a *PanicError, or a failed submit as with Group.Go) cancels it,
// and Map submits no further task: it waits for those already submitted,
// then returns nil and that error. If ctx is done before every element was
// submitted, Map returns ctx's error (wrapped) unless a task failed first.
// With a nil error every f returned nil and the slice has len(in) results.
//
// Map is a Group from WithContext: its submits wait for room in ex as Go's
// do, and a Map called from inside a task runs f itself when ex has no room
// (see "Tasks that call Go" in the package documentation).
func Map[T, R any](ctx context.Context, ex executor.Executor, in []T, f func(context.Context, T) (R, error)) ([]R, error) {
	g, gctx := WithContext(ctx, ex)
	out := make([]R, len(in))
	for i := range in {
		i := i
		g.Go(func() error {
			r, err := f(gctx, in[i])
			if err != nil {
				return err
			}
			out[i] = r
			return nil
		})
		if g.ctxDone() && i < len(in)-1 {
			// Elements are left over: that is an error. If a task's error
			// canceled gctx, it was recorded first and this is ignored.
			g.fail(fmt.Errorf("group: Map stopped at element %d of %d: %w", i+1, len(in), gctx.Err()))
			break
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
