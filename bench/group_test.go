package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/group"
)

// fanOutTasks is the batch size of BenchmarkGroup and BenchmarkGroupResults.
const fanOutTasks = 10_000

// fanOutWorkers is the concurrency every contender gets: executor Workers,
// errgroup's SetLimit, pond's maxConcurrency, conc's WithMaxGoroutines.
const fanOutWorkers = 4

// batcher is one contender of the fan-out benchmarks: run runs one batch of
// n tasks, each calling task, and waits for all of them.
type batcher struct {
	name string
	// start builds what lives across batches (a shared pool), and returns
	// run and a stop that releases it.
	start func(b *testing.B) (run func(n int, task func() error) error, stop func())
}

// groupBatchers returns the errgroup-shaped contenders: group.Group over
// every backend (one long-lived executor, a new Group per batch, as a
// request handler on a shared pool would), errgroup with SetLimit, pond's
// own group on a long-lived pond pool, and conc's error pool; and two
// references: floor (the batch split over 4 plain goroutines, no per-task
// hand-over: what perfect parallelism costs on this machine) and
// submit-chanpool (chanpool's Submit with a hand-written WaitGroup: the
// executor without the group).
func groupBatchers() []batcher {
	var all []batcher
	for _, name := range backends.Names() {
		name := name
		all = append(all, batcher{"group-" + name, func(b *testing.B) (func(int, func() error) error, func()) {
			ex := newFanOutExecutor(b, name)
			return func(n int, task func() error) error {
				g := group.New(ex)
				for i := 0; i < n; i++ {
					g.Go(task)
				}
				return g.Wait()
			}, func() { shutdownFanOut(b, ex) }
		}})
	}
	return append(all,
		batcher{"floor", func(*testing.B) (func(int, func() error) error, func()) {
			return runFloor, func() {}
		}},
		batcher{"submit-chanpool", func(b *testing.B) (func(int, func() error) error, func()) {
			ex := newFanOutExecutor(b, "chanpool")
			return func(n int, task func() error) error {
				return submitBatch(ex, n, task)
			}, func() { shutdownFanOut(b, ex) }
		}},
		batcher{"errgroup", func(*testing.B) (func(int, func() error) error, func()) {
			return func(n int, task func() error) error {
				var g errgroup.Group
				g.SetLimit(fanOutWorkers)
				for i := 0; i < n; i++ {
					g.Go(task)
				}
				return g.Wait()
			}, func() {}
		}},
		batcher{"pondgroup", func(*testing.B) (func(int, func() error) error, func()) {
			p := pond.NewPool(fanOutWorkers)
			return func(n int, task func() error) error {
				g := p.NewGroup()
				for i := 0; i < n; i++ {
					g.SubmitErr(task)
				}
				return g.Wait()
			}, p.StopAndWait
		}},
		batcher{"conc", func(*testing.B) (func(int, func() error) error, func()) {
			return func(n int, task func() error) error {
				p := pool.New().WithErrors().WithMaxGoroutines(fanOutWorkers)
				for i := 0; i < n; i++ {
					p.Go(task)
				}
				return p.Wait()
			}, func() {}
		}},
	)
}

