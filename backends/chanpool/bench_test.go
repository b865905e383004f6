package chanpool_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
)

// The speed target: a tiny task through chanpool (Workers 4,
// QueueSize 1024) within 1.25x of a bare channel with 4 ranging workers, and
// no slower than pond v2's Go with the same queue. Compare with
//
//	go test -run '^$' -bench Submit -count 10 ./backends/chanpool > out.txt
//	benchstat -col /impl out.txt
const (
	benchWorkers = 4
	benchQueue   = 1024
)

// pool is what the benchmark drives: submit a task, and drain (wait for every
// submitted task to finish and the workers to exit).
type pool interface {
	submit(func())
	drain()
}

type chanpoolImpl struct{ p *chanpool.Pool }

func (c chanpoolImpl) submit(f func()) {
	if err := c.p.Submit(f); err != nil {
		panic(err)
	}
}
func (c chanpoolImpl) drain() {
	if err := c.p.Shutdown(context.Background()); err != nil {
		panic(err)
	}
}

type chanpoolCtx struct{ p *chanpool.Pool }

func (c chanpoolCtx) submit(f func()) {
	if err := c.p.SubmitContext(context.Background(), f); err != nil {
		panic(err)
	}
}
func (c chanpoolCtx) drain() { chanpoolImpl(c).drain() }

// bareChan is the baseline: the book's design with nothing added.
type bareChan struct {
	ch chan func()
	wg sync.WaitGroup
}

func newBareChan() *bareChan {
	b := &bareChan{ch: make(chan func(), benchQueue)}
	b.wg.Add(benchWorkers)
	for i := 0; i < benchWorkers; i++ {
		go func() {
			defer b.wg.Done()
			for f := range b.ch {
				f()
			}
		}()
	}
	return b
}
func (b *bareChan) submit(f func()) { b.ch <- f }
func (b *bareChan) drain()          { close(b.ch); b.wg.Wait() }

type pondImpl struct{ p pond.Pool }

func (p pondImpl) submit(f func()) { p.p.Go(f) }
func (p pondImpl) drain()          { p.p.StopAndWait() }

func BenchmarkSubmit(b *testing.B) {
	impls := []struct {
		name string
		new  func() pool
	}{
		{"chanpool", func() pool {
			p, err := chanpool.New(executor.Config{Workers: benchWorkers, QueueSize: benchQueue})
			if err != nil {
				b.Fatal(err)
			}
			return chanpoolImpl{p}
		}},
		// SubmitContext with a ctx that can never be done: the issue's
		// target is at most 1.2x Submit.
		{"chanpoolctx", func() pool {
			p, err := chanpool.New(executor.Config{Workers: benchWorkers, QueueSize: benchQueue})
			if err != nil {
				b.Fatal(err)
			}
			return chanpoolCtx{p}
		}},
		{"chan", func() pool { return newBareChan() }},
		{"pond", func() pool { return pondImpl{pond.NewPool(benchWorkers, pond.WithQueueSize(benchQueue))} }},
	}
	for _, submitters := range []int{1, 8 * runtime.GOMAXPROCS(0)} {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("impl=%s/submitters=%d", impl.name, submitters), func(b *testing.B) {
				benchSubmit(b, impl.new(), submitters)
			})
		}
	}
}

// benchSubmit submits b.N tiny tasks from submitters goroutines and drains
// the pool; the drain is timed, so a pool that queues fast but runs slowly
// gains nothing.
func benchSubmit(b *testing.B, p pool, submitters int) {
	var n atomic.Int64
	task := func() { n.Add(1) }
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	wg.Add(submitters)
	for s := 0; s < submitters; s++ {
		count := b.N / submitters
		if s < b.N%submitters {
			count++
		}
		go func() {
			defer wg.Done()
			for i := 0; i < count; i++ {
				p.submit(task)
			}
		}()
	}
	wg.Wait()
	p.drain()
	b.StopTimer()
	if got := n.Load(); got != int64(b.N) {
		b.Fatalf("ran %d tasks; want %d", got, b.N)
	}
}

// BenchmarkShutdown measures a whole life of a large pool: start Workers
// goroutines, run 4 tasks per worker, shut down. Its cost per worker should stay
// roughly flat as workers grow; it once grew with Workers, when every worker
// going idle during Shutdown scanned every other worker.
func BenchmarkShutdown(b *testing.B) {
	for _, workers := range []int{1000, 10000, 50000} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			var n atomic.Int64
			task := func() { n.Add(1) }
			for i := 0; i < b.N; i++ {
				p, err := chanpool.New(executor.Config{Workers: workers, QueueSize: 4 * workers})
				if err != nil {
					b.Fatal(err)
				}
				for j := 0; j < 4*workers; j++ {
					if err := p.Submit(task); err != nil {
						b.Fatal(err)
					}
				}
				if err := p.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*workers), "ns/worker")
		})
	}
}
