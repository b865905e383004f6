package pondpool

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// holder runs tasks that hold their worker until released, and counts how
// many run at once.
type holder struct {
	gate    chan struct{} // closed: every held task returns
	started atomic.Int64  // tasks that have started
	running atomic.Int64  // tasks running now
	peak    atomic.Int64  // the most running at once
	starts  chan struct{} // one value per start, while there is room
}

func newHolder() *holder {
	return &holder{gate: make(chan struct{}), starts: make(chan struct{}, 1024)}
}

// task returns a task that counts itself and waits for the gate.
func (h *holder) task() func() {
	return func() {
		h.started.Add(1)
		select {
		case h.starts <- struct{}{}:
		default:
		}
		n := h.running.Add(1)
		for {
			old := h.peak.Load()
			if n <= old || h.peak.CompareAndSwap(old, n) {
				break
			}
		}
		<-h.gate
		h.running.Add(-1)
	}
}

// fill submits n held tasks to p, which must accept each at once.
func (h *holder) fill(t *testing.T, p *Pool, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := p.TrySubmit(h.task()); err != nil {
			t.Fatalf("TrySubmit %d of %d: %v", i+1, n, err)
		}
	}
}

// settle gives a task that should not start a moment to start anyway: a
// bound that holds cannot signal that nothing more started.
func settle() { time.Sleep(20 * time.Millisecond) }

// queuedWaiters is the length of p's waiter list.
func queuedWaiters(p *Pool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for w := p.head; w != nil; w = w.next {
		n++
	}
	return n
}

// TestAbilities: a Pool is found to have every optional ability by type
// assertion, as callers find them.
func TestAbilities(t *testing.T) {
	var ex executor.Executor = newPool(t, executor.Config{Workers: 1})
	if _, ok := ex.(executor.ContextSubmitter); !ok {
		t.Error("Pool is not an executor.ContextSubmitter")
	}
	if _, ok := ex.(executor.TrySubmitter); !ok {
		t.Error("Pool is not an executor.TrySubmitter")
	}
	if _, ok := ex.(executor.Resizer); !ok {
		t.Error("Pool is not an executor.Resizer")
	}
	if _, ok := ex.(executor.StatsReporter); !ok {
		t.Error("Pool is not an executor.StatsReporter")
	}
}

// TestSubmitContextErrorOrder pins which error wins: ErrNilTask (not
// counted), then ctx's error if ctx is done on entry, then ErrClosed; every
// refusal but ErrNilTask counts in Rejected, and no refused task runs.
func TestSubmitContextErrorOrder(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	var ran atomic.Int32
	task := func() { ran.Add(1) }
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		task     func()
		shutdown bool
		want     error
		rejected uint64
	}{
		{"nil task, done ctx", canceled, nil, false, executor.ErrNilTask, 0},
		{"nil task, closed", context.Background(), nil, true, executor.ErrNilTask, 0},
		{"canceled", canceled, task, false, context.Canceled, 1},
		{"deadline", expired, task, false, context.DeadlineExceeded, 1},
		{"canceled beats closed", canceled, task, true, context.Canceled, 1},
		{"closed", context.Background(), task, true, executor.ErrClosed, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, executor.Config{Workers: 1})
			if tc.shutdown {
				if err := p.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.SubmitContext(tc.ctx, tc.task); !errors.Is(err, tc.want) {
				t.Fatalf("SubmitContext: got %v, want an error matching %v", err, tc.want)
			}
			if s := p.Stats(); s.Rejected != tc.rejected || s.Submitted != 0 {
				t.Fatalf("Stats: got %+v, want Rejected %d, Submitted 0", s, tc.rejected)
			}
		})
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("refused tasks ran %d times, want 0", n)
	}
}

// TestSubmitContextWaitEnds: on a full blocking Pool, SubmitContext waits,
// and returns ctx's error as soon as ctx is canceled or its deadline
// passes; the task never runs, and the caller holds no room: the next
// waiter (queued behind it) takes the room that frees up.
func TestSubmitContextWaitEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPool(t, executor.Config{Workers: 1, QueueSize: 1})
			h := newHolder()
			h.fill(t, p, 2)
			ctx, cancel := tc.ctx()
			defer cancel()
			var ran atomic.Bool
			first := make(chan error, 1)
			go func() { first <- p.SubmitContext(ctx, func() { ran.Store(true) }) }()
			waitFor(t, "the SubmitContext to wait", func() bool { return queuedWaiters(p) == 1 })
			second := make(chan error, 1)
			var secondRan atomic.Bool
			go func() { second <- p.Submit(func() { secondRan.Store(true) }) }()
			waitFor(t, "the Submit to wait behind it", func() bool { return queuedWaiters(p) == 2 })
			if tc.want == context.Canceled {
				cancel()
			}
			if err := recv(t, first, "SubmitContext to return"); !errors.Is(err, tc.want) {
				t.Fatalf("SubmitContext on a full Pool: got %v, want an error matching %v", err, tc.want)
			}
			if !stillBlocked(second) {
				t.Fatal("the Submit behind returned while the Pool was still full")
			}
			close(h.gate) // frees room: the Submit behind, not the gone SubmitContext, takes it
			if err := recv(t, second, "the Submit behind"); err != nil {
				t.Fatalf("Submit behind the canceled SubmitContext: got %v, want nil", err)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if ran.Load() || !secondRan.Load() {
				t.Fatalf("after Shutdown: canceled task ran %v (want false), task behind ran %v (want true)", ran.Load(), secondRan.Load())
			}
			if s := p.Stats(); s.Submitted != 3 || s.Completed != 3 || s.Rejected != 1 {
				t.Fatalf("Stats: got %+v, want Submitted 3, Completed 3, Rejected 1", s)
			}
		})
	}
}

