// Package benchsubmit is the benchmark the adapter backends share to compare
// themselves with the library they wrap: the same tiny task, the same
// submitters, the same way of waiting, so that benchstat -col /impl reads
// the adapter's cost directly.
package benchsubmit

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Impl is one implementation under test. New builds a fresh pool for one
// benchmark and returns its submit function and the function that stops
// it; it fails b if the pool cannot be built.
type Impl struct {
	Name string
	New  func(b *testing.B) (submit func(func()) error, stop func())
}

// Run runs, for every impl, sub-benchmarks named
// impl=<Name>/submitters=<n> for n = 1 and 8×GOMAXPROCS. Each op submits a
// tiny task (an atomic add) that signals a sync.WaitGroup, as a user of a raw
// pool would wait for its tasks; the wait is timed, and b fails unless every
// task ran once.
func Run(b *testing.B, impls []Impl) {
	for _, impl := range impls {
		for _, submitters := range []int{1, 8 * runtime.GOMAXPROCS(0)} {
			impl, submitters := impl, submitters
			b.Run(fmt.Sprintf("impl=%s/submitters=%d", impl.Name, submitters), func(b *testing.B) {
				submit, stop := impl.New(b)
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
					b.SetParallelism(8) // 8×GOMAXPROCS goroutines
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							wg.Add(1)
							if err := submit(task); err != nil {
								wg.Done()
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
