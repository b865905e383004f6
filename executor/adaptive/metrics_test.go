package adaptive

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollector(t *testing.T) {
	script := []int{7}
	l := newRecordingLimit(func(n int) int { return script[0] })
	p := newFakePool(1, false)
	p.resized = make(chan int, 4)
	e, err := New(p, Options{Initial: 3, Limit: l})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, e)
	<-p.resized

	want := func(v string) string {
		return `
# HELP swapexec_adaptive_limit The adaptive concurrency limit: the most tasks the executor runs at once now.
# TYPE swapexec_adaptive_limit gauge
swapexec_adaptive_limit` + v + "\n"
	}
	c := e.Collector()
	if err := testutil.CollectAndCompare(c, strings.NewReader(want(" 3"))); err != nil {
		t.Errorf("before any sample: %v", err)
	}
	if err := e.Submit(func() {}); err != nil {
		t.Fatal(err)
	}
	// The gauge is read at each scrape, and follows Resize.
	waitFor(t, func() bool { return e.Limit() == 7 })
	if err := testutil.CollectAndCompare(c, strings.NewReader(want(" 7"))); err != nil {
		t.Errorf("after the limit changed: %v", err)
	}

	// Two Executors in one registry, told apart by a label.
	reg := prometheus.NewRegistry()
	prometheus.WrapRegistererWith(prometheus.Labels{"pool": "a"}, reg).MustRegister(c)
	prometheus.WrapRegistererWith(prometheus.Labels{"pool": "b"}, reg).MustRegister(e.Collector())
	if n, err := testutil.GatherAndCount(reg, "swapexec_adaptive_limit"); err != nil || n != 2 {
		t.Errorf("GatherAndCount = %d, %v; want 2 series", n, err)
	}
}
