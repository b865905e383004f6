package executor_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// slotPool is a minimal blocking Executor with none of the optional
// abilities: one worker goroutine per task, at most n at once, Submit
// waiting for a slot. It is what executor.SubmitContext falls back on.
type slotPool struct {
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

func newSlotPool(n int) *slotPool {
	return &slotPool{slots: make(chan struct{}, n), closed: make(chan struct{})}
}

func (p *slotPool) Submit(task func()) error {
	if task == nil {
		return executor.ErrNilTask
	}
	select {
	case <-p.closed:
		return executor.ErrClosed
	default:
	}
	select {
	case p.slots <- struct{}{}:
	case <-p.closed:
		return executor.ErrClosed
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() { <-p.slots }()
		task()
	}()
	return nil
}

func (p *slotPool) Shutdown(ctx context.Context) error {
	p.once.Do(func() { close(p.closed) })
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trySlotPool is slotPool with TrySubmit.
type trySlotPool struct{ *slotPool }

func (p trySlotPool) TrySubmit(task func()) error {
	select {
	case p.slots <- struct{}{}:
		<-p.slots // give it back: Submit takes it again at once, as nobody else submits in these tests
		return p.Submit(task)
	default:
		return executor.ErrOverloaded
	}
}

func TestSubmitContextFallback(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func() (executor.Executor, *slotPool)
	}{
		{"submit only", func() (executor.Executor, *slotPool) { p := newSlotPool(1); return p, p }},
		{"with TrySubmit", func() (executor.Executor, *slotPool) { p := newSlotPool(1); return trySlotPool{p}, p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, p := tc.new()
			defer func() {
				if err := ex.Shutdown(context.Background()); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			}()
			var abandonedRan atomic.Int32

			if err := executor.SubmitContext(context.Background(), ex, nil); !errors.Is(err, executor.ErrNilTask) {
				t.Errorf("SubmitContext(nil task): got %v, want ErrNilTask", err)
			}
			canceled, cancel := context.WithCancel(context.Background())
			cancel()
			if err := executor.SubmitContext(canceled, ex, func() { abandonedRan.Add(1) }); !errors.Is(err, context.Canceled) {
				t.Errorf("SubmitContext with a canceled ctx: got %v, want context.Canceled", err)
			}

			// Room: accepted, runs once, with a ctx that can be done.
			ran := make(chan struct{})
			ctx, cancelLive := context.WithCancel(context.Background())
			defer cancelLive()
			release := make(chan struct{})
			if err := executor.SubmitContext(ctx, ex, func() { close(ran); <-release }); err != nil {
				t.Fatalf("SubmitContext with room: got %v, want nil", err)
			}
			<-ran

			// Full: the wait ends with ctx, and the task never runs, even
			// once the abandoned Submit gets its slot.
			short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancelShort()
			err := executor.SubmitContext(short, ex, func() { abandonedRan.Add(1) })
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("SubmitContext on a full executor, deadline passed: got %v, want context.DeadlineExceeded", err)
			}
			close(release)

			// The abandoned Submit still holds its goroutine until the
			// executor takes its no-op wrapper; then the room is back.
			done := make(chan struct{})
			if err := executor.SubmitContext(context.Background(), ex, func() { close(done) }); err != nil {
				t.Fatalf("SubmitContext after the tasks finished: got %v, want nil", err)
			}
			<-done
			if err := ex.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if n := abandonedRan.Load(); n != 0 {
				t.Errorf("abandoned tasks that ran: got %d, want 0", n)
			}
			if got := len(p.slots); got != 0 {
				t.Errorf("slots held after Shutdown: got %d, want 0", got)
			}
			if err := executor.SubmitContext(ctx, ex, func() {}); !errors.Is(err, executor.ErrClosed) {
				t.Errorf("SubmitContext after Shutdown: got %v, want ErrClosed", err)
			}
		})
	}
}

// ctxPool records that SubmitContext went to its own method.
type ctxPool struct {
	*slotPool
	calls atomic.Int32
}

func (p *ctxPool) SubmitContext(ctx context.Context, task func()) error {
	p.calls.Add(1)
	return p.Submit(task)
}

func TestSubmitContextUsesAbility(t *testing.T) {
	p := &ctxPool{slotPool: newSlotPool(1)}
	defer p.Shutdown(context.Background())
	done := make(chan struct{})
	if err := executor.SubmitContext(context.Background(), p, func() { close(done) }); err != nil {
		t.Fatalf("SubmitContext: %v", err)
	}
	<-done
	if n := p.calls.Load(); n != 1 {
		t.Errorf("calls to the executor's own SubmitContext: got %d, want 1", n)
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[executor.Outcome]string{
		executor.Succeeded:  "succeeded",
		executor.Ignored:    "ignored",
		executor.Dropped:    "dropped",
		executor.Outcome(9): "Outcome(9)",
	} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q; want %q", uint8(o), got, want)
		}
	}
	var zero executor.Outcome
	if zero != executor.Succeeded {
		t.Errorf("the zero Outcome is %v; want succeeded", zero)
	}
}
