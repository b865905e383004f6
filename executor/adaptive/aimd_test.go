package adaptive

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

func TestNewAIMDRejects(t *testing.T) {
	for _, cfg := range []AIMDConfig{
		{BackoffRatio: 0.4},
		{BackoffRatio: 1},
		{BackoffRatio: -0.9},
		{BackoffRatio: math.NaN()},
		{Timeout: -time.Second},
	} {
		if a, err := NewAIMD(cfg); !errors.Is(err, executor.ErrInvalidConfig) {
			t.Errorf("NewAIMD(%+v) = %v, %v; want an error wrapping ErrInvalidConfig", cfg, a, err)
		}
	}
}

func TestAIMDDefaults(t *testing.T) {
	a, err := NewAIMD(AIMDConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Config(), (AIMDConfig{BackoffRatio: 0.9, Timeout: 5 * time.Second}); got != want {
		t.Errorf("Config() = %+v; want Netflix's defaults %+v", got, want)
	}
}

func TestAIMDUpdate(t *testing.T) {
	t0 := time.Unix(100, 0)
	ms := time.Millisecond
	type step struct {
		s    Sample
		at   time.Duration // after t0
		want int
	}
	tests := []struct {
		name  string
		b     Bounds
		steps []step
	}{
		{"successes with the limit in use grow it by one per limit of them", Bounds{1, 100, 3}, []step{
			{Sample{RTT: ms, Inflight: 2}, 1 * ms, 3},
			{Sample{RTT: ms, Inflight: 3}, 2 * ms, 3},
			{Sample{RTT: ms, Inflight: 2}, 3 * ms, 4},
			{Sample{RTT: ms, Inflight: 1}, 4 * ms, 4}, // not in use: not counted
			{Sample{RTT: ms, Inflight: 4}, 5 * ms, 4},
			{Sample{RTT: ms, Inflight: 4}, 6 * ms, 4},
			{Sample{RTT: ms, Inflight: 4}, 7 * ms, 4},
			{Sample{RTT: ms, Inflight: 4}, 8 * ms, 5},
		}},
		{"a cut starts the count again", Bounds{1, 100, 3}, []step{
			{Sample{RTT: ms, Inflight: 3}, 1 * ms, 3},
			{Sample{RTT: ms, Inflight: 3}, 2 * ms, 3},
			{Sample{RTT: ms, Inflight: 3, Dropped: true}, 3 * ms, 2}, // 3*0.9 = 2.7
			{Sample{RTT: ms, Inflight: 2}, 4 * ms, 2},
			{Sample{RTT: ms, Inflight: 2}, 5 * ms, 3},
		}},
		{"success with the limit half idle keeps it", Bounds{1, 100, 10}, []step{
			{Sample{RTT: ms, Inflight: 4}, 1 * ms, 10},
		}},
		{"drop cuts by BackoffRatio, truncating", Bounds{1, 100, 15}, []step{
			{Sample{RTT: ms, Inflight: 15, Dropped: true}, 1 * ms, 13}, // 15*0.9 = 13.5
		}},
		{"RTT above Timeout is a drop", Bounds{1, 100, 10}, []step{
			{Sample{RTT: 200 * ms, Inflight: 10}, 200 * ms, 9},
		}},
		{"RTT at Timeout is not", Bounds{1, 100, 1}, []step{
			{Sample{RTT: 100 * ms, Inflight: 1}, 100 * ms, 2},
		}},
		{"no growth past Max", Bounds{1, 1, 1}, []step{
			{Sample{RTT: ms, Inflight: 1}, 1 * ms, 1},
			{Sample{RTT: ms, Inflight: 1}, 2 * ms, 1},
		}},
		{"no cut below Min", Bounds{5, 10, 5}, []step{
			{Sample{RTT: ms, Inflight: 5, Dropped: true}, 1 * ms, 5},
		}},
		{"a drop from a task started before the last cut cuts no more", Bounds{1, 100, 20}, []step{
			{Sample{RTT: 10 * ms, Inflight: 20, Dropped: true}, 10 * ms, 18},
			{Sample{RTT: 10 * ms, Inflight: 20, Dropped: true}, 15 * ms, 18}, // started at 5ms
			{Sample{RTT: 200 * ms, Inflight: 20}, 20 * ms, 18},               // started before t0
			{Sample{RTT: ms, Inflight: 18, Dropped: true}, 16 * ms, 16},      // started at 15ms, after the cut
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAIMD(AIMDConfig{Timeout: 100 * ms})
			if err != nil {
				t.Fatal(err)
			}
			a.Reset(tt.b)
			for i, st := range tt.steps {
				if got := a.Update(st.s, t0.Add(st.at)); got != st.want {
					t.Fatalf("step %d: Update(%+v) = %d; want %d", i, st.s, got, st.want)
				}
			}
		})
	}
}

// TestAIMDBacksOffOnDrops checks that drops, each from a task started after
// the previous cut, take the limit down geometrically to Min.
func TestAIMDBacksOffOnDrops(t *testing.T) {
	a, err := NewAIMD(AIMDConfig{})
	if err != nil {
		t.Fatal(err)
	}
	a.Reset(Bounds{Min: 3, Max: 200, Initial: 100})
	now := time.Unix(0, 0)
	want := 100
	for i := 0; i < 40; i++ {
		now = now.Add(10 * time.Millisecond)
		got := a.Update(Sample{RTT: time.Millisecond, Inflight: 1, Dropped: true}, now)
		want = int(float64(want) * 0.9)
		if want < 3 {
			want = 3
		}
		if got != want {
			t.Fatalf("drop %d: limit %d; want %d", i+1, got, want)
		}
	}
}

// TestAIMDSimulated runs AIMD against a downstream with 8 slots of 10 ms.
// With a Timeout it settles in a sawtooth around the concurrency whose run
// time is the Timeout and keeps the downstream busy; without one (Netflix's
// 5 s) it grows to Max, as the AIMD documentation says.
func TestAIMDSimulated(t *testing.T) {
	const slots, capacity = 8, 800.0 // per second
	base := 10 * time.Millisecond
	t.Run("Timeout 20ms", func(t *testing.T) {
		a, err := NewAIMD(AIMDConfig{Timeout: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		s := newSim(t, a, Bounds{Min: 1, Max: 200, Initial: 20})
		s.run(phase{rate: 0.5 * capacity, base: base, slots: slots, dur: 5 * time.Second})
		r := s.run(phase{rate: 2 * capacity, base: base, slots: slots, dur: 10 * time.Second})
		// Run time reaches 20 ms at 16 running: the cut lands above that.
		if r.tailMeanLimit < slots || r.tailMeanLimit > 30 {
			t.Errorf("mean limit at 200%% load %.1f; want within [%d, 30]", r.tailMeanLimit, slots)
		}
		if r.minLimit < slots/2 {
			t.Errorf("limit fell to %d at 200%% load; want at least %d", r.minLimit, slots/2)
		}
		if r.tailGoodput < 0.95*capacity {
			t.Errorf("goodput at 200%% load %.0f/s; want at least 0.95 x %.0f/s", r.tailGoodput, capacity)
		}
	})
	t.Run("default Timeout", func(t *testing.T) {
		a, err := NewAIMD(AIMDConfig{})
		if err != nil {
			t.Fatal(err)
		}
		s := newSim(t, a, Bounds{Min: 1, Max: 100, Initial: 20})
		// Growing by one per round trip, from 20 to 100 takes about 6 s.
		if r := s.run(phase{rate: 2 * capacity, base: base, slots: slots, dur: 10 * time.Second}); r.lastLimit != 100 {
			t.Errorf("limit after 10s at 200%% load = %d; want Max 100 (no loss signal below the Timeout)", r.lastLimit)
		}
	})
}
