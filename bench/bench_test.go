package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// throughputConfig is the executor for BenchmarkTiny and BenchmarkCPU.
var throughputConfig = executor.Config{Workers: 4, QueueSize: 1024}

// BenchmarkTiny measures the cost of handing over a task that does almost
// nothing (one atomic add): one op is one task.
func BenchmarkTiny(b *testing.B) {
	var n atomic.Int64
	benchThroughput(b, func() { n.Add(1) }, &n)
}

// BenchmarkCPU measures a task of about 1µs of computation: one op is one
// task.
func BenchmarkCPU(b *testing.B) {
	var n atomic.Int64
	benchThroughput(b, func() {
		spinSink.Add(spin(SpinIterations))
		n.Add(1)
	}, &n)
}

// spinSink keeps spin's result alive so the compiler cannot drop the loop.
var spinSink atomic.Uint64

// spin runs n rounds of xorshift64, a fixed amount of work with no memory
// traffic.
//
//go:noinline
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// benchThroughput runs every impl with one submitter and with 8×GOMAXPROCS
// submitters. task must increment done once per run, which checks afterwards
// that every task ran exactly once.
func benchThroughput(b *testing.B, task func(), done *atomic.Int64) {
	const parallelism = 8
	many := parallelism * runtime.GOMAXPROCS(0)
	for _, im := range impls() {
		im := im
		for _, submitters := range []int{1, many} {
			submitters := submitters
			b.Run(fmt.Sprintf("impl=%s/submitters=%d", im.name, submitters), func(b *testing.B) {
				ex, err := im.new(throughputConfig)
				if err != nil {
					b.Fatal(err)
				}
				done.Store(0)
				var failed atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				if submitters == 1 {
					for i := 0; i < b.N; i++ {
						if err := ex.Submit(task); err != nil {
							failed.Add(1)
						}
					}
				} else {
					b.SetParallelism(parallelism)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := ex.Submit(task); err != nil {
								failed.Add(1)
							}
						}
					})
				}
				if err := ex.Shutdown(context.Background()); err != nil {
					b.Fatalf("Shutdown: %v", err)
				}
				b.StopTimer()
				if f := failed.Load(); f > 0 {
					b.Fatalf("%d of %d Submits failed", f, b.N)
				}
				if got := done.Load(); got != int64(b.N) {
					b.Fatalf("%d tasks ran; want %d", got, b.N)
				}
			})
		}
	}
}

// BenchmarkAntsShape runs ants' published shape, divided by the scale: one
// op is the whole shape.
func BenchmarkAntsShape(b *testing.B) {
	scale := mustScale(b)
	s := AntsShape(scale)
	for _, im := range impls() {
		if !im.concurrent {
			continue
		}
		im := im
		b.Run(fmt.Sprintf("shape=%s/scale=1:%d/impl=%s", s.Name, scale, im.name), func(b *testing.B) {
			benchShape(b, im, s)
		})
	}
}

// BenchmarkPondShape runs pond's published shapes, divided by the scale: one
// op is the whole shape.
func BenchmarkPondShape(b *testing.B) {
	scale := mustScale(b)
	for _, s := range PondShapes(scale) {
		s := s
		for _, im := range impls() {
			if !im.concurrent {
				continue
			}
			im := im
			b.Run(fmt.Sprintf("shape=%s/scale=1:%d/impl=%s", s.Name, scale, im.name), func(b *testing.B) {
				benchShape(b, im, s)
			})
		}
	}
}

func mustScale(b *testing.B) int {
	b.Helper()
	scale, err := Scale()
	if err != nil {
		b.Fatal(err)
	}
	return scale
}

// benchShape times b.N runs of shape s on fresh executors from im, and
// reports the largest peak of memory and goroutines seen in any run.
func benchShape(b *testing.B, im impl, s Shape) {
	b.ReportAllocs()
	var peak peak
	for i := 0; i < b.N; i++ {
		// Start every run from a collected heap, so that one run's garbage
		// neither counts against the next nor triggers its collections.
		b.StopTimer()
		runtime.GC()
		b.StartTimer()

		sampler := startSampler()
		runShape(b, im, s)
		peak = peak.max(sampler.stop())
	}
	b.StopTimer()
	b.ReportMetric(float64(peak.bytes), "peak-B")
	b.ReportMetric(float64(peak.goroutines), "peak-goroutines")
}

// runShape builds an executor from im, lets s.Users goroutines each submit
// s.TasksPerUser sleeping tasks, and shuts it down; it fails b unless every
// task ran.
func runShape(b *testing.B, im impl, s Shape) {
	ex, err := im.new(executor.Config{Workers: s.Workers, QueueSize: s.QueueSize})
	if err != nil {
		b.Fatal(err)
	}
	var ran, failed atomic.Int64
	task := func() {
		time.Sleep(TaskSleep)
		ran.Add(1)
	}
	var users sync.WaitGroup
	users.Add(s.Users)
	for u := 0; u < s.Users; u++ {
		go func() {
			defer users.Done()
			for t := 0; t < s.TasksPerUser; t++ {
				if err := ex.Submit(task); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	users.Wait()
	if err := ex.Shutdown(context.Background()); err != nil {
		b.Fatalf("Shutdown: %v", err)
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d Submits failed", f, s.Tasks())
	}
	if got := ran.Load(); got != int64(s.Tasks()) {
		b.Fatalf("%d tasks ran; want %d", got, s.Tasks())
	}
}