// TestSubmitContextBackground: a ctx whose Done is nil waits like Submit,
// and is admitted once room frees up.
func TestSubmitContextBackground(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	h := newHolder()
	h.fill(t, p, 1)
	done := make(chan error, 1)
	go func() { done <- p.SubmitContext(context.Background(), func() {}) }()
	if !stillBlocked(done) {
		t.Fatal("SubmitContext(Background) on a full blocking Pool returned, want it to wait")
	}
	close(h.gate)
	if err := recv(t, done, "SubmitContext"); err != nil {
		t.Fatalf("SubmitContext(Background) once room freed: got %v, want nil", err)
	}
}

// TestWaitersFirstComeFirstServed: callers waiting for room are admitted in
// the order they began to wait, and a Submit that arrives while others wait
// waits behind them even if room has just freed up.
func TestWaitersFirstComeFirstServed(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	first := make(chan struct{})
	if err := p.Submit(func() { <-first }); err != nil {
		t.Fatal(err)
	}
	const n = 5
	order := make(chan int, n)
	gates := make([]chan struct{}, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		i := i
		gates[i] = make(chan struct{})
		ctx := context.Background()
		if i%2 == 1 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx) // a waiter that could give up, but does not
			defer cancel()
		}
		go func() {
			errs <- p.SubmitContext(ctx, func() { order <- i; <-gates[i] })
		}()
		waitFor(t, fmt.Sprintf("waiter %d to queue", i), func() bool { return queuedWaiters(p) == i+1 })
	}
	close(first)
	for i := 0; i < n; i++ {
		if got := recv(t, order, "the next waiter's task"); got != i {
			t.Fatalf("task %d of the waiters ran; want %d (first come, first served)", got, i)
		}
		close(gates[i])
	}
	for i := 0; i < n; i++ {
		if err := recv(t, errs, "a waiter"); err != nil {
			t.Fatalf("waiter: %v", err)
		}
	}
}

