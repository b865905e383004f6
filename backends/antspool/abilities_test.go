package antspool

import (
	"context"
	"errors"
	"math/rand"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

func TestImplementsAbilities(t *testing.T) {
	var ex executor.Executor = newPool(t, executor.Config{Workers: 1})
	if _, ok := ex.(executor.ContextSubmitter); !ok {
		t.Error("*Pool does not implement executor.ContextSubmitter")
	}
	if _, ok := ex.(executor.TrySubmitter); !ok {
		t.Error("*Pool does not implement executor.TrySubmitter")
	}
	if _, ok := ex.(executor.Resizer); !ok {
		t.Error("*Pool does not implement executor.Resizer")
	}
}

// newGate returns a channel that tasks wait on and the function that opens
// it, which may be called more than once and is called at cleanup, before
// the Pool's Shutdown, so that a failed test does not hang there.
func newGate(t *testing.T) (gate chan struct{}, open func()) {
	gate = make(chan struct{})
	open = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(open)
	return gate, open
}

// fill submits workers+queue tasks that wait for gate, and waits until
// workers of them run.
func fill(t *testing.T, p *Pool, workers, queue int, gate <-chan struct{}) {
	t.Helper()
	var started atomic.Int32
	for i := 0; i < workers+queue; i++ {
		if err := p.Submit(func() { started.Add(1); <-gate }); err != nil {
			t.Fatalf("Submit %d while filling: %v", i, err)
		}
	}
	waitFor(t, "Workers tasks to start", func() bool { return started.Load() == int32(workers) })
}

// TestSubmitPrecedence: a nil task is ErrNilTask and not counted; a ctx
// done on entry wins over Shutdown; then ErrClosed. Every other refusal
// counts in Rejected.
func TestSubmitPrecedence(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	task := func() { ran = true }

	if err := p.SubmitContext(canceled, nil); !errors.Is(err, executor.ErrNilTask) {
		t.Fatalf("SubmitContext(canceled, nil): got %v, want ErrNilTask", err)
	}
	if err := p.TrySubmit(nil); !errors.Is(err, executor.ErrNilTask) {
		t.Fatalf("TrySubmit(nil): got %v, want ErrNilTask", err)
	}
	if err := p.SubmitContext(canceled, task); !errors.Is(err, context.Canceled) {
		t.Fatalf("SubmitContext(canceled) on an idle pool: got %v, want context.Canceled", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.SubmitContext(canceled, task); !errors.Is(err, context.Canceled) {
		t.Fatalf("SubmitContext(canceled) after Shutdown: got %v, want context.Canceled", err)
	}
	if err := p.SubmitContext(context.Background(), task); !errors.Is(err, executor.ErrClosed) {
		t.Fatalf("SubmitContext after Shutdown: got %v, want ErrClosed", err)
	}
	if err := p.TrySubmit(task); !errors.Is(err, executor.ErrClosed) {
		t.Fatalf("TrySubmit after Shutdown: got %v, want ErrClosed", err)
	}
	if ran {
		t.Fatal("a refused task ran")
	}
	if s := p.Stats(); s.Rejected != 4 || s.Submitted != 0 {
		t.Fatalf("Stats: got %+v, want Rejected 4 (the nil tasks not counted), Submitted 0", s)
	}
}

// TestSubmitContextGivesUp: on a full blocking pool SubmitContext waits,
// returns ctx's error when ctx ends (cancel or deadline), never runs its
// task, and holds no room afterwards.
func TestSubmitContextGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond) // the pool stays full: it expires
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const workers, queue = 1, 1
			p := newPool(t, executor.Config{Workers: workers, QueueSize: queue})
			gate, open := newGate(t)
			fill(t, p, workers, queue, gate)
			ctx, cancel := tc.ctx()
			defer cancel()
			var ran atomic.Bool
			got := make(chan error, 1)
			go func() { got <- p.SubmitContext(ctx, func() { ran.Store(true) }) }()
			waitFor(t, "SubmitContext to wait", func() bool { return p.waiters.Load() == 1 })
			if tc.want == context.Canceled {
				cancel()
			}
			if err := recv(t, got, "SubmitContext to give up"); !errors.Is(err, tc.want) {
				t.Fatalf("SubmitContext on a full pool whose ctx ended: got %v, want %v", err, tc.want)
			}
			if n := p.waiters.Load(); n != 0 {
				t.Fatalf("waiters after giving up: got %d, want 0", n)
			}
			open()
			// The room it would have had is free: one more task fits at once.
			waitFor(t, "the pool to drain", func() bool { s := p.Stats(); return s.Completed == 2 && s.Running == 0 && s.Queued == 0 })
			if err := p.TrySubmit(func() {}); err != nil {
				t.Fatalf("TrySubmit after the waiter gave up and the pool drained: got %v, want nil", err)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if ran.Load() {
				t.Fatal("the task of the SubmitContext that gave up ran")
			}
			if s := p.Stats(); s.Rejected != 1 || s.Submitted != 3 {
				t.Fatalf("Stats: got %+v, want Rejected 1, Submitted 3", s)
			}
		})
	}
}

