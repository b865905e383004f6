package pondpool

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"

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
// 4, QueueSize: 1024}), blocking. submitters is the number of goroutines
// calling Submit: 1, or 8×GOMAXPROCS.
func BenchmarkSubmit(b *testing.B) {
	impls := []struct {
		name string
		new  func(b *testing.B) (submit func(func()) error, stop func())
	}{
		{"adapter", func(b *testing.B) (func(func()) error, func()) {
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
		{"raw", func(b *testing.B) (func(func()) error, func()) {
			p := pond.NewPool(benchWorkers, pond.WithQueueSize(benchQueue))
			return p.Go, p.StopAndWait
		}},
	}
	for _, impl := range impls {
		for _, submitters := range []int{1, 8 * runtime.GOMAXPROCS(0)} {
			impl := impl
			b.Run(fmt.Sprintf("impl=%s/submitters=%d", impl.name, submitters), func(b *testing.B) {
				submit, stop := impl.new(b)
				defer stop()
				var n atomic.Int64
				var wg sync.WaitGroup
				task := func() { n.Add(1); wg.Done() }
				b.ReportAllocs()
				b.ResetTimer()
				if submitters == 1 {
					for i := 0; i < b.N; i++ {
						wg.Add(1)
						if err := submit(task); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(8)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							wg.Add(1)
							if err := submit(task); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				if got := n.Load(); got != int64(b.N) {
					b.Fatalf("tasks run: got %d, want %d", got, b.N)
				}
			})
		}
	}
}
