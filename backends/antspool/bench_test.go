package antspool

import (
	"context"
	"testing"

	"github.com/panjf2000/ants/v2"

	"github.com/swapexec/swapexec/backends/internal/benchsubmit"
	"github.com/swapexec/swapexec/executor"
)

// benchWorkers is the pool size for every benchmark. QueueSize is 0 for
// the adapter: raw ants has no queue (a blocked Submit is its queue), so
// that is the like-for-like setting.
const benchWorkers = 4

// BenchmarkSubmit compares the adapter with raw ants, each running a tiny
// task (an atomic add) that signals a sync.WaitGroup, as a user of raw ants
// would wait for its tasks. impl=raw is ants.NewPool(4).Submit, blocking;
// impl=adapter is New(Config{Workers: 4}), blocking; impl=adapter-ctx is
// the same with SubmitContext(context.Background(), task), whose cost the
// contract bounds at 1.2× Submit. submitters is the number of goroutines
// calling Submit: 1, or 8×GOMAXPROCS.
func BenchmarkSubmit(b *testing.B) {
	impls := []benchsubmit.Impl{
		{Name: "adapter", New: func(b *testing.B) (func(func()) error, func()) {
			p, err := New(executor.Config{Workers: benchWorkers})
			if err != nil {
				b.Fatal(err)
			}
			return p.Submit, func() {
				if err := p.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{Name: "adapter-ctx", New: func(b *testing.B) (func(func()) error, func()) {
			p, err := New(executor.Config{Workers: benchWorkers})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			return func(task func()) error { return p.SubmitContext(ctx, task) }, func() {
				if err := p.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{Name: "raw", New: func(b *testing.B) (func(func()) error, func()) {
			p, err := ants.NewPool(benchWorkers)
			if err != nil {
				b.Fatal(err)
			}
			return p.Submit, func() {
				if err := p.ReleaseContext(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		}},
	}
	benchsubmit.Run(b, impls)
}