// TestGivingUpPassesWakeUp: a waiter whose ctx ends just as room frees up
// and wakes it must hand that wake-up to the next waiter, or the next one
// waits although there is room.
func TestGivingUpPassesWakeUp(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	gate, open := newGate(t)
	fill(t, p, 1, 0, gate)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// When the first waiter has seen its ctx end, and before it leaves the
	// list, free the room: the wake-up goes to it, the oldest waiter.
	p.testHookGaveUp = func() {
		open()
		for p.waiters.Load() != 1 { // the wake-up is sent: the task's finish is bound to happen
			runtime.Gosched()
		}
	}
	first := make(chan error, 1)
	go func() {
		first <- p.SubmitContext(ctx, func() { t.Error("the task of the SubmitContext that gave up ran") })
	}()
	waitFor(t, "the first waiter", func() bool { return p.waiters.Load() == 1 })
	second := make(chan error, 1)
	ran := make(chan struct{})
	go func() { second <- p.Submit(func() { close(ran) }) }()
	waitFor(t, "the second waiter", func() bool { return p.waiters.Load() == 2 })
	cancel()
	if err := recv(t, first, "the first waiter"); !errors.Is(err, context.Canceled) {
		t.Fatalf("first waiter: got %v, want context.Canceled", err)
	}
	if err := recv(t, second, "the second waiter to be let in"); err != nil {
		t.Fatalf("second waiter: got %v, want nil", err)
	}
	recv(t, ran, "the second waiter's task")
}

// TestSubmitContextClosed: a SubmitContext waiting when Shutdown begins
// returns ErrClosed.
func TestSubmitContextClosed(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 1})
	gate, open := newGate(t)
	fill(t, p, 1, 0, gate)
	got := make(chan error, 1)
	go func() { got <- p.SubmitContext(context.Background(), func() {}) }()
	waitFor(t, "SubmitContext to wait", func() bool { return p.waiters.Load() == 1 })
	done := make(chan error, 1)
	go func() { done <- p.Shutdown(context.Background()) }()
	if err := recv(t, got, "the waiting SubmitContext"); !errors.Is(err, executor.ErrClosed) {
		t.Fatalf("SubmitContext waiting across Shutdown: got %v, want ErrClosed", err)
	}
	open()
	if err := recv(t, done, "Shutdown"); err != nil {
		t.Fatal(err)
	}
}

// TestTrySubmit: TrySubmit never waits, on a blocking pool too, and
// refuses only when Workers run and QueueSize wait.
func TestTrySubmit(t *testing.T) {
	for _, nonblocking := range []bool{false, true} {
		const workers, queue = 2, 3
		p := newPool(t, executor.Config{Workers: workers, QueueSize: queue, Nonblocking: nonblocking})
		gate, open := newGate(t)
		var started atomic.Int32
		for i := 0; i < workers+queue; i++ {
			if err := p.TrySubmit(func() { started.Add(1); <-gate }); err != nil {
				t.Fatalf("Nonblocking %v: TrySubmit %d of %d: got %v, want nil", nonblocking, i+1, workers+queue, err)
			}
		}
		waitFor(t, "Workers tasks to start", func() bool { return started.Load() == workers })
		if err := p.TrySubmit(func() {}); !errors.Is(err, executor.ErrOverloaded) {
			t.Fatalf("Nonblocking %v: TrySubmit on a full pool: got %v, want ErrOverloaded", nonblocking, err)
		}
		open()
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s := p.Stats(); s.Rejected != 1 || s.Submitted != workers+queue {
			t.Fatalf("Nonblocking %v: Stats: got %+v, want Rejected 1, Submitted %d", nonblocking, s, workers+queue)
		}
	}
}