// runFloor is the floor contender: perfect parallelism with no per-task
// hand-over. It splits the batch into fanOutWorkers contiguous shares, each
// run by one plain goroutine started for the batch, and waits for them with
// a WaitGroup; the first error of each share is kept. What a contender costs
// above this is the price of handing tasks over one at a time.
func runFloor(n int, task func() error) error {
	var wg sync.WaitGroup
	var errs [fanOutWorkers]error
	for w := 0; w < fanOutWorkers; w++ {
		lo, hi := n*w/fanOutWorkers, n*(w+1)/fanOutWorkers
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if err := task(); err != nil && errs[w] == nil {
					errs[w] = err
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// submitBatch is the submit-chanpool contender: the executor alone, with no
// group. Each task is submitted with Submit in a closure that records its
// error and marks a WaitGroup done, the least a caller must write to wait
// for its own batch on a shared executor (no panic capture, no nested
// submits, no limit): what group-chanpool costs above it is the group's own
// overhead.
func submitBatch(ex executor.Executor, n int, task func() error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		wg.Add(1)
		err := ex.Submit(func() {
			defer wg.Done()
			if err := task(); err != nil {
				once.Do(func() { first = err })
			}
		})
		if err != nil {
			wg.Done()
			once.Do(func() { first = err })
		}
	}
	wg.Wait()
	return first
}

func newFanOutExecutor(b *testing.B, name string) executor.Executor {
	b.Helper()
	ex, err := backends.New(name, executor.Config{Workers: fanOutWorkers, QueueSize: throughputConfig.QueueSize})
	if err != nil {
		b.Fatal(err)
	}
	return ex
}

func shutdownFanOut(b *testing.B, ex executor.Executor) {
	b.Helper()
	if err := ex.Shutdown(context.Background()); err != nil {
		b.Fatalf("Shutdown: %v", err)
	}
}

// fanOutTaskKinds are the two task sizes of the fan-out benchmarks.
func fanOutTaskKinds(ran *atomic.Int64) []struct {
	name string
	f    func() error
} {
	return []struct {
		name string
		f    func() error
	}{
		{"tiny", func() error { ran.Add(1); return nil }},
		{"cpu", func() error { spinSink.Add(spin(SpinIterations)); ran.Add(1); return nil }},
	}
}

// BenchmarkGroup fans out a batch of 10,000 tasks and waits for it, through
// every errgroup-shaped contender with the same concurrency: one op is one
// batch, and ns/task is the time per task.
func BenchmarkGroup(b *testing.B) {
	var ran atomic.Int64
	for _, kind := range fanOutTaskKinds(&ran) {
		kind := kind
		for _, bt := range groupBatchers() {
			bt := bt
			b.Run(fmt.Sprintf("task=%s/impl=%s", kind.name, bt.name), func(b *testing.B) {
				run, stop := bt.start(b)
				defer stop()
				ran.Store(0)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := run(fanOutTasks, kind.f); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				reportPerTask(b)
				if got, want := ran.Load(), int64(b.N)*fanOutTasks; got != want {
					b.Fatalf("%d tasks ran; want %d", got, want)
				}
			})
		}
	}
}

// BenchmarkGroupResults fans out 10,000 tasks that each return a result and
// collects the results in input order: group.Map over every backend, pond's
// result pool group, and conc's result pool, with the same concurrency.
func BenchmarkGroupResults(b *testing.B) {
	in := make([]int, fanOutTasks)
	for i := range in {
		in[i] = i
	}
	f := func(_ context.Context, v int) (int, error) { return v * 2, nil }
	type runner func([]int) ([]int, error)
	type contender struct {
		name  string
		start func(b *testing.B) (runner, func())
	}
	var all []contender
	for _, name := range backends.Names() {
		name := name
		all = append(all, contender{"map-" + name, func(b *testing.B) (runner, func()) {
			ex := newFanOutExecutor(b, name)
			return func(in []int) ([]int, error) {
				return group.Map(context.Background(), ex, in, f)
			}, func() { shutdownFanOut(b, ex) }
		}})
	}
	all = append(all,
		contender{"pondresult", func(*testing.B) (runner, func()) {
			p := pond.NewResultPool[int](fanOutWorkers)
			return func(in []int) ([]int, error) {
				g := p.NewGroup()
				for _, v := range in {
					v := v
					g.SubmitErr(func() (int, error) { return f(context.Background(), v) })
				}
				return g.Wait()
			}, p.StopAndWait
		}},
		contender{"conc", func(*testing.B) (runner, func()) {
			return func(in []int) ([]int, error) {
				p := pool.NewWithResults[int]().WithErrors().WithMaxGoroutines(fanOutWorkers)
				for _, v := range in {
					v := v
					p.Go(func() (int, error) { return f(context.Background(), v) })
				}
				return p.Wait()
			}, func() {}
		}},
	)
	for _, c := range all {
		c := c
		b.Run("impl="+c.name, func(b *testing.B) {
			run, stop := c.start(b)
			defer stop()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, err := run(in)
				if err != nil {
					b.Fatal(err)
				}
				if len(out) != len(in) {
					b.Fatalf("%d results; want %d", len(out), len(in))
				}
			}
			b.StopTimer()
			reportPerTask(b)
		})
	}
}

// reportPerTask adds ns/task, the time of one batch divided by its tasks.
func reportPerTask(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*fanOutTasks), "ns/task")
}
