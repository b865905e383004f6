package adaptive

import (
	"fmt"
	"math"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// Gradient2 defaults. Those of the algorithm are Netflix's
// Gradient2Limit.Builder defaults, and those of the sampling window Netflix's
// WindowedLimit defaults, except MinWindow and with it LongWindow (see
// Gradient2Config).
const (
	DefaultGradient2Smoothing     = 0.2
	DefaultGradient2QueueSize     = 4
	DefaultGradient2RTTTolerance  = 1.5
	DefaultGradient2LongWindow    = 6000
	DefaultGradient2MinWindow     = 100 * time.Millisecond
	DefaultGradient2MaxWindow     = time.Second
	DefaultGradient2WindowSamples = 10
	DefaultGradient2MinRTT        = 100 * time.Microsecond
	DefaultGradient2InUse         = 0.5
)

// longWarmup is how many windows the long-term RTT averages plainly before
// it turns into an exponential average (Netflix's ExpAvgMeasurement(600, 10)).
const longWarmup = 10

// Gradient2Config configures a Gradient2 limit. The zero value is valid:
// every zero field takes its default.
type Gradient2Config struct {
	// Smoothing is the weight of each new estimate against the current
	// limit, in (0, 1]: 1 takes the estimate as it is. Zero means
	// DefaultGradient2Smoothing (0.2).
	Smoothing float64

	// QueueSize is how much the limit may grow per window while latency
	// stays within tolerance (Netflix's queueSize). Zero means
	// DefaultGradient2QueueSize (4); negative is an error.
	QueueSize int

	// RTTTolerance is how much the short-term RTT may exceed the long-term
	// one before the limit shrinks: 2 accepts twice the latency. Zero means
	// DefaultGradient2RTTTolerance (1.5); otherwise it must be at least 1.
	RTTTolerance float64

	// LongWindow is the span, in windows, of the exponential average that
	// tracks the long-term RTT. Zero means DefaultGradient2LongWindow: 6000,
	// ten minutes of 100 ms windows, the span of Netflix's default of 600
	// one-second windows. A shorter span lets the limit follow a downstream
	// that slows for good sooner, and lets it drift up sooner under
	// sustained overload. Negative is an error.
	LongWindow int

	// MinWindow and MaxWindow bound each sampling window: a window lasts
	// twice the least RTT seen in the previous one, but at least MinWindow
	// and at most MaxWindow (Netflix's WindowedLimit). Zero means
	// DefaultGradient2MinWindow (100 ms: Envoy's concurrency_update_interval;
	// Netflix's default is 1 s, which settles too slowly for a limit that
	// must follow a step in load within seconds) and DefaultGradient2MaxWindow
	// (1 s, Netflix's). MaxWindow must be at least MinWindow.
	MinWindow, MaxWindow time.Duration

	// WindowSamples is the fewest samples a window needs to update the
	// limit; a window with fewer is discarded. Zero means
	// DefaultGradient2WindowSamples (10, Netflix's windowSize).
	WindowSamples int

	// MinRTT is the shortest RTT a sample needs to count: shorter ones are
	// ignored as noise (Netflix's minRttThreshold). Zero means
	// DefaultGradient2MinRTT (100 µs); negative is an error. Tasks that all
	// run shorter than this never change the limit.
	MinRTT time.Duration

	// InUse is the share of the limit that the most tasks running at once
	// in a window must reach for the window to change the limit: below it,
	// the limit is not in use, and the window is evidence neither to grow
	// it nor to cut it. A window that reached the limit in force (an
	// integer) is always in use. Zero means DefaultGradient2InUse (0.5,
	// Netflix's "don't grow the limit if we are app limited", inflight <
	// limit/2); otherwise it must be in (0, 1]. With 1, the limit grows
	// only while it holds requests back, as TCP grows its window only while
	// the window limits what is sent (RFC 7661); with 0.5 it also creeps
	// up, to twice the most requests a burst runs at once.
	InUse float64

	// Rebase makes the long-term RTT follow the downstream's own changes of
	// speed. It rises to the window RTT when cutting the limit does not
	// bring the RTT down: three or more windows in a row each reached the
	// limit and cut it, the RTT never fell 5% below that of the first, and
	// the limit fell by 30% in all; the rise is the downstream's (it slowed
	// down), not a queue the limit causes. It falls at once to a window RTT
	// below it (the downstream got faster). Without Rebase, as in Netflix's
	// Gradient2, the long-term average follows such changes only over
	// LongWindow windows: meanwhile a downstream k times slower gets a limit
	// below what it can serve (with a tolerance of 1, QueueSize*k/(k-1):
	// 2*QueueSize at twice as slow), and one back to speed a limit above.
	// A slowdown much under 2x is not seen: the cuts stop, at that limit,
	// before it has fallen 30%. Envoy's controller re-measures its minimum
	// RTT for the same reason, when its limit stays at the minimum for 5
	// windows.
	Rebase bool
}

// QueuedGradient2Config returns the Gradient2Config for a limit that has
// a bounded wait in front of it, such as an executorhttp.Handler with
// MaxWait: requests the limit holds back wait there, where the wait budget,
// CoDel and LIFO bound and shed them.
//
// Netflix's defaults suit a limiter that refuses at once, with no queue
// in front: the limit settles near RTTTolerance*n + QueueSize for a
// downstream serving n at once, so that up to (RTTTolerance-1)*n +
// QueueSize requests wait inside the downstream and a burst finds room.
// Behind a wait budget that room only adds latency: every request waits
// its turn at the downstream, where nothing can shed it. So this
// configuration departs from three of Netflix's parameters:
//
//   - RTTTolerance 1.25: with Rebase, the long-term RTT is the lowest a
//     window has had since the downstream last changed speed, as Envoy's
//     minRTT is, and Envoy's controller accepts a window RTT up to 25%
//     above its minRTT (min_rtt_buffer) before it cuts. The limit heads for
//     1.25*n + QueueSize. A tolerance of 1 settled nearer n (n + 2), but
//     read noise in run time that the limit does not cause (a busy
//     machine) as a queue and cut the limit to the downstream's own size,
//     where every stall leaves a slot idle: 0.77x goodput at 200% load in a
//     step load on a disturbed machine, against 0.90x for the fixed limits;
//     in four interleaved runs on a quiet one, 1.25 gave 375-376 req/s and
//     p99 31 ms at 200%, 1 gave 366-371 req/s and 35 ms;
//   - QueueSize 2: the headroom that lets the limit grow, by 2 a window
//     while the RTT holds (with 1, the limit took up to 3 s to follow a
//     step in load in the step-load comparison);
//   - Smoothing 1: each window's estimate is taken as it is, as Envoy's
//     gradient controller takes its own every 100 ms window
//     (concurrency_update_interval); the gradient's floor of 0.5 still
//     keeps a cut to half the limit per window. With Netflix's 0.2, a limit
//     twice too high took about a second to come down, at a latency well
//     above the downstream's.
//
// It also sets InUse 1, so that the limit grows only while requests wait
// for it (with Netflix's 0.5 it crept up at 90% load, to twice the most
// requests a burst ran at once, and the first second of an overload ran at
// that), and Rebase, without which a low tolerance reads a downstream that
// slows down as a queue and cuts the limit below its slots (it still
// misses a slowdown much under 2x; see Rebase). The price: with the limit
// this close to what the downstream serves, a burst waits in front, and a
// few requests may be shed where a higher limit would have run them. In
// bench/cmd/stepload's comparison (4 slots of 10 ms, 200% load), httpdemo's
// -limit gradient2 -max-wait 30ms held its limit at 7 and a 2xx p99 of
// 28 ms (2.3 times the unloaded p99; 40 ms on a busier machine) with this
// configuration, against 10 and 54 ms with Netflix's defaults (bench/results/stepload-2026-12-02-queued.md;
// the trials behind each choice are in the folder beside it).
func QueuedGradient2Config() Gradient2Config {
	return Gradient2Config{RTTTolerance: 1.25, QueueSize: 2, Smoothing: 1, InUse: 1, Rebase: true}
}

// withDefaults returns c with zero fields set to their defaults, or an
// error wrapping executor.ErrInvalidConfig naming the first field out of
// range.
func (c Gradient2Config) withDefaults() (Gradient2Config, error) {
	if c.Smoothing == 0 {
		c.Smoothing = DefaultGradient2Smoothing
	}
	if !(c.Smoothing > 0 && c.Smoothing <= 1) {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.Smoothing is %v; want a weight in (0, 1]", executor.ErrInvalidConfig, c.Smoothing)
	}
	if c.InUse == 0 {
		c.InUse = DefaultGradient2InUse
	}
	if !(c.InUse > 0 && c.InUse <= 1) {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.InUse is %v; want a share in (0, 1]", executor.ErrInvalidConfig, c.InUse)
	}
	if c.QueueSize < 0 {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.QueueSize is %d; want 0 (default %d) or more", executor.ErrInvalidConfig, c.QueueSize, DefaultGradient2QueueSize)
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultGradient2QueueSize
	}
	if c.RTTTolerance == 0 {
		c.RTTTolerance = DefaultGradient2RTTTolerance
	}
	if !(c.RTTTolerance >= 1 && !math.IsInf(c.RTTTolerance, 1)) {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.RTTTolerance is %v; want 1 or more", executor.ErrInvalidConfig, c.RTTTolerance)
	}
	if c.LongWindow < 0 {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.LongWindow is %d; want 0 (default %d) or more", executor.ErrInvalidConfig, c.LongWindow, DefaultGradient2LongWindow)
	}
	if c.LongWindow == 0 {
		c.LongWindow = DefaultGradient2LongWindow
	}
	if c.MinWindow < 0 || c.MaxWindow < 0 {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.MinWindow, MaxWindow are %v, %v; want 0 (defaults) or more", executor.ErrInvalidConfig, c.MinWindow, c.MaxWindow)
	}
	if c.MinWindow == 0 {
		c.MinWindow = DefaultGradient2MinWindow
	}
	if c.MaxWindow == 0 {
		c.MaxWindow = DefaultGradient2MaxWindow
		if c.MinWindow > c.MaxWindow {
			c.MaxWindow = c.MinWindow
		}
	}
	if c.MaxWindow < c.MinWindow {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.MaxWindow is %v, below MinWindow %v", executor.ErrInvalidConfig, c.MaxWindow, c.MinWindow)
	}
	if c.WindowSamples < 0 {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.WindowSamples is %d; want 0 (default %d) or more", executor.ErrInvalidConfig, c.WindowSamples, DefaultGradient2WindowSamples)
	}
	if c.WindowSamples == 0 {
		c.WindowSamples = DefaultGradient2WindowSamples
	}
	if c.MinRTT < 0 {
		return c, fmt.Errorf("adaptive: %w: Gradient2Config.MinRTT is %v; want 0 (default %v) or more", executor.ErrInvalidConfig, c.MinRTT, DefaultGradient2MinRTT)
	}
	if c.MinRTT == 0 {
		c.MinRTT = DefaultGradient2MinRTT
	}
	return c, nil
}

// Gradient2 is a latency-based limit: it compares the average RTT of a
// short window with a long-term exponential average of it, and shrinks the
// limit when the short one rises beyond tolerance. It is Netflix's
// Gradient2Limit (concurrency-limits-core, limit/Gradient2Limit.java) fed,
// as Netflix's examples feed it, through a WindowedLimit: samples are
// gathered into windows (average RTT, highest Inflight), and at the end of
// each window with enough samples:
//
//	long     = exponential average of the window RTTs over LongWindow windows
//	           (if long > 2*short: long *= 0.95, so it recovers after overload)
//	if maxInflight < limit*InUse: unchanged (the limit is not in use)
//	gradient = clamp(RTTTolerance * long / short, 0.5, 1)
//	estimate = limit*gradient + QueueSize
//	limit    = limit*(1-Smoothing) + estimate*Smoothing, clamped to [Min, Max]
//
// Envoy's adaptive concurrency filter uses the same gradient, against a
// periodically measured minimum RTT instead of a long-term average.
//
// At steady load against a downstream that serves n at once, the limit
// settles near RTTTolerance*n + QueueSize (16 for n = 8 with the defaults):
// latency up to RTTTolerance times the long-term RTT is accepted. Under
// overload that lasts longer than LongWindow windows, the long-term average
// itself drifts up and the limit with it (a known trait of Gradient2).
//
// A Dropped sample counts by its run time as any other: Netflix's
// Gradient2Limit never reads didDrop, and its windows average a dropped
// sample's RTT with the rest. A sample shorter than MinRTT is ignored.
//
// A Gradient2 is not safe for concurrent use on its own; the Executor
// serializes its calls.
type Gradient2 struct {
	cfg Gradient2Config
	b   Bounds

	estimate float64 // the limit, before truncation to an integer

	// The long-term RTT, in nanoseconds: a plain average of the first
	// longWarmup windows, then an exponential one.
	long      float64
	longCount int

	// The window being filled.
	next        time.Time // when it closes; zero before the first sample
	sum         time.Duration
	count       int
	minRTT      time.Duration
	maxInflight int

	// For Rebase: the run of windows in a row that reached the limit and
	// cut it, with the limit before the run and the RTT of its first window.
	cuts       int
	cutFrom    float64
	cutFromRTT float64
}

// NewGradient2 returns a Gradient2 limit configured by cfg, with zero fields
// set to their defaults, and bounds DefaultMin, DefaultMax and
// DefaultInitial until Reset gives others. A value out of range is an error
// wrapping executor.ErrInvalidConfig that names it.
func NewGradient2(cfg Gradient2Config) (*Gradient2, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Gradient2{cfg: cfg}
	g.Reset(defaultBounds())
	return g, nil
}

// Config returns the configuration in use, defaults filled in.
func (g *Gradient2) Config() Gradient2Config { return g.cfg }

// Reset implements Limit.
func (g *Gradient2) Reset(b Bounds) {
	*g = Gradient2{cfg: g.cfg, b: b, estimate: float64(b.clamp(b.Initial))}
	g.resetWindow()
}

func (g *Gradient2) resetWindow() {
	g.sum, g.count, g.maxInflight = 0, 0, 0
	g.minRTT = math.MaxInt64
}

// Update implements Limit.
func (g *Gradient2) Update(s Sample, now time.Time) int {
	if s.RTT < g.cfg.MinRTT {
		return int(g.estimate)
	}
	g.sum += s.RTT
	g.count++
	if s.RTT < g.minRTT {
		g.minRTT = s.RTT
	}
	if s.Inflight > g.maxInflight {
		g.maxInflight = s.Inflight
	}
	if !g.next.IsZero() && !now.After(g.next) {
		return int(g.estimate)
	}
	// The window is over: the next one lasts twice the least RTT of this one,
	// within [MinWindow, MaxWindow], long enough for most tasks started in it
	// to finish in it.
	span := 2 * g.minRTT
	if span < g.cfg.MinWindow {
		span = g.cfg.MinWindow
	}
	if span > g.cfg.MaxWindow {
		span = g.cfg.MaxWindow
	}
	g.next = now.Add(span)
	if g.count >= g.cfg.WindowSamples {
		g.update(float64(g.sum)/float64(g.count), g.maxInflight)
	}
	g.resetWindow()
	return int(g.estimate)
}

// update is Netflix's Gradient2Limit._update for one window's average RTT
// (short, in nanoseconds) and highest inflight count.
func (g *Gradient2) update(short float64, inflight int) {
	long := g.addLong(short)
	// After a long overload the long-term RTT can stay far above the current
	// one; pull it down faster than the average would.
	if long/short > 2 {
		g.long *= 0.95
	}
	if g.cfg.Rebase && short < g.long {
		g.long, long = short, short // the downstream got faster: follow it at once
	}
	if float64(inflight) < g.estimate*g.cfg.InUse && inflight < int(g.estimate) {
		return // the limit is not in use: no evidence to grow or shrink it
	}
	gradient := math.Max(0.5, math.Min(1, g.cfg.RTTTolerance*long/short))
	next := g.estimate*gradient + float64(g.cfg.QueueSize)
	next = g.estimate*(1-g.cfg.Smoothing) + next*g.cfg.Smoothing
	next = math.Max(float64(g.b.Min), math.Min(float64(g.b.Max), next))
	if g.cfg.Rebase {
		g.rebase(next, short, inflight)
	}
	g.estimate = next
}

// rebase resets the long-term RTT to short when the cuts of the last
// windows, down to next, did not bring the RTT down (see
// Gradient2Config.Rebase). It runs before the estimate becomes next. Only
// windows in which the limit was reached count: below it, the RTT does not
// depend on the limit, and a cut cannot lower it.
func (g *Gradient2) rebase(next, short float64, inflight int) {
	if next >= g.estimate || float64(inflight) < math.Floor(g.estimate) {
		g.cuts = 0
		return
	}
	if g.cuts == 0 || short < 0.95*g.cutFromRTT {
		// A run of cuts starts here, or starts again: the last cut did
		// bring the RTT down. The limit before this cut, and the RTT that
		// made it.
		g.cuts, g.cutFrom, g.cutFromRTT = 0, g.estimate, short
	}
	g.cuts++
	if g.cuts >= 3 && next <= 0.7*g.cutFrom {
		g.long = short
		g.cuts = 0
	}
}

// addLong folds rtt into the long-term average and returns it.
func (g *Gradient2) addLong(rtt float64) float64 {
	if g.longCount < longWarmup {
		g.longCount++
		g.long += (rtt - g.long) / float64(g.longCount)
		return g.long
	}
	f := 2 / float64(g.cfg.LongWindow+1)
	g.long = g.long*(1-f) + rtt*f
	return g.long
}
