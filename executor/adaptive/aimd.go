package adaptive

import (
	"fmt"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// AIMD defaults, Netflix's AIMDLimit.Builder defaults.
const (
	DefaultAIMDBackoffRatio = 0.9
	DefaultAIMDTimeout      = 5 * time.Second
)

// AIMDConfig configures an AIMD limit. The zero value is valid: every zero
// field takes the default of Netflix's AIMDLimit.
type AIMDConfig struct {
	// BackoffRatio multiplies the limit on every drop. Zero means
	// DefaultAIMDBackoffRatio (0.9); otherwise it must be in [0.5, 1), the
	// range Netflix's builder accepts.
	BackoffRatio float64

	// Timeout is the run time past which a task that did finish counts as a
	// drop. Zero means DefaultAIMDTimeout (5s); negative is an error.
	Timeout time.Duration
}

// AIMD is a loss-based limit: additive increase while tasks succeed, and
// multiplicative decrease on a drop, as Netflix's AIMDLimit
// (concurrency-limits-core, limit/AIMDLimit.java) defines it, with its
// parameters and defaults (BackoffRatio 0.9, Timeout 5 s):
//
//	on a drop, or an RTT above Timeout:  limit = int(limit * BackoffRatio)
//	else, if Inflight*2 >= limit:        limit grows by one per limit such samples
//	else (the limit is not in use):      unchanged
//
// and the result is clamped to [Min, Max]. Every sample counts, one at a
// time, as in Netflix (no window), with two departures, both TCP's rules
// for its congestion window (RFC 5681):
//
//   - A drop from a task that started before the last cut does not cut
//     again: TCP cuts its window once per round trip with losses. Those
//     tasks ran under the old limit, and finish together; without the
//     rule, a simulated downstream of 8 slots with a 20 ms Timeout saw the
//     limit fall from 40 to 1 in one burst of slow tasks, and goodput at
//     twice the capacity drop to 75%; with it, goodput stays at the
//     capacity.
//   - The limit grows by one once as many samples as the limit have
//     succeeded since it last changed, about once per round trip, as TCP's
//     congestion avoidance grows its window by one segment per round trip
//     (counted as RFC 3465 counts bytes), not by one per sample as
//     Netflix's does. Growth per sample runs at the throughput, hundreds a
//     second, while a loss shows only once a task started after the last
//     cut has failed. On httpdemo's step load with callers that give up
//     after 100 ms (reported as drops by executorhttp), at twice the
//     capacity: one per sample with the once-per-round cut held the limit
//     at 68 against 4 slots and served 0.18x the capacity, 78% of the
//     requests timing out; Netflix's rules exactly (a cut on every drop)
//     swung it between 1 and 61 and served 0.79x, 19% timing out; one per
//     round trip held it at 32 and served 0.93x, 1.1% timing out
//     (bench/results/stepload-2026-12-02-aimd-trials).
//
// AIMD sees no latency below Timeout, and an Executor feeds it no
// refusals (Netflix's limiter feeds its Limit none of its own rejections
// either): against a downstream that slows down as concurrency rises, it
// grows while tasks succeed, up to Max, unless Timeout is set to the run
// time you accept, or tasks report their losses (a downstream's timeouts,
// callers that gave up) as executor.Dropped through
// Executor.SubmitSampled (see the package documentation, "Drops"). Tasks
// that the limiter itself shed for waiting too long for a worker give no
// sample (see Executor.SubmitSampled): they make a poor loss signal, since
// there are more of them the lower the limit is, and under sustained
// overload they drove the limit down to Min. Prefer Gradient2 when latency
// is the signal.
//
// An AIMD is not safe for concurrent use on its own; the Executor
// serializes its calls.
type AIMD struct {
	cfg   AIMDConfig
	b     Bounds
	limit int

	// backedOff is when the limit was last cut: a drop from a task that
	// started before then reflects the old limit, and is not cut for again.
	backedOff time.Time

	// acked counts the samples that succeeded with the limit in use since
	// it last grew or was cut: at limit of them, it grows by one.
	acked int
}

// NewAIMD returns an AIMD limit configured by cfg, with zero fields set to
// their defaults, and bounds DefaultMin, DefaultMax and DefaultInitial until
// Reset gives others. A value out of range is an error wrapping
// executor.ErrInvalidConfig that names it.
func NewAIMD(cfg AIMDConfig) (*AIMD, error) {
	if cfg.BackoffRatio == 0 {
		cfg.BackoffRatio = DefaultAIMDBackoffRatio
	}
	if !(cfg.BackoffRatio >= 0.5 && cfg.BackoffRatio < 1) { // also catches NaN
		return nil, fmt.Errorf("adaptive: %w: AIMDConfig.BackoffRatio is %v; want a ratio in [0.5, 1)", executor.ErrInvalidConfig, cfg.BackoffRatio)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("adaptive: %w: AIMDConfig.Timeout is %v; want 0 (default %v) or more", executor.ErrInvalidConfig, cfg.Timeout, DefaultAIMDTimeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultAIMDTimeout
	}
	a := &AIMD{cfg: cfg}
	a.Reset(defaultBounds())
	return a, nil
}

// Reset implements Limit.
func (a *AIMD) Reset(b Bounds) {
	a.b = b
	a.limit = b.clamp(b.Initial)
	a.backedOff = time.Time{}
	a.acked = 0
}

// Update implements Limit.
func (a *AIMD) Update(s Sample, now time.Time) int {
	switch {
	case s.Dropped || s.RTT > a.cfg.Timeout:
		if now.Add(-s.RTT).Before(a.backedOff) {
			return a.limit // started under the limit before the last cut
		}
		a.backedOff = now
		a.limit = int(float64(a.limit) * a.cfg.BackoffRatio)
		a.acked = 0
	case s.Inflight*2 >= a.limit:
		a.acked++
		if a.acked >= a.limit {
			a.limit++
			a.acked = 0
		}
	}
	a.limit = a.b.clamp(a.limit)
	return a.limit
}

// Config returns the configuration in use, defaults filled in.
func (a *AIMD) Config() AIMDConfig { return a.cfg }
