package adaptive

import "github.com/prometheus/client_golang/prometheus"

// Collector returns a prometheus.Collector that exports the current limit
// as the gauge swapexec_adaptive_limit, read at each scrape. To export the
// limits of several Executors from one registry, tell them apart with a
// label: prometheus.WrapRegistererWith(prometheus.Labels{"pool": "db"},
// reg).MustRegister(e.Collector()).
func (e *Executor) Collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "swapexec",
		Subsystem: "adaptive",
		Name:      "limit",
		Help:      "The adaptive concurrency limit: the most tasks the executor runs at once now.",
	}, func() float64 { return float64(e.Limit()) })
}
