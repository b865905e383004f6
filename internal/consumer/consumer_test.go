package consumer

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/backends/antspool"
	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executorprom"
	"github.com/swapexec/swapexec/executor/executortest"
)

func TestMain(m *testing.M) {
	var opts []goleak.Option
	for _, f := range antspool.PackageGoroutines() {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	goleak.VerifyTestMain(m, opts...)
}

// counting is the user's own backend, as many are in practice: a decorator
// over a pool (here chanpool) that counts what it is asked to run, for a
// tracing or billing hook. It keeps the contract by forwarding it.
type counting struct {
	*chanpool.Pool
	calls *atomic.Int64
}

func (c counting) Submit(task func()) error {
	c.calls.Add(1)
	return c.Pool.Submit(task)
}

var calls atomic.Int64

func newCounting(cfg executor.Config) (executor.Executor, error) {
	p, err := chanpool.New(cfg)
	if err != nil {
		return nil, err
	}
	return counting{Pool: p, calls: &calls}, nil
}

func TestOutsideBackend(t *testing.T) {
	if err := backends.Register("counting", newCounting); err != nil {
		t.Fatalf("Register: %v", err)
	}
	executortest.Run(t, func(cfg executor.Config) (executor.Executor, error) {
		return backends.New("counting", cfg)
	})
	if calls.Load() == 0 {
		t.Error("the suite, run through backends.New(\"counting\"), never reached the registered backend")
	}
}

func TestCollector(t *testing.T) {
	ex, err := backends.New("pond", executor.Config{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Shutdown(context.Background())
	done := make(chan struct{})
	if err := ex.Submit(func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := ex.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(executorprom.NewCollector(ex.(executor.StatsReporter), executorprom.Opts{
		Namespace: "shop", ConstLabels: prometheus.Labels{"pool": "mail"},
	}))
	want := `
# HELP shop_executor_completed_total Accepted tasks that have finished, including those that panicked.
# TYPE shop_executor_completed_total counter
shop_executor_completed_total{pool="mail"} 1
# HELP shop_executor_workers Bound on tasks running at once: Config.Workers, or the last Resize.
# TYPE shop_executor_workers gauge
shop_executor_workers{pool="mail"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "shop_executor_completed_total", "shop_executor_workers"); err != nil {
		t.Error(err)
	}
}
