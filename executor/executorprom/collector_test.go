package executorprom_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executorprom"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixed reports the Stats it holds.
type fixed executor.Stats

func (f *fixed) Stats() executor.Stats { return executor.Stats(*f) }

func TestCollector(t *testing.T) {
	s := &fixed{Workers: 8, Running: 3, Queued: 2, Submitted: 40, Completed: 35, Rejected: 4, Panicked: 1}
	c := executorprom.NewCollector(s, executorprom.Opts{})
	want := `
# HELP swapexec_executor_completed_total Accepted tasks that have finished, including those that panicked.
# TYPE swapexec_executor_completed_total counter
swapexec_executor_completed_total 35
# HELP swapexec_executor_panicked_total Tasks that panicked.
# TYPE swapexec_executor_panicked_total counter
swapexec_executor_panicked_total 1
# HELP swapexec_executor_queued Tasks accepted and not yet started.
# TYPE swapexec_executor_queued gauge
swapexec_executor_queued 2
# HELP swapexec_executor_rejected_total Submissions refused: overloaded, closed, or their context done.
# TYPE swapexec_executor_rejected_total counter
swapexec_executor_rejected_total 4
# HELP swapexec_executor_running Tasks running now.
# TYPE swapexec_executor_running gauge
swapexec_executor_running 3
# HELP swapexec_executor_submitted_total Tasks accepted (Submit, SubmitContext or TrySubmit returned nil).
# TYPE swapexec_executor_submitted_total counter
swapexec_executor_submitted_total 40
# HELP swapexec_executor_workers Bound on tasks running at once: Config.Workers, or the last Resize.
# TYPE swapexec_executor_workers gauge
swapexec_executor_workers 8
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// Each scrape reads Stats afresh.
	s.Workers = 4
	want = `
# HELP swapexec_executor_workers Bound on tasks running at once: Config.Workers, or the last Resize.
# TYPE swapexec_executor_workers gauge
swapexec_executor_workers 4
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "swapexec_executor_workers"); err != nil {
		t.Errorf("after Stats changed: %v", err)
	}
}

func TestCollectorNamesAndLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	for _, pool := range []string{"images", "mail"} {
		c := executorprom.NewCollector(&fixed{Workers: 2}, executorprom.Opts{
			Namespace: "shop", Subsystem: "pool", ConstLabels: prometheus.Labels{"pool": pool},
		})
		if err := reg.Register(c); err != nil {
			t.Fatalf("registering the %s collector: %v", pool, err)
		}
	}
	n, err := testutil.GatherAndCount(reg, "shop_pool_workers")
	if err != nil || n != 2 {
		t.Errorf("shop_pool_workers series: got %d (%v), want 2, one per pool", n, err)
	}
	// The same labels twice is a registration error, not a silent clash.
	dup := executorprom.NewCollector(&fixed{}, executorprom.Opts{Namespace: "shop", Subsystem: "pool", ConstLabels: prometheus.Labels{"pool": "mail"}})
	if err := reg.Register(dup); err == nil {
		t.Error("registering a second collector with the same names and labels: got nil, want an error")
	}
}
