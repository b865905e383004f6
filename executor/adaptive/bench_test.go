package adaptive

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// BenchmarkSubmit measures what the adaptive wrapper adds to each task: the
// same backend (Workers 4, QueueSize 1024, tiny tasks) driven raw and
// through an Executor with a default Gradient2 pinned to 4 (the timing,
// the inflight count and Update all run; Resize never does), from 1 and 16
// submitters. Compare with
//
//	go test -run '^$' -bench Submit -count 10 ./executor/adaptive > out.txt
//	benchstat -col /impl out.txt
func BenchmarkSubmit(b *testing.B) {
	const workers, queue = 4, 1024
	backends := resizableBackends(b)
	for _, name := range []string{"chanpool", "ants", "pond"} {
		newBackend, ok := backends[name]
		if !ok {
			continue
		}
		for _, impl := range []string{"raw", "adaptive"} {
			for _, submitters := range []int{1, 16} {
				b.Run(fmt.Sprintf("backend=%s/impl=%s/submitters=%d", name, impl, submitters), func(b *testing.B) {
					ex, err := newBackend(executor.Config{Workers: workers, QueueSize: queue})
					if err != nil {
						b.Fatal(err)
					}
					if impl == "adaptive" {
						if ex, err = New(ex, Options{Min: workers, Max: workers, Initial: workers}); err != nil {
							b.Fatal(err)
						}
					}
					var wg sync.WaitGroup
					task := func() { wg.Done() }
					per := b.N / submitters
					wg.Add(per * submitters)
					b.ResetTimer()
					var subs sync.WaitGroup
					for s := 0; s < submitters; s++ {
						subs.Add(1)
						go func() {
							defer subs.Done()
							for i := 0; i < per; i++ {
								if err := ex.Submit(task); err != nil {
									panic(err)
								}
							}
						}()
					}
					subs.Wait()
					wg.Wait()
					b.StopTimer()
					if err := ex.Shutdown(context.Background()); err != nil {
						b.Fatal(err)
					}
				})
			}
		}
	}
}

// BenchmarkObserve measures one sample's way through the Executor (the
// mutex and Gradient2.Update) from parallel goroutines, with a limit that
// does not change: the cost a task pays on finishing.
func BenchmarkObserve(b *testing.B) {
	p := newFakePool(4, false)
	e, err := New(p, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = e.Shutdown(context.Background()) }()
	now := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.observe(Sample{RTT: time.Millisecond, Inflight: 1}, now)
		}
	})
}
