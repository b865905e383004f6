package adaptive

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// newTestExecutor returns an Executor with a fixed limit of bound (a
// recordingLimit that keeps Initial) over a fakePool, shut down at cleanup.
func newTestExecutor(t *testing.T, bound int, nonblocking bool) (*Executor, *recordingLimit, *fakePool) {
	t.Helper()
	p := newFakePool(bound, nonblocking)
	l := newRecordingLimit(nil)
	e, err := New(p, Options{Min: bound, Max: bound, Initial: bound, Limit: l})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, e) })
	return e, l, p
}

// hold submits a task that runs until the returned func is called, and
// waits for it to start.
func hold(t *testing.T, submit func(func()) error) (release func()) {
	t.Helper()
	started, stop := make(chan struct{}), make(chan struct{})
	if err := submit(func() { close(started); <-stop }); err != nil {
		t.Fatalf("submit: %v", err)
	}
	<-started
	return func() { close(stop) }
}

func TestSampleOfFinishedTasks(t *testing.T) {
	e, l, _ := newTestExecutor(t, 2, false)
	releaseA := hold(t, e.Submit)
	releaseB := hold(t, e.Submit)
	releaseB()
	b := waitSamples(t, l, 1)[0]
	releaseA()
	a := waitSamples(t, l, 1)[0]
	if a.Dropped || b.Dropped {
		t.Errorf("samples %+v, %+v are dropped; want finished", a, b)
	}
	if a.Inflight != 1 || b.Inflight != 2 {
		t.Errorf("Inflight = %d, %d; want 1 (first task alone), 2 (second beside it)", a.Inflight, b.Inflight)
	}
	if a.RTT <= 0 || b.RTT <= 0 || a.RTT < b.RTT {
		t.Errorf("RTT = %v, %v; want both positive, the first (which ran longer) no less", a.RTT, b.RTT)
	}
}

// TestRefusalsGiveNoSample checks that a submission the executor refuses
// returns the executor's error and feeds the Limit nothing, as Netflix's
// SimpleLimiter feeds its Limit none of its own rejections.
func TestRefusalsGiveNoSample(t *testing.T) {
	tests := []struct {
		name        string
		nonblocking bool
		submit      func(e *Executor) error
		want        error
	}{
		{"TrySubmit when full", false, func(e *Executor) error {
			return e.TrySubmit(func() {})
		}, executor.ErrOverloaded},
		{"TrySubmitSampled when full", false, func(e *Executor) error {
			return e.TrySubmitSampled(func() executor.Outcome { return executor.Succeeded })
		}, executor.ErrOverloaded},
		{"Submit to a full Nonblocking pool", true, func(e *Executor) error {
			return e.Submit(func() {})
		}, executor.ErrOverloaded},
		{"SubmitContext deadline while waiting", false, func(e *Executor) error {
			ctx, cancel := deadlineSoon()
			defer cancel()
			return e.SubmitContext(ctx, func() {})
		}, context.DeadlineExceeded},
		{"SubmitSampled deadline while waiting", false, func(e *Executor) error {
			ctx, cancel := deadlineSoon()
			defer cancel()
			return e.SubmitSampled(ctx, func() executor.Outcome { return executor.Succeeded })
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, l, _ := newTestExecutor(t, 1, tt.nonblocking)
			release := hold(t, e.Submit)
			if err := tt.submit(e); !errors.Is(err, tt.want) {
				t.Errorf("got %v; want %v", err, tt.want)
			}
			noSample(t, l, "a refused submission")
			release()
			if s := waitSamples(t, l, 1)[0]; s.Dropped || s.Inflight != 1 {
				t.Errorf("sample of the held task = %+v; want finished, Inflight 1", s)
			}
			noSample(t, l, "a refused submission")
		})
	}
}

func deadlineSoon() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Millisecond)
}

