package executorprom_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executorprom"
)

// Export a pool's Stats, labelled with the pool's name, to a registry that
// promhttp.HandlerFor serves.
func ExampleNewCollector() {
	pool, err := chanpool.New(executor.Config{Workers: 4, QueueSize: 16})
	if err != nil {
		panic(err)
	}
	defer pool.Shutdown(context.Background())

	reg := prometheus.NewRegistry()
	reg.MustRegister(executorprom.NewCollector(pool, executorprom.Opts{
		ConstLabels: prometheus.Labels{"pool": "thumbnails"},
	}))

	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP swapexec_executor_workers Bound on tasks running at once: Config.Workers, or the last Resize.
# TYPE swapexec_executor_workers gauge
swapexec_executor_workers{pool="thumbnails"} 4
`), "swapexec_executor_workers")
	fmt.Println(err)
	// Output: <nil>
}