func TestResizeErrors(t *testing.T) {
	p := newPool(t, executor.Config{Workers: 2, QueueSize: 10})
	for _, n := range []int{0, -1, executor.MaxCapacity - 9, executor.MaxCapacity} {
		if err := p.Resize(n); !errors.Is(err, executor.ErrInvalidConfig) || !strings.HasPrefix(err.Error(), "antspool: ") {
			t.Errorf("Resize(%d): got %v, want an antspool error matching ErrInvalidConfig", n, err)
		}
	}
	if err := p.Resize(executor.MaxCapacity - 10); err != nil {
		t.Errorf("Resize(MaxCapacity-QueueSize): got %v, want nil", err)
	}
	if got := p.Stats().Workers; got != executor.MaxCapacity-10 {
		t.Errorf("Stats().Workers after Resize(MaxCapacity-QueueSize): got %d, want %d", got, executor.MaxCapacity-10)
	}
	if err := p.Resize(3); err != nil {
		t.Fatalf("Resize(3): %v", err)
	}
	if got := p.Stats().Workers; got != 3 {
		t.Errorf("Stats().Workers after Resize(3): got %d, want 3", got)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Resize(4); !errors.Is(err, executor.ErrClosed) {
		t.Errorf("Resize after Shutdown: got %v, want ErrClosed", err)
	}
	if err := p.Resize(0); !errors.Is(err, executor.ErrInvalidConfig) {
		t.Errorf("Resize(0) after Shutdown: got %v, want ErrInvalidConfig (checked first)", err)
	}
}

// TestResizeUp: growing starts the queued task and lets the waiting
// submitters in at once, up to the new bound, with no task finishing.
func TestResizeUp(t *testing.T) {
	const queue = 1
	p := newPool(t, executor.Config{Workers: 1, QueueSize: queue})
	gate, _ := newGate(t)
	var started atomic.Int32
	task := func() { started.Add(1); <-gate }
	for i := 0; i < 2; i++ {
		if err := p.Submit(task); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the first task to start", func() bool { return started.Load() == 1 })
	got := make(chan error, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { got <- p.Submit(task) }()
	go func() { got <- p.SubmitContext(ctx, task) }()
	go func() { got <- p.Submit(task) }()
	waitFor(t, "three submitters to wait", func() bool { return p.waiters.Load() == 3 })
	// 4 workers and 1 slot in the queue: the two accepted tasks and two of
	// the waiting ones run, the third waiting one is queued.
	if err := p.Resize(4); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Workers != 4 {
		t.Fatalf("Stats().Workers right after Resize(4): got %d, want 4", s.Workers)
	}
	for i := 0; i < 3; i++ {
		if err := recv(t, got, "the waiting submitters to be let in"); err != nil {
			t.Fatalf("waiting submitter after Resize up: got %v, want nil", err)
		}
	}
	waitFor(t, "4 tasks to run", func() bool { return started.Load() == 4 })
	if err := p.TrySubmit(task); !errors.Is(err, executor.ErrOverloaded) {
		t.Fatalf("TrySubmit with 4 running and 1 queued after Resize(4): got %v, want ErrOverloaded", err)
	}
	if s := p.Stats(); s.Running != 4 || s.Queued != 1 {
		t.Fatalf("Stats after Resize(4): got %+v, want Running 4, Queued 1", s)
	}
}

// concurrency tracks how many tasks run at once.
type concurrency struct{ now, most atomic.Int32 }

func (c *concurrency) enter() int32 {
	n := c.now.Add(1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
	return n
}

func (c *concurrency) leave() { c.now.Add(-1) }

// TestResizeDown: shrinking interrupts no running task, and the tasks
// queued behind them start only while fewer than the new bound run: the
// workers over the bound leave instead of taking them.
func TestResizeDown(t *testing.T) {
	const workers, queue, bound = 4, 8, 2
	p := newPool(t, executor.Config{Workers: workers, QueueSize: queue})
	var c concurrency
	opens := make([]func(), workers)
	var started atomic.Int32
	for i := range opens {
		var gate chan struct{}
		gate, opens[i] = newGate(t)
		if err := p.Submit(func() { c.enter(); started.Add(1); <-gate; c.leave() }); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "Workers tasks to start", func() bool { return started.Load() == workers })
	var most atomic.Int32 // the most running when a queued task started
	for i := 0; i < queue; i++ {
		if err := p.Submit(func() {
			n := c.enter()
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			runtime.Gosched()
			c.leave()
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Resize(bound); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Workers != bound || s.Running > bound {
		t.Fatalf("Stats right after Resize(%d): got %+v, want Workers %d and Running at most %d", bound, s, bound, bound)
	}
	for i, open := range opens {
		open()
		if i == 0 {
			waitFor(t, "the first task to finish", func() bool { return p.Stats().Completed == 1 })
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m > bound {
		t.Fatalf("most tasks running when a queued task started after Resize(%d): got %d, want at most %d", bound, m, bound)
	}
	if s := p.Stats(); s.Completed != workers+queue {
		t.Fatalf("Stats: got %+v, want Completed %d", s, workers+queue)
	}
}

// TestResizeDownIdleWorkers: ants keeps idle workers beyond a lowered
// capacity and hands them tasks; the Pool's own run slots must hold the
// new bound anyway.
func TestResizeDownIdleWorkers(t *testing.T) {
	const workers, bound = 4, 1
	p := newPool(t, executor.Config{Workers: workers, QueueSize: workers})
	warm := make(chan struct{})
	fill(t, p, workers, 0, warm) // leave 4 ants workers idle
	close(warm)
	waitFor(t, "the warm-up tasks to finish", func() bool {
		s := p.Stats()
		return s.Completed == workers && s.Running == 0 && s.Queued == 0
	})
	if err := p.Resize(bound); err != nil {
		t.Fatal(err)
	}
	var c concurrency
	gate, open := newGate(t)
	var started atomic.Int32
	for i := 0; i < workers; i++ {
		if err := p.Submit(func() { c.enter(); started.Add(1); <-gate; c.leave() }); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "one task to start", func() bool { return started.Load() == bound })
	if s := p.Stats(); s.Queued != workers-bound {
		t.Fatalf("Stats after Resize(%d) and %d Submits: got %+v, want Queued %d", bound, workers, s, workers-bound)
	}
	open()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m := c.most.Load(); m > bound {
		t.Fatalf("most tasks running at once after Resize(%d): got %d, want %d", bound, m, bound)
	}
}

// TestOverflow: after a Resize up past New's bound, tasks that find the
// channel full go to the overflow list, and pop takes them all, once each.
func TestOverflow(t *testing.T) {
	// No ants pool and no run slots: push cannot kick, pop is called here.
	p := &Pool{queue: make(chan func(), 2)}
	const n = 7
	ran := make([]int, n)
	for i := 0; i < n; i++ {
		i := i
		p.push(func() { ran[i]++ })
	}
	if got := p.overflowN.Load(); got != n-2 {
		t.Fatalf("overflow after %d pushes into a channel of 2: got %d, want %d", n, got, n-2)
	}
	for i := 0; i < n; i++ {
		task := p.pop()
		if task == nil {
			t.Fatalf("pop %d of %d: got nil", i+1, n)
		}
		task()
	}
	if task := p.pop(); task != nil || p.queued.Load() != 0 || p.overflowN.Load() != 0 {
		t.Fatalf("after popping all: got task %v, queued %d, overflow %d; want nil, 0, 0", task != nil, p.queued.Load(), p.overflowN.Load())
	}
	for i, r := range ran {
		if r != 1 {
			t.Fatalf("task %d ran %d times, want once", i, r)
		}
	}
}

// TestResizeRace: Resize racing Submit, SubmitContext, TrySubmit and
// Shutdown loses no accepted task, runs none twice, never runs more tasks
// at once than the largest bound set, and leaks nothing (TestMain).
func TestResizeRace(t *testing.T) {
	for round := 0; round < 20; round++ {
		p, err := New(executor.Config{Workers: 2, QueueSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		const maxBound = 6
		var c concurrency
		var accepted, ran atomic.Int64
		task := func() { c.enter(); ran.Add(1); runtime.Gosched(); c.leave() }
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 4; g++ {
			g := g
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewSource(int64(round*10 + g)))
				for i := 0; i < 300; i++ {
					var err error
					switch r.Intn(3) {
					case 0:
						err = p.Submit(task)
					case 1:
						ctx, cancel := context.WithCancel(context.Background())
						if r.Intn(2) == 0 {
							cancel()
						}
						err = p.SubmitContext(ctx, task)
						cancel()
					default:
						err = p.TrySubmit(task)
					}
					if err == nil {
						accepted.Add(1)
					} else if errors.Is(err, executor.ErrClosed) {
						return
					}
				}
			}()
		}
		for g := 0; g < 2; g++ { // two, so that Resize races Resize too
			g := g
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewSource(int64(round*10 + 5 + g)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					if err := p.Resize(1 + r.Intn(maxBound)); err != nil && !errors.Is(err, executor.ErrClosed) {
						t.Errorf("Resize: %v", err)
						return
					}
					runtime.Gosched()
				}
			}()
		}
		if round%2 == 1 {
			runtime.Gosched()
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		if round%2 == 0 {
			// Shut down while everything runs; otherwise after.
			err = p.Shutdown(ctx)
			close(stop)
			wg.Wait()
		} else {
			close(stop)
			wg.Wait()
			err = p.Shutdown(ctx)
		}
		cancel()
		if err != nil {
			t.Fatalf("round %d: Shutdown: %v", round, err)
		}
		if a, r := accepted.Load(), ran.Load(); a != r {
			t.Fatalf("round %d: accepted %d tasks, ran %d", round, a, r)
		}
		s := p.Stats()
		if s.Submitted != uint64(accepted.Load()) || s.Completed != s.Submitted || s.Running != 0 || s.Queued != 0 {
			t.Fatalf("round %d: Stats after Shutdown: got %+v, want Submitted == Completed == %d, Running == Queued == 0", round, s, accepted.Load())
		}
		if m := c.most.Load(); m > maxBound {
			t.Fatalf("round %d: most tasks running at once: got %d, want at most %d", round, m, maxBound)
		}
	}
}

// TestPanicHandlerGoexit: a PanicHandler that calls runtime.Goexit (as
// t.FailNow does) ends the worker goroutine inside RunTask; the panic must
// still be counted, and the tasks queued behind it run.
func TestPanicHandlerGoexit(t *testing.T) {
	const n = 5
	p := newPool(t, executor.Config{Workers: 1, QueueSize: n, PanicHandler: func(any) { runtime.Goexit() }})
	var ok atomic.Int32
	for i := 0; i < n; i++ {
		if err := p.Submit(func() { panic("boom") }); err != nil {
			t.Fatal(err)
		}
		if err := p.Submit(func() { ok.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Panicked != n || s.Completed != 2*n || ok.Load() != n {
		t.Fatalf("Stats: got %+v and %d plain tasks run, want Panicked %d, Completed %d, %d run", s, ok.Load(), n, 2*n, n)
	}
}

// TestPanicNilOldSemantics: under GODEBUG=panicnil=1, panic(nil) recovers
// as nil, like runtime.Goexit; it is still a panic, handed to the
// PanicHandler as a *runtime.PanicNilError and counted. It reruns itself in
// a subprocess with that setting.
func TestPanicNilOldSemantics(t *testing.T) {
	if os.Getenv("ANTSPOOL_PANICNIL_CHILD") == "1" {
		var mu sync.Mutex
		var got []any
		p := newPool(t, executor.Config{Workers: 1, PanicHandler: func(v any) {
			mu.Lock()
			got = append(got, v)
			mu.Unlock()
		}})
		if err := p.Submit(func() { panic(nil) }); err != nil {
			t.Fatal(err)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		var pe *runtime.PanicNilError
		if s := p.Stats(); s.Panicked != 1 || s.Completed != 1 || len(got) != 1 || !errors.As(got[0].(error), &pe) {
			t.Fatalf("under panicnil=1: Stats %+v, handler got %#v; want Panicked 1, Completed 1 and one *runtime.PanicNilError", s, got)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPanicNilOldSemantics$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GODEBUG=panicnil=1", "ANTSPOOL_PANICNIL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("subprocess under GODEBUG=panicnil=1: %v\n%s", err, out)
	}
}
