package pondpool

import (
	"context"
	"testing"

	"github.com/alitto/pond/v2"

	"github.com/swapexec/swapexec/backends/internal/benchsubmit"
	"github.com/swapexec/swapexec/executor"
)

// benchWorkers and benchQueue size every pool in the benchmarks: 4 workers
// and a queue of 1024, for the adapter and for raw pond alike.
const (
	benchWorkers = 4
	benchQueue   = 1024
)

// BenchmarkSubmit compares the adapter with raw pond, each running a tiny
// task (an atomic add) that signals a sync.WaitGroup, as a user of raw pond
// would wait for its tasks. impl=raw is pond.NewPool(4,
// pond.WithQueueSize(1024)).Go, blocking; impl=adapter is New(Config{Workers:
// 4, QueueSize: 1024}), blocking; impl=adapter-ctx is the same with
// SubmitContext(context.Background(), task), whose cost the contract bounds
// at 1.2× Submit. submitters is the number of goroutines calling Submit: 1,
// or 8×GOMAXPROCS.
func BenchmarkSubmit(b *testing.B) {
	impls := []benchsubmit.Impl{
		{Name: "adapter", New: func(b *testing.B) (func(func()) error, func()) {
			p, err := New(executor.Config{Workers: benchWorkers, QueueSize: benchQueue})
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
			p, err := New(executor.Config{Workers: benchWorkers, QueueSize: benchQueue})
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
			p := pond.NewPool(benchWorkers, pond.WithQueueSize(benchQueue))
			return p.Go, p.StopAndWait
		}},
	}
	benchsubmit.Run(b, impls)
}
