package adaptive

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// recordingLimit records every sample, sends it on seen, and returns what
// next says.
type recordingLimit struct {
	mu      sync.Mutex
	bounds  Bounds
	samples []Sample
	next    func(n int) int // the limit after the n-th sample (1-based)
	seen    chan Sample     // buffered; nil until first use
}

func newRecordingLimit(next func(n int) int) *recordingLimit {
	return &recordingLimit{next: next, seen: make(chan Sample, 1024)}
}

func (l *recordingLimit) Reset(b Bounds) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bounds = b
	l.samples = nil
}

func (l *recordingLimit) Update(s Sample, _ time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.samples = append(l.samples, s)
	select {
	case l.seen <- s:
	default:
		panic("recordingLimit: more samples than seen buffers; read them")
	}
	if l.next == nil {
		return l.bounds.Initial
	}
	return l.next(len(l.samples))
}

func shutdown(t *testing.T, e interface{ Shutdown(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"negative Min", Options{Min: -1}},
		{"negative Max", Options{Max: -1}},
		{"negative Initial", Options{Initial: -1}},
		{"Max below Min", Options{Min: 10, Max: 5}},
		{"Initial below Min", Options{Min: 10, Max: 20, Initial: 5}},
		{"Initial above Max", Options{Min: 1, Max: 20, Initial: 30}},
		{"Max above MaxCapacity", Options{Max: executor.MaxCapacity + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakePool(4, false)
			defer shutdown(t, p)
			e, err := New(p, tt.opts)
			if !errors.Is(err, executor.ErrInvalidConfig) {
				t.Fatalf("New(%+v) = %v, %v; want an error wrapping ErrInvalidConfig", tt.opts, e, err)
			}
			if resizes, _ := p.snapshot(); len(resizes) != 0 {
				t.Errorf("New resized the pool to %v after refusing the options; want no Resize", resizes)
			}
		})
	}
}

func TestNewRejectsExecutorWithoutResize(t *testing.T) {
	p := newFakePool(4, false)
	defer shutdown(t, p)
	if _, err := New(plainExecutor{p}, Options{}); !errors.Is(err, executor.ErrInvalidConfig) {
		t.Errorf("New(executor without Resize) error = %v; want ErrInvalidConfig", err)
	}
	if _, err := New(nil, Options{}); !errors.Is(err, executor.ErrInvalidConfig) {
		t.Errorf("New(nil) error = %v; want ErrInvalidConfig", err)
	}
}

func TestNewBounds(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want Bounds
	}{
		{"defaults", Options{}, Bounds{Min: DefaultMin, Max: DefaultMax, Initial: DefaultInitial}},
		{"small Max pulls default Initial down", Options{Max: 8}, Bounds{Min: 1, Max: 8, Initial: 8}},
		{"large Min pushes default Initial and Max up", Options{Min: 300}, Bounds{Min: 300, Max: 300, Initial: 300}},
		{"all given", Options{Min: 2, Max: 50, Initial: 3}, Bounds{Min: 2, Max: 50, Initial: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakePool(4, false)
			defer shutdown(t, p)
			l := newRecordingLimit(nil)
			e, err := New(p, Options{Min: tt.opts.Min, Max: tt.opts.Max, Initial: tt.opts.Initial, Limit: l})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if l.bounds != tt.want {
				t.Errorf("Limit.Reset got %+v; want %+v", l.bounds, tt.want)
			}
			if got := e.Limit(); got != tt.want.Initial {
				t.Errorf("Limit() = %d; want Initial %d", got, tt.want.Initial)
			}
			if got := e.Stats().Workers; got != tt.want.Initial {
				t.Errorf("Stats().Workers = %d; want Initial %d", got, tt.want.Initial)
			}
			if resizes, _ := p.snapshot(); len(resizes) != 1 || resizes[0] != tt.want.Initial {
				t.Errorf("pool resizes = %v; want [%d]", resizes, tt.want.Initial)
			}
		})
	}
}

func TestNewDefaultLimitIsGradient2(t *testing.T) {
	p := newFakePool(4, false)
	defer shutdown(t, p)
	e, err := New(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.alg.(*Gradient2); !ok {
		t.Errorf("default Limit is %T; want *Gradient2", e.alg)
	}
}

// TestResizeOnlyOnChangeAndClamped drives the Executor with a Limit that
// returns a script of values, and checks which reach the pool.
func TestResizeOnlyOnChangeAndClamped(t *testing.T) {
	script := []int{5, 5, 5, 7, 100, 100, 0, -3, 2, 2}
	// 5, 5, 5 -> one Resize(5); 7; 100 -> 10 (Max) once; 0 and -3 -> 2 (Min)
	// once; 2, 2: no change.
	wantResize := []int{5, 0, 0, 7, 10, 0, 2, 0, 0, 0} // 0: none
	l := newRecordingLimit(func(n int) int { return script[n-1] })
	p := newFakePool(1, false)
	p.resized = make(chan int, 16)
	e, err := New(p, Options{Min: 2, Max: 10, Initial: 4, Limit: l})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, e)
	if got := <-p.resized; got != 4 {
		t.Fatalf("New resized to %d; want Initial 4", got)
	}
	for i := range script {
		if err := e.Submit(func() {}); err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
		waitSamples(t, l, 1)
		if wantResize[i] == 0 {
			continue
		}
		// Each task runs alone, so the Resize its sample asks for is the
		// latest, and happens (after Update returns) before the next one.
		select {
		case got := <-p.resized:
			if got != wantResize[i] {
				t.Fatalf("after Update returned %d, Resize(%d); want Resize(%d)", script[i], got, wantResize[i])
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("after Update returned %d, no Resize in 10s; want Resize(%d)", script[i], wantResize[i])
		}
	}
	shutdown(t, e)
	resizes, _ := p.snapshot()
	if want := []int{4, 5, 7, 10, 2}; !equalInts(resizes, want) {
		t.Errorf("pool resizes = %v; want %v (only changes, clamped to [2, 10])", resizes, want)
	}
	if got := e.Limit(); got != 2 {
		t.Errorf("Limit() = %d; want 2", got)
	}
}

// waitSamples returns the next n samples l sees: the sample of a task comes
// after the task body returns, so a test that saw the body finish must wait
// for it.
func waitSamples(t *testing.T, l *recordingLimit, n int) []Sample {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var got []Sample
	for len(got) < n {
		select {
		case s := <-l.seen:
			got = append(got, s)
		case <-timeout:
			t.Fatalf("got %d samples %v after 10s; want %d", len(got), got, n)
		}
	}
	return got
}

// noSample fails if l has a sample waiting: call it after something that
// must give none, once what would give one has returned.
func noSample(t *testing.T, l *recordingLimit, after string) {
	t.Helper()
	select {
	case s := <-l.seen:
		t.Errorf("%s gave sample %+v; want none", after, s)
	default:
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