// TestTrySubmit: TrySubmit never waits, on a blocking Pool too, and refuses
// with ErrOverloaded exactly when Workers tasks run and QueueSize wait.
func TestTrySubmit(t *testing.T) {
	for _, nonblocking := range []bool{false, true} {
		t.Run(fmt.Sprintf("nonblocking=%v", nonblocking), func(t *testing.T) {
			const workers, queue = 2, 3
			p := newPool(t, executor.Config{Workers: workers, QueueSize: queue, Nonblocking: nonblocking})
			h := newHolder()
			h.fill(t, p, workers+queue) // fill fails the test if one of these is refused
			if err := p.TrySubmit(func() {}); !errors.Is(err, executor.ErrOverloaded) {
				t.Fatalf("TrySubmit on a full Pool: got %v, want ErrOverloaded", err)
			}
			if err := p.TrySubmit(nil); !errors.Is(err, executor.ErrNilTask) {
				t.Fatalf("TrySubmit(nil): got %v, want ErrNilTask", err)
			}
			close(h.gate)
			waitFor(t, "the held tasks to finish", func() bool { return p.Stats().Completed == workers+queue })
			if err := p.TrySubmit(func() {}); err != nil {
				t.Fatalf("TrySubmit with room: got %v, want nil", err)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := p.TrySubmit(func() {}); !errors.Is(err, executor.ErrClosed) {
				t.Fatalf("TrySubmit after Shutdown: got %v, want ErrClosed", err)
			}
			if s := p.Stats(); s.Rejected != 2 || s.Submitted != workers+queue+1 {
				t.Fatalf("Stats: got %+v, want Rejected 2, Submitted %d", s, workers+queue+1)
			}
		})
	}
}

// TestResizeErrors: Resize refuses bounds CheckResize refuses, and any
// bound once Shutdown has begun; a refused Resize changes nothing.
func TestResizeErrors(t *testing.T) {
	const queue = 10
	p := newPool(t, executor.Config{Workers: 3, QueueSize: queue})
	for _, n := range []int{0, -1, executor.MaxCapacity - queue + 1} {
		if err := p.Resize(n); !errors.Is(err, executor.ErrInvalidConfig) {
			t.Errorf("Resize(%d): got %v, want ErrInvalidConfig", n, err)
		}
	}
	if got := p.Stats().Workers; got != 3 {
		t.Fatalf("Stats().Workers after refused Resizes: got %d, want 3", got)
	}
	if err := p.Resize(executor.MaxCapacity - queue); err != nil {
		t.Fatalf("Resize(MaxCapacity-QueueSize): got %v, want nil", err)
	}
	if err := p.Resize(5); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Resize(7); !errors.Is(err, executor.ErrClosed) {
		t.Fatalf("Resize after Shutdown: got %v, want ErrClosed", err)
	}
	if got := p.Stats().Workers; got != 5 {
		t.Fatalf("Stats().Workers: got %d, want 5 (the last Resize that succeeded)", got)
	}
}

// TestResizeUp: growing lets waiting Submits through and starts queued
// tasks at once, up to the new bound.
func TestResizeUp(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1, QueueSize: 2})
	h := newHolder()
	defer close(h.gate)
	h.fill(t, p, 3) // one runs, two wait in pond's queue
	waitFor(t, "the first task to start", func() bool { return h.started.Load() == 1 })
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() { errs <- p.Submit(h.task()) }()
	}
	waitFor(t, "two Submits to wait", func() bool { return queuedWaiters(p) == 2 })
	if err := p.Resize(5); err != nil {
		t.Fatal(err)
	}
	if got := p.Stats().Workers; got != 5 {
		t.Fatalf("Stats().Workers right after Resize(5): got %d, want 5", got)
	}
	for i := 0; i < 2; i++ {
		if err := recv(t, errs, "a waiting Submit"); err != nil {
			t.Fatalf("waiting Submit after Resize up: %v", err)
		}
	}
	waitFor(t, "all 5 tasks to run at once", func() bool { return h.running.Load() == 5 })
	if err := p.TrySubmit(func() {}); err != nil {
		t.Fatalf("TrySubmit with 5 running, bound 5, queue 2 empty: got %v, want nil", err)
	}
}

// TestResizeDown: shrinking interrupts no running task, and once they have
// finished at most the new bound run at once.
func TestResizeDown(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 4, QueueSize: 20})
	old := newHolder()
	old.fill(t, p, 4)
	waitFor(t, "4 tasks to run", func() bool { return old.running.Load() == 4 })
	if err := p.Resize(1); err != nil {
		t.Fatal(err)
	}
	if got := p.Stats().Workers; got != 1 {
		t.Fatalf("Stats().Workers right after Resize(1): got %d, want 1", got)
	}
	// Room is now 1+20, of which the 4 running take 4.
	h := newHolder()
	h.fill(t, p, 17)
	if err := p.TrySubmit(func() {}); !errors.Is(err, executor.ErrOverloaded) {
		t.Fatalf("TrySubmit with 21 taken of 1+20: got %v, want ErrOverloaded", err)
	}
	if n := old.running.Load(); n != 4 {
		t.Fatalf("running tasks after Resize down: got %d, want all 4 still running", n)
	}
	close(old.gate)
	recv(t, h.starts, "a new task to start")
	if !stillBlocked(h.starts) {
		t.Fatalf("a second new task started with the first still running and the bound 1")
	}
	close(h.gate)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.peak.Load(); n != 1 {
		t.Fatalf("most new tasks running at once after Resize(1): got %d, want 1", n)
	}
}

