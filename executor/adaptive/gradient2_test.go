package adaptive

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

func TestNewGradient2Rejects(t *testing.T) {
	for _, cfg := range []Gradient2Config{
		{Smoothing: -0.1},
		{Smoothing: 1.5},
		{Smoothing: math.NaN()},
		{QueueSize: -1},
		{RTTTolerance: 0.9},
		{RTTTolerance: math.Inf(1)},
		{RTTTolerance: math.NaN()},
		{LongWindow: -1},
		{MinWindow: -time.Second},
		{MaxWindow: -time.Second},
		{MinWindow: 2 * time.Second, MaxWindow: time.Second},
		{WindowSamples: -1},
		{MinRTT: -time.Microsecond},
		{InUse: -0.5},
		{InUse: 1.5},
		{InUse: math.NaN()},
	} {
		if g, err := NewGradient2(cfg); !errors.Is(err, executor.ErrInvalidConfig) {
			t.Errorf("NewGradient2(%+v) = %v, %v; want an error wrapping ErrInvalidConfig", cfg, g, err)
		}
	}
}

func TestGradient2Defaults(t *testing.T) {
	g, err := NewGradient2(Gradient2Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := Gradient2Config{
		Smoothing:     0.2,
		QueueSize:     4,
		RTTTolerance:  1.5,
		LongWindow:    6000,
		MinWindow:     100 * time.Millisecond,
		MaxWindow:     time.Second,
		WindowSamples: 10,
		MinRTT:        100 * time.Microsecond,
		InUse:         0.5,
	}
	if got := g.Config(); got != want {
		t.Errorf("Config() = %+v; want %+v", got, want)
	}
	// A MinWindow above the default MaxWindow raises MaxWindow with it.
	g, err = NewGradient2(Gradient2Config{MinWindow: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Config().MaxWindow; got != 2*time.Second {
		t.Errorf("MaxWindow with MinWindow 2s = %v; want 2s", got)
	}
}

// The simulated downstream of the Gradient2 tests: 8 slots of 10 ms, so
// 800 tasks a second at most.
const (
	simSlots    = 8
	simCapacity = 800.0
	simBase     = 10 * time.Millisecond
)

func newGradient2Sim(t *testing.T, cfg Gradient2Config, b Bounds) *sim {
	t.Helper()
	g, err := NewGradient2(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newSim(t, g, b)
}

// TestGradient2StepLoad drives Gradient2 through the steps of the
// step-load comparison (50%, 90%, 200%, 100% of capacity, then the
// downstream twice as slow) and checks each settles where the
// documentation says, fast, with the downstream kept busy.
func TestGradient2StepLoad(t *testing.T) {
	s := newGradient2Sim(t, Gradient2Config{}, Bounds{Min: 1, Max: 200, Initial: 20})
	warm := s.run(phase{rate: 0.5 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
	if warm.tailGoodput < 0.95*0.5*simCapacity {
		t.Errorf("50%% load: goodput %.0f/s; want all %.0f/s", warm.tailGoodput, 0.5*simCapacity)
	}
	s.run(phase{rate: 0.9 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})

	over := s.run(phase{rate: 2 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
	// RTTTolerance*slots + QueueSize = 16.
	if over.tailMeanLimit < simSlots || over.tailMeanLimit > 20 {
		t.Errorf("200%% load: mean limit %.1f; want within [%d, 20]", over.tailMeanLimit, simSlots)
	}
	if d := over.settledAfter(simSlots, 20); d > 2*time.Second {
		t.Errorf("200%% load: limit settled within [%d, 20] after %v; want within 2s", simSlots, d)
	}
	if over.tailGoodput < 0.95*simCapacity {
		t.Errorf("200%% load: goodput %.0f/s; want at least 0.95 x %.0f/s", over.tailGoodput, simCapacity)
	}
	if over.tailMeanLatency > 3*simBase {
		t.Errorf("200%% load: mean run time %v; want at most 3 x %v", over.tailMeanLatency, simBase)
	}

	full := s.run(phase{rate: simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
	if full.tailGoodput < 0.95*simCapacity {
		t.Errorf("100%% load: goodput %.0f/s; want at least 0.95 x %.0f/s", full.tailGoodput, simCapacity)
	}

	// The downstream slows down: each task holds a slot twice as long. The
	// right concurrency is still 8; the run time doubling against the
	// long-term RTT cuts the limit.
	slow := s.run(phase{rate: simCapacity, base: 2 * simBase, slots: simSlots, dur: 10 * time.Second})
	if slow.lastLimit >= full.lastLimit-3 || slow.lastLimit < simSlots {
		t.Errorf("downstream 2x slower: limit %d (from %d); want it cut, to no less than %d", slow.lastLimit, full.lastLimit, simSlots)
	}
	if d := slow.settledAfter(simSlots, slow.lastLimit+3); d > 2*time.Second {
		t.Errorf("downstream 2x slower: limit settled after %v; want within 2s", d)
	}
	if slow.tailGoodput < 0.95*simCapacity/2 {
		t.Errorf("downstream 2x slower: goodput %.0f/s; want at least 0.95 x %.0f/s", slow.tailGoodput, simCapacity/2)
	}
}

// TestGradient2AppLimited checks that a limit far from in use does not
// move, whatever the latency (Netflix: "don't grow the limit if we are app
// limited").
func TestGradient2AppLimited(t *testing.T) {
	s := newGradient2Sim(t, Gradient2Config{}, Bounds{Min: 1, Max: 200, Initial: 40})
	r := s.run(phase{rate: 0.25 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
	if r.minLimit != 40 || r.maxLimit != 40 {
		t.Errorf("25%% load with limit 40: limit moved within [%d, %d]; want it to stay 40", r.minLimit, r.maxLimit)
	}
}

// TestGradient2InUse checks InUse 1: a limit grows only while it is
// reached, where Netflix's 0.5 lets bursts push it up to twice what they
// run at once. (The simulator's arrivals are Poisson and it refuses what
// finds the limit reached, so at 90% load both reach the limit often; the
// difference is in how far bursts push it.)
func TestGradient2InUse(t *testing.T) {
	for _, tt := range []struct {
		inUse    float64
		min, max int // bounds on the highest limit at 90% load
	}{
		{0.5, 20, 200},
		{1, simSlots, 16},
	} {
		cfg := QueuedGradient2Config()
		cfg.InUse = tt.inUse
		cfg.RTTTolerance = 1 // the bounds below assume it
		s := newGradient2Sim(t, cfg, Bounds{Min: 1, Max: 200, Initial: 2})
		s.run(phase{rate: 0.5 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
		r := s.run(phase{rate: 0.9 * simCapacity, base: simBase, slots: simSlots, dur: 20 * time.Second})
		if r.maxLimit < tt.min || r.maxLimit > tt.max {
			t.Errorf("InUse %v, 90%% load: highest limit %d; want within [%d, %d]", tt.inUse, r.maxLimit, tt.min, tt.max)
		}
	}
}

func TestGradient2RespectsBounds(t *testing.T) {
	t.Run("Max", func(t *testing.T) {
		// A downstream with many slots invites growth.
		s := newGradient2Sim(t, Gradient2Config{}, Bounds{Min: 1, Max: 30, Initial: 20})
		r := s.run(phase{rate: 10000, base: simBase, slots: 1000, dur: 10 * time.Second})
		if r.maxLimit > 30 || r.lastLimit != 30 {
			t.Errorf("limit rose to %d, ended %d; want it to reach Max 30 and stay there", r.maxLimit, r.lastLimit)
		}
	})
	t.Run("Min", func(t *testing.T) {
		s := newGradient2Sim(t, Gradient2Config{}, Bounds{Min: 15, Max: 200, Initial: 20})
		// 2 slots of 10 ms: 200 a second at most; the limit heads for
		// RTTTolerance*2 + QueueSize = 7.
		s.run(phase{rate: 100, base: simBase, slots: 2, dur: 5 * time.Second})
		r := s.run(phase{rate: 400, base: simBase, slots: 2, dur: 10 * time.Second})
		if r.minLimit < 15 || r.lastLimit != 15 {
			t.Errorf("limit fell to %d, ended %d; want it to reach Min 15 and stay there", r.minLimit, r.lastLimit)
		}
	})
}

// TestGradient2Ignores feeds Gradient2 samples it must not act on: RTTs
// below MinRTT, and windows with too few samples.
func TestGradient2Ignores(t *testing.T) {
	tests := []struct {
		name    string
		sample  Sample
		perStep int // samples per 100ms window
	}{
		{"RTT below MinRTT", Sample{RTT: 50 * time.Microsecond, Inflight: 100}, 50},
		// A window lasts 100 ms here (twice 40 ms, raised to MinWindow).
		{"windows with too few samples", Sample{RTT: 40 * time.Millisecond, Inflight: 100}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGradient2(Gradient2Config{})
			if err != nil {
				t.Fatal(err)
			}
			g.Reset(Bounds{Min: 1, Max: 200, Initial: 20})
			// A baseline of 10 ms first: 20 full windows, limit in use.
			now := time.Unix(0, 0)
			for w := 0; w < 20; w++ {
				for i := 0; i < 20; i++ {
					now = now.Add(5 * time.Millisecond)
					g.Update(Sample{RTT: simBase, Inflight: 15}, now)
				}
			}
			before := g.Update(Sample{RTT: simBase, Inflight: 15}, now)
			for w := 0; w < 100; w++ {
				for i := 0; i < tt.perStep; i++ {
					now = now.Add(100 * time.Millisecond / time.Duration(tt.perStep))
					if got := g.Update(tt.sample, now); got != before {
						t.Fatalf("window %d: limit %d after %+v; want it to stay %d", w, got, tt.sample, before)
					}
				}
			}
		})
	}
}

// TestGradient2Drops: a dropped sample counts as any other, by its run
// time, as Netflix's Gradient2Limit, which never reads didDrop, counts it.
// Slow tasks are the likeliest to be dropped by a deadline: left out, they
// would hide the latency that should cut the limit.
func TestGradient2Drops(t *testing.T) {
	limits := map[bool][]int{}
	for _, dropped := range []bool{false, true} {
		g, err := NewGradient2(Gradient2Config{})
		if err != nil {
			t.Fatal(err)
		}
		g.Reset(Bounds{Min: 1, Max: 200, Initial: 20})
		now := time.Unix(0, 0)
		for w := 0; w < 40; w++ {
			rtt, drop := simBase, false
			if w >= 20 { // then four times slower, every sample dropped or not
				rtt, drop = 4*simBase, dropped
			}
			for i := 0; i < 20; i++ {
				now = now.Add(5 * time.Millisecond)
				limits[dropped] = append(limits[dropped], g.Update(Sample{RTT: rtt, Inflight: 100, Dropped: drop}, now))
			}
		}
	}
	if !slices.Equal(limits[true], limits[false]) {
		t.Errorf("limits with the slow samples dropped:\n%v\nwant those with them not dropped:\n%v", limits[true], limits[false])
	}
	// 20 windows of 20 samples at the base RTT, then 20 four times slower.
	if fast, last := limits[true][20*20-1], limits[true][len(limits[true])-1]; last >= fast {
		t.Errorf("limit after 20 windows of dropped samples four times slower: %d; want it cut below the %d before them", last, fast)
	}
}

// Where QueuedGradient2Config's limit settles against the simulated
// downstream at saturation (RTTTolerance*slots + QueueSize), with 2 to
// spare, and the mean run time that limit gives, with a quarter to spare.
var (
	queuedHigh = int(QueuedGradient2Config().RTTTolerance*simSlots) + QueuedGradient2Config().QueueSize + 2
	queuedRun  = time.Duration((QueuedGradient2Config().RTTTolerance + float64(QueuedGradient2Config().QueueSize)/simSlots + 0.25) * float64(simBase))
)

// TestQueuedGradient2StepLoad drives QueuedGradient2Config through the
// step-load comparison's steps, as TestGradient2StepLoad does Netflix's
// defaults: behind a wait budget the limit must sit just above the
// downstream's slots (RTTTolerance*n + QueueSize), and follow the downstream when it
// slows down and when it speeds up again.
func TestQueuedGradient2StepLoad(t *testing.T) {
	s := newGradient2Sim(t, QueuedGradient2Config(), Bounds{Min: 1, Max: 200, Initial: 2})
	s.run(phase{rate: 0.5 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
	s.run(phase{rate: 0.9 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})

	over := s.run(phase{rate: 2 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
	if over.tailMeanLimit < simSlots || over.tailMeanLimit > float64(queuedHigh) {
		t.Errorf("200%% load: mean limit %.1f; want within [%d, %d]", over.tailMeanLimit, simSlots, queuedHigh)
	}
	if d := over.settledAfter(simSlots, queuedHigh); d > time.Second {
		t.Errorf("200%% load: limit settled within [%d, %d] after %v; want within 1s", simSlots, queuedHigh, d)
	}
	if over.tailGoodput < 0.95*simCapacity {
		t.Errorf("200%% load: goodput %.0f/s; want at least 0.95 x %.0f/s", over.tailGoodput, simCapacity)
	}
	if over.tailMeanLatency > queuedRun {
		t.Errorf("200%% load: mean run time %v; want at most %v", over.tailMeanLatency, queuedRun)
	}

	// At 100% load this simulator, which refuses what finds the limit
	// reached, loses Poisson bursts that a wait budget would hold: no
	// goodput check here (the step load measures it, with the wait).
	s.run(phase{rate: simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})

	// Twice as slow: a rise cuts cannot undo, which Rebase follows. (Rebase
	// does not see a slowdown much under 2x: the cuts stop, at
	// QueueSize*k/(k-1), before the limit has fallen 30%; see
	// Gradient2Config.Rebase.)
	for _, k := range []float64{2, 3} {
		slow := s.run(phase{rate: simCapacity, base: time.Duration(k * float64(simBase)), slots: simSlots, dur: 10 * time.Second})
		if slow.tailMeanLimit < simSlots {
			t.Errorf("downstream %vx slower: mean limit %.1f; want at least its %d slots", k, slow.tailMeanLimit, simSlots)
		}
		if d := slow.settledAfter(simSlots, queuedHigh); d > 2*time.Second {
			t.Errorf("downstream %vx slower: limit settled within [%d, %d] after %v; want within 2s", k, simSlots, queuedHigh, d)
		}
		if want := 0.95 * simCapacity / k; slow.tailGoodput < want {
			t.Errorf("downstream %vx slower: goodput %.0f/s; want at least %.0f/s", k, slow.tailGoodput, want)
		}
		// Back to the first speed: the long-term RTT follows it down, or the
		// limit would climb to k times the slots.
		back := s.run(phase{rate: simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
		if back.tailMeanLimit > float64(queuedHigh+2) {
			t.Errorf("downstream back to speed after %vx slower: mean limit %.1f; want at most %d", k, back.tailMeanLimit, queuedHigh+2)
		}
	}
}

// TestGradient2Rebase checks what Rebase is for, and that it does not
// fire where the RTT rise is a queue: without it, a tolerance of 1 cuts
// the limit below the slots of a downstream that slows down; with it, a
// limit far too high comes down, and one held in overload for a minute
// stays put.
func TestGradient2Rebase(t *testing.T) {
	noRebase := QueuedGradient2Config()
	noRebase.Rebase = false
	s := newGradient2Sim(t, noRebase, Bounds{Min: 1, Max: 200, Initial: 10})
	s.run(phase{rate: simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
	slow := s.run(phase{rate: simCapacity, base: 3 * simBase, slots: simSlots, dur: 10 * time.Second})
	if slow.tailMeanLimit >= simSlots {
		t.Fatalf("without Rebase, downstream 3x slower: mean limit %.1f; want below its %d slots (else this test shows nothing)", slow.tailMeanLimit, simSlots)
	}

	// A limit of 200 that half the capacity never reached, then twice the
	// capacity.
	s = newGradient2Sim(t, QueuedGradient2Config(), Bounds{Min: 1, Max: 200, Initial: 200})
	s.run(phase{rate: 0.5 * simCapacity, base: simBase, slots: simSlots, dur: 10 * time.Second})
	down := s.run(phase{rate: 2 * simCapacity, base: simBase, slots: simSlots, dur: 60 * time.Second})
	// Each cut halves the limit at most, and a window lasts twice the least
	// RTT of the last: 200 ms and more while the limit is far too high.
	if d := down.settledAfter(simSlots, queuedHigh); d > 2*time.Second {
		t.Errorf("from 200 at 200%% load: limit settled within [%d, %d] after %v; want within 2s", simSlots, queuedHigh, d)
	}
	if down.maxLimit > 200 || down.tailMeanLimit > float64(queuedHigh) || down.tailMeanLatency > queuedRun {
		t.Errorf("a minute at 200%% load: mean limit %.1f, mean run time %v over the last half; want at most %d and %v (a rebase on a queue ratchets the limit up)",
			down.tailMeanLimit, down.tailMeanLatency, queuedHigh, queuedRun)
	}
}
