package bench

import (
	"runtime/metrics"
	"time"
)

// peak is the most memory and goroutines in use during a run, above what was
// in use when it began.
type peak struct {
	bytes      uint64 // heap objects plus goroutine stacks
	goroutines uint64
}

func (p peak) max(q peak) peak {
	return peak{bytes: max(p.bytes, q.bytes), goroutines: max(p.goroutines, q.goroutines)}
}

// sampleEvery is how often the sampler reads the runtime's metrics. Reading
// them does not stop the world, and the shapes it watches run for tens of
// milliseconds or more.
const sampleEvery = time.Millisecond

// sampler records the peak of the runtime's memory and goroutine metrics
// from its start until stop.
type sampler struct {
	quit chan struct{}
	done chan peak
}

var sampledMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/stacks:bytes",
	"/sched/goroutines:goroutines",
}

// startSampler takes a baseline and starts sampling in a goroutine.
func startSampler() *sampler {
	samples := make([]metrics.Sample, len(sampledMetrics))
	for i, name := range sampledMetrics {
		samples[i].Name = name
	}
	read := func() peak {
		metrics.Read(samples)
		return peak{
			bytes:      samples[0].Value.Uint64() + samples[1].Value.Uint64(),
			goroutines: samples[2].Value.Uint64(),
		}
	}
	base := read()
	base.goroutines++ // the sampler's own goroutine, started below
	s := &sampler{quit: make(chan struct{}), done: make(chan peak, 1)}
	go func() {
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		top := base
		for {
			select {
			case <-tick.C:
				top = top.max(read())
			case <-s.quit:
				top = top.max(read())
				s.done <- peak{bytes: top.bytes - base.bytes, goroutines: top.goroutines - base.goroutines}
				return
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak above the baseline. It takes
// one last sample, so a run shorter than sampleEvery is still measured.
func (s *sampler) stop() peak {
	close(s.quit)
	return <-s.done
}