func TestNoSample(t *testing.T) {
	t.Run("ctx done on entry", func(t *testing.T) {
		e, l, _ := newTestExecutor(t, 1, false)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := e.SubmitContext(ctx, func() { t.Error("task ran") }); !errors.Is(err, context.Canceled) {
			t.Errorf("SubmitContext = %v; want Canceled", err)
		}
		if err := e.SubmitSampled(ctx, func() executor.Outcome { t.Error("task ran"); return executor.Succeeded }); !errors.Is(err, context.Canceled) {
			t.Errorf("SubmitSampled = %v; want Canceled", err)
		}
		noSample(t, l, "a ctx done on entry")
	})
	t.Run("nil task", func(t *testing.T) {
		e, l, _ := newTestExecutor(t, 1, false)
		for name, err := range map[string]error{
			"Submit":           e.Submit(nil),
			"SubmitContext":    e.SubmitContext(context.Background(), nil),
			"SubmitSampled":    e.SubmitSampled(context.Background(), nil),
			"TrySubmit":        e.TrySubmit(nil),
			"TrySubmitSampled": e.TrySubmitSampled(nil),
		} {
			if !errors.Is(err, executor.ErrNilTask) {
				t.Errorf("%s(nil) = %v; want ErrNilTask", name, err)
			}
		}
		noSample(t, l, "a nil task")
	})
	t.Run("after Shutdown", func(t *testing.T) {
		e, l, _ := newTestExecutor(t, 1, false)
		shutdown(t, e)
		for name, err := range map[string]error{
			"Submit":           e.Submit(func() {}),
			"SubmitContext":    e.SubmitContext(context.Background(), func() {}),
			"SubmitSampled":    e.SubmitSampled(context.Background(), func() executor.Outcome { return executor.Succeeded }),
			"TrySubmit":        e.TrySubmit(func() {}),
			"TrySubmitSampled": e.TrySubmitSampled(func() executor.Outcome { return executor.Succeeded }),
		} {
			if !errors.Is(err, executor.ErrClosed) {
				t.Errorf("%s after Shutdown = %v; want ErrClosed", name, err)
			}
		}
		noSample(t, l, "a submission after Shutdown")
	})
	t.Run("panicking task", func(t *testing.T) {
		e, l, _ := newTestExecutor(t, 1, false)
		if err := e.Submit(func() { panic("boom") }); err != nil {
			t.Fatal(err)
		}
		shutdown(t, e) // waits for the task
		noSample(t, l, "a panicking task")
		if n := e.running.Load(); n != 0 {
			t.Errorf("running = %d after a panicking task; want 0", n)
		}
	})
}

// TestSubmitSampledOutcome: a task that did its work gives a sample, one
// that lost it to overload a sample marked Dropped, and one that reports it
// was shed (or an Outcome that is none of the three) gives none, and leaves
// running as it found it. TrySubmitSampled keeps the same rules.
func TestSubmitSampledOutcome(t *testing.T) {
	for name, submit := range map[string]func(e *Executor, task func() executor.Outcome) error{
		"SubmitSampled": func(e *Executor, task func() executor.Outcome) error {
			return e.SubmitSampled(context.Background(), task)
		},
		"TrySubmitSampled": (*Executor).TrySubmitSampled,
	} {
		for _, tt := range []struct {
			out    executor.Outcome
			sample bool // whether the Limit gets a sample
		}{
			{executor.Succeeded, true},
			{executor.Dropped, true},
			{executor.Ignored, false},
			{executor.Outcome(7), false},
		} {
			t.Run(name+"/"+tt.out.String(), func(t *testing.T) {
				e, l, _ := newTestExecutor(t, 1, false)
				returned := make(chan struct{})
				if err := submit(e, func() executor.Outcome { close(returned); return tt.out }); err != nil {
					t.Fatal(err)
				}
				<-returned
				if !tt.sample {
					shutdown(t, e) // waits for the task to return
					noSample(t, l, "a task that returned "+tt.out.String())
					if n := e.running.Load(); n != 0 {
						t.Errorf("running = %d after it; want 0", n)
					}
					return
				}
				s := waitSamples(t, l, 1)[0]
				if want := tt.out == executor.Dropped; s.Dropped != want || s.Inflight != 1 || s.RTT <= 0 {
					t.Errorf("task returned %v: sample %+v; want Dropped %v, Inflight 1, RTT > 0", tt.out, s, want)
				}
			})
		}
	}
}

func TestTrySubmitWithoutTrySubmitter(t *testing.T) {
	p := newFakePool(1, false)
	e, err := New(resizeOnly{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, e)
	if err := e.TrySubmit(func() { t.Error("task ran") }); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("TrySubmit = %v; want ErrUnsupported", err)
	}
	if err := e.TrySubmitSampled(func() executor.Outcome { t.Error("task ran"); return executor.Succeeded }); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("TrySubmitSampled = %v; want ErrUnsupported", err)
	}
}

// resizeOnly is an Executor with Resize and no other ability.
type resizeOnly struct{ p *fakePool }

func (r resizeOnly) Submit(task func()) error           { return r.p.Submit(task) }
func (r resizeOnly) Shutdown(ctx context.Context) error { return r.p.Shutdown(ctx) }
func (r resizeOnly) Resize(n int) error                 { return r.p.Resize(n) }

func TestStats(t *testing.T) {
	e, _, _ := newTestExecutor(t, 3, false)
	release := hold(t, e.Submit)
	s := e.Stats()
	release()
	if s.Workers != 3 || s.Running != 1 || s.Submitted != 1 {
		t.Errorf("Stats = %+v; want Workers 3, Running 1, Submitted 1", s)
	}
}
