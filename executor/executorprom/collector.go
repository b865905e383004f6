// Package executorprom exports an executor's Stats to Prometheus.
//
// [NewCollector] wraps any [executor.StatsReporter] in a
// prometheus.Collector that reads Stats once per scrape, so that the values
// of one scrape come from one snapshot:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(executorprom.NewCollector(ex.(executor.StatsReporter), executorprom.Opts{
//		ConstLabels: prometheus.Labels{"pool": "images"},
//	}))
//
// The metrics, with the default namespace and subsystem:
//
//	swapexec_executor_workers           gauge    bound on tasks running at once (Config.Workers, or the last Resize)
//	swapexec_executor_running           gauge    tasks running now
//	swapexec_executor_queued            gauge    tasks accepted and not yet started
//	swapexec_executor_submitted_total   counter  tasks accepted
//	swapexec_executor_completed_total   counter  accepted tasks that finished, panicked ones included
//	swapexec_executor_rejected_total    counter  submissions refused (overloaded, closed, ctx done)
//	swapexec_executor_panicked_total    counter  tasks that panicked
//
// To export several executors to one registry, give each its own
// ConstLabels (or Subsystem): a registry refuses two collectors that
// describe the same metrics with the same labels.
package executorprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/swapexec/swapexec/executor"
)

// Opts names the metrics a Collector exports. The zero value is valid.
type Opts struct {
	// Namespace and Subsystem prefix every metric name, as in
	// prometheus.BuildFQName. Empty means "swapexec" and "executor".
	Namespace, Subsystem string

	// ConstLabels are attached to every metric: use them to tell several
	// executors apart (for example {"pool": "images"}).
	ConstLabels prometheus.Labels
}

// Collector is a prometheus.Collector for an executor's Stats. Create it
// with NewCollector; it is safe for concurrent use, as Stats is.
type Collector struct {
	stats    executor.StatsReporter
	workers  *prometheus.Desc
	running  *prometheus.Desc
	queued   *prometheus.Desc
	counters [4]*prometheus.Desc // submitted, completed, rejected, panicked
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a Collector that reads r.Stats on every scrape.
func NewCollector(r executor.StatsReporter, opts Opts) *Collector {
	ns, sub := opts.Namespace, opts.Subsystem
	if ns == "" {
		ns = "swapexec"
	}
	if sub == "" {
		sub = "executor"
	}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(ns, sub, name), help, nil, opts.ConstLabels)
	}
	return &Collector{
		stats:   r,
		workers: desc("workers", "Bound on tasks running at once: Config.Workers, or the last Resize."),
		running: desc("running", "Tasks running now."),
		queued:  desc("queued", "Tasks accepted and not yet started."),
		counters: [4]*prometheus.Desc{
			desc("submitted_total", "Tasks accepted (Submit, SubmitContext or TrySubmit returned nil)."),
			desc("completed_total", "Accepted tasks that have finished, including those that panicked."),
			desc("rejected_total", "Submissions refused: overloaded, closed, or their context done."),
			desc("panicked_total", "Tasks that panicked."),
		},
	}
}

// Describe sends the descriptors of every metric the Collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.workers
	ch <- c.running
	ch <- c.queued
	for _, d := range c.counters {
		ch <- d
	}
}

// Collect reads Stats once and sends every metric from that snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats.Stats()
	ch <- prometheus.MustNewConstMetric(c.workers, prometheus.GaugeValue, float64(s.Workers))
	ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(s.Running))
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(s.Queued))
	for i, v := range [4]uint64{s.Submitted, s.Completed, s.Rejected, s.Panicked} {
		ch <- prometheus.MustNewConstMetric(c.counters[i], prometheus.CounterValue, float64(v))
	}
}