// TestResizeUpAfterDownKeepsBound: growing while more tasks still run than
// the bound a shrink set starts nothing beyond the new bound (pond's Resize
// starts a worker per queued task, and each checks the bound before it
// takes one); as the old tasks finish, queued ones start up to the new
// bound, with no further Submit or Resize to prompt them.
func TestResizeUpAfterDownKeepsBound(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 4, QueueSize: 8})
	var running, peak atomic.Int64
	gate := func(g chan struct{}) func() {
		return func() {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			<-g
			running.Add(-1)
		}
	}
	oldGate, newGate := make(chan struct{}), make(chan struct{})
	for i := 0; i < 4; i++ {
		if err := p.TrySubmit(gate(oldGate)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "4 tasks to run", func() bool { return running.Load() == 4 })
	if err := p.Resize(1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ { // queued: 4 run, bound 1
		if err := p.TrySubmit(gate(newGate)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Resize(3); err != nil {
		t.Fatal(err)
	}
	if got := p.Stats().Workers; got != 3 {
		t.Fatalf("Stats().Workers: got %d, want 3", got)
	}
	// Release the old tasks one at a time: with k of them left, 3-k new
	// ones may run, and never more than 4 in all.
	for left := 3; left >= 0; left-- {
		oldGate <- struct{}{}
		want := int64(3)
		waitFor(t, fmt.Sprintf("%d tasks to run with %d old ones left", want, left), func() bool { return running.Load() == want })
		if n := peak.Load(); n > 4 {
			t.Fatalf("most tasks running at once: got %d, want at most 4", n)
		}
	}
	peak.Store(0)
	settle()
	if running.Load() != 3 || peak.Load() > 3 {
		t.Fatalf("tasks running with every old one done and the bound 3: got %d (peak %d), want 3", running.Load(), peak.Load())
	}
	close(newGate)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestResizeRaces races Resize with Submit, SubmitContext (some canceled),
// TrySubmit and Shutdown: every accepted task runs exactly once, no refused
// one runs, the most tasks running at once never exceeds the largest bound
// ever set, and the final Stats add up.
func TestResizeRaces(t *testing.T) {
	for round := 0; round < 4; round++ {
		round := round
		t.Run(fmt.Sprintf("round=%d", round), func(t *testing.T) {
			const maxBound = 6
			p := newPool(t, executor.Config{Workers: 2, QueueSize: round})
			var running, peak, ran atomic.Int64
			var accepted, refused atomic.Int64
			task := func() {
				n := running.Add(1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				for i := 0; i < 50; i++ {
					_ = rand.Int() // a little work, without sleeping
				}
				running.Add(-1)
				ran.Add(1)
			}
			count := func(err error) bool {
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, executor.ErrClosed):
					refused.Add(1)
					return false
				case errors.Is(err, executor.ErrOverloaded), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
					refused.Add(1)
					runtime.Gosched() // a spinning caller would starve the workers of the CPUs
				default:
					t.Errorf("unexpected error: %v", err)
					return false
				}
				return true
			}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for g := 0; g < 6; g++ {
				g := g
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewSource(int64(g)))
					for i := 0; ; i++ {
						var err error
						switch g % 3 {
						case 0:
							err = p.Submit(task)
						case 1:
							ctx, cancel := context.WithCancel(context.Background())
							if r.Intn(4) == 0 {
								cancel()
							} else if r.Intn(3) == 0 {
								go cancel()
							}
							err = p.SubmitContext(ctx, task)
							cancel()
						case 2:
							err = p.TrySubmit(task)
						}
						if !count(err) {
							return
						}
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewSource(99))
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := p.Resize(1 + r.Intn(maxBound)); err != nil {
						if !errors.Is(err, executor.ErrClosed) {
							t.Errorf("Resize: %v", err)
						}
						return
					}
					runtime.Gosched()
				}
			}()
			waitFor(t, "some tasks to run", func() bool { return ran.Load() >= 20000 })
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			close(stop)
			wg.Wait()
			if got, want := ran.Load(), accepted.Load(); got != want {
				t.Fatalf("tasks run: got %d, want %d (accepted)", got, want)
			}
			if n := peak.Load(); n > maxBound {
				t.Fatalf("most tasks running at once: got %d, want at most %d", n, maxBound)
			}
			s := p.Stats()
			if s.Submitted != uint64(accepted.Load()) || s.Completed != s.Submitted || s.Rejected != uint64(refused.Load()) ||
				s.Running != 0 || s.Queued != 0 {
				t.Fatalf("Stats after Shutdown: got %+v, want Submitted = Completed = %d, Rejected %d, gauges 0",
					s, accepted.Load(), refused.Load())
			}
		})
	}
}

// TestResizeGrowsSlots: a Resize beyond the capacity New sized the slots
// for replaces them with a larger set, so that handing tasks to pond stays
// free of allocation; tasks in the old slots still run exactly once.
func TestResizeGrowsSlots(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1, QueueSize: 1})
	old := len(p.slots.Load().slots)
	h := newHolder()
	h.fill(t, p, 2) // in the old slots
	const workers = 200
	if err := p.Resize(workers); err != nil {
		t.Fatal(err)
	}
	if got, want := len(p.slots.Load().slots), 2*(workers+1); got < want {
		t.Fatalf("slots after Resize(%d): got %d (New made %d), want at least %d", workers, got, old, want)
	}
	h.fill(t, p, workers-1) // in the new ones
	waitFor(t, "Workers held tasks to run", func() bool { return h.running.Load() == workers })
	close(h.gate)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Submitted != workers+1 || s.Completed != workers+1 {
		t.Fatalf("Stats: got %+v, want Submitted = Completed = %d", s, workers+1)
	}
	if got := h.started.Load(); got != workers+1 {
		t.Fatalf("tasks started: got %d, want %d", got, workers+1)
	}
}
