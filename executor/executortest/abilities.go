package executortest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// The subtests of the optional abilities: each checks an executor that
// implements the ability and logs, without failing, one that does not.

// contextSubmitter returns ex's SubmitContext, or nil after logging that ex
// has none.
func contextSubmitter(t *testing.T, ex executor.Executor) executor.ContextSubmitter {
	t.Helper()
	cs, ok := ex.(executor.ContextSubmitter)
	if !ok {
		t.Logf("%T does not implement executor.ContextSubmitter: SubmitContext not checked", ex)
	}
	return cs
}

// fill starts cfg.Workers tasks held by g and queues cfg.QueueSize more, so
// that the executor has no room, and returns the Submits' results. The
// first task is held by first instead, if it is not nil.
func (s *suite) fill(t *testing.T, ex executor.Executor, cfg executor.Config, p *probe, g, first *gate) []<-chan error {
	t.Helper()
	var submits []<-chan error
	for i := 0; i < cfg.Workers; i++ {
		if i == 0 && first != nil {
			submits = append(submits, submit(ex, p.task(first)))
			continue
		}
		submits = append(submits, submit(ex, p.task(g)))
	}
	s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)
	for i := 0; i < cfg.QueueSize; i++ {
		if err := s.submitNow(t, ex, p.task(g), "queued task %d of QueueSize %d", i+1, cfg.QueueSize); err != nil {
			t.Fatalf("Submit of queued task %d of QueueSize %d, every worker busy: got %v, want nil", i+1, cfg.QueueSize, err)
		}
	}
	return submits
}

// rejectedDelta returns a func that reports how much Stats.Rejected grew
// since this call, and whether ex reports Stats at all.
func rejectedDelta(ex executor.Executor) func() (uint64, bool) {
	r, ok := ex.(executor.StatsReporter)
	if !ok {
		return func() (uint64, bool) { return 0, false }
	}
	before := r.Stats().Rejected
	return func() (uint64, bool) { return r.Stats().Rejected - before, true }
}

func testSubmitContext(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 1},
		{Workers: 2, QueueSize: 1},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		ex := s.start(t, cfg)
		cs := contextSubmitter(t, ex)
		if cs == nil {
			return
		}
		rejected := rejectedDelta(ex)
		var wantRejected uint64
		var neverRan atomic.Int32
		never := func() { neverRan.Add(1) }

		// A nil task is ErrNilTask whatever ctx says, and not counted.
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := cs.SubmitContext(canceled, nil); !errors.Is(err, executor.ErrNilTask) {
			t.Errorf("SubmitContext(canceled ctx, nil): got %v, want an error matching executor.ErrNilTask", err)
		}

		// Done on entry: refused at once, with room to spare.
		err := s.await(t, call(func() error { return cs.SubmitContext(canceled, never) }), "SubmitContext with a canceled ctx on an idle executor")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("SubmitContext with a ctx canceled on entry, idle executor: got %v, want an error matching context.Canceled", err)
		} else {
			wantRejected++
		}
		expired, cancelExpired := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancelExpired()
		err = s.await(t, call(func() error { return cs.SubmitContext(expired, never) }), "SubmitContext with an expired ctx on an idle executor")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SubmitContext with a ctx past its deadline on entry, idle executor: got %v, want an error matching context.DeadlineExceeded", err)
		} else {
			wantRejected++
		}

		// Accepted: runs exactly once.
		var ran atomic.Int32
		ran1 := make(chan struct{})
		live, cancelLive := context.WithTimeout(context.Background(), time.Hour)
		defer cancelLive()
		if err := s.await(t, call(func() error {
			return cs.SubmitContext(live, func() { ran.Add(1); close(ran1) })
		}), "SubmitContext on an idle executor"); err != nil {
			t.Fatalf("SubmitContext on an idle executor: got %v, want nil", err)
		}
		s.wait(t, ran1, "the task accepted by SubmitContext to run")

		// Full: a waiting SubmitContext ends with its ctx, by deadline and by
		// cancel, and holds no room afterwards.
		var p probe
		g := newGate(t)
		firstGate := newGate(t)
		submits := s.fill(t, ex, cfg, &p, g, firstGate)

		short, cancelShort := context.WithTimeout(context.Background(), 2*quiet)
		defer cancelShort()
		err = s.await(t, call(func() error { return cs.SubmitContext(short, never) }), "SubmitContext on a full executor to return when its ctx's deadline passed")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SubmitContext on a full executor, ctx deadline passed: got %v, want an error matching context.DeadlineExceeded", err)
		} else {
			wantRejected++
		}

		// A cancelable waiter, then another waiting behind it: when the first
		// gives up and then one task finishes, the room it frees must go to
		// the second.
		waiting, cancelWaiting := context.WithCancel(context.Background())
		defer cancelWaiting()
		first := watch(call(func() error { return cs.SubmitContext(waiting, never) }))
		if first.returned {
			t.Fatalf("SubmitContext on a full executor (blocking), live ctx: returned %v, want it to wait", first.err)
		}
		var behindRan atomic.Int32
		behind := watch(call(func() error { return cs.SubmitContext(live, func() { behindRan.Add(1) }) }))
		if behind.returned {
			t.Fatalf("SubmitContext on a full executor (blocking), live ctx: returned %v, want it to wait", behind.err)
		}
		cancelWaiting()
		err = first.result(t, s, "SubmitContext to return after its ctx was canceled, executor still full")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("waiting SubmitContext after cancel: got %v, want an error matching context.Canceled", err)
		} else {
			wantRejected++
		}
		if still := watch(behind.ch); still.returned {
			t.Errorf("SubmitContext waiting on a full executor returned %v when another waiter gave up; want it to go on waiting (no room freed)", still.err)
			behind.returned, behind.err = true, still.err
		}
		firstGate.open()
		if err := behind.result(t, s, "the SubmitContext waiting behind a canceled one, once one task finished"); err != nil {
			t.Errorf("SubmitContext waiting behind a canceled one, after a task finished: got %v, want nil", err)
		}
		g.open()
		for i, ch := range submits {
			if err := s.await(t, ch, "Submit of task %d", i); err != nil {
				t.Errorf("Submit of task %d: got %v, want nil", i, err)
			}
		}

		// After Shutdown: ErrClosed.
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if err := cs.SubmitContext(live, never); !errors.Is(err, executor.ErrClosed) {
			t.Errorf("SubmitContext after Shutdown: got %v, want an error matching executor.ErrClosed", err)
		} else {
			wantRejected++
		}
		if n := neverRan.Load(); n != 0 {
			t.Errorf("tasks of refused SubmitContext calls that ran: got %d, want 0", n)
		}
		if n := ran.Load(); n != 1 {
			t.Errorf("task accepted by SubmitContext ran %d times; want exactly once", n)
		}
		if n := behindRan.Load(); n != 1 {
			t.Errorf("task of the SubmitContext behind the canceled waiter ran %d times; want exactly once", n)
		}
		if got, ok := rejected(); ok && got != wantRejected {
			t.Errorf("Stats.Rejected grew by %d over %d refused SubmitContext calls (ErrNilTask not counted); want %d", got, wantRejected, wantRejected)
		}
	})

	// Many waiters giving up at random while tasks finish: each accepted
	// task runs once, none refused runs, and the room is never lost.
	t.Run("churn", func(t *testing.T) {
		cfg := executor.Config{Workers: 2, QueueSize: 2}
		ex := s.start(t, cfg)
		cs := contextSubmitter(t, ex)
		if cs == nil {
			return
		}
		const callers, per = 8, 100
		var accepted, ranTotal atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for i := 0; i < callers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				for j := 0; j < per; j++ {
					ctx, cancel := context.WithCancel(context.Background())
					if (i+j)%3 == 0 {
						cancel() // some give up at once, others while waiting
					} else if (i+j)%3 == 1 {
						go cancel()
					}
					err := cs.SubmitContext(ctx, func() { ranTotal.Add(1); time.Sleep(time.Microsecond) })
					cancel()
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.Is(err, context.Canceled):
					default:
						errs <- fmt.Errorf("churn: SubmitContext got %v, want nil or context.Canceled", err)
						return
					}
				}
			}(i)
		}
		if err := s.await(t, call(func() error { wg.Wait(); return nil }), "%d callers to finish %d SubmitContext calls each", callers, per); err != nil {
			t.Fatal(err)
		}
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		// Room was not lost: the executor still takes Workers+QueueSize.
		var p probe
		g := newGate(t)
		submits := s.fill(t, ex, cfg, &p, g, nil)
		g.open()
		for i, ch := range submits {
			if err := s.await(t, ch, "Submit of task %d after the churn", i); err != nil {
				t.Errorf("Submit of task %d after the churn: got %v, want nil", i, err)
			}
		}
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if got, want := ranTotal.Load(), accepted.Load(); got != want {
			t.Errorf("tasks run after the churn: got %d, want the %d accepted (each exactly once, none refused)", got, want)
		}
	})
}

func testTrySubmit(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 1},
		{Workers: 2, QueueSize: 1},
		{Workers: 3, QueueSize: 2},
		{Workers: 2, QueueSize: 2, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		// A fresh executor takes Workers+QueueSize at once: an idle worker
		// not yet waiting for a task is still room. It is a race, so it is
		// tried on a few fresh executors.
		for rep := 0; rep < 3 && !t.Failed(); rep++ {
			tryFresh(t, s, cfg)
		}
	})
}

// tryFresh is one round of testTrySubmit, on a fresh executor.
func tryFresh(t *testing.T, s *suite, cfg executor.Config) {
	t.Helper()
	ex := s.start(t, cfg)
	ts, ok := ex.(executor.TrySubmitter)
	if !ok {
		t.Logf("%T does not implement executor.TrySubmitter: TrySubmit not checked", ex)
		return
	}
	rejected := rejectedDelta(ex)
	var wantRejected uint64
	if err := ts.TrySubmit(nil); !errors.Is(err, executor.ErrNilTask) {
		t.Errorf("TrySubmit(nil): got %v, want an error matching executor.ErrNilTask", err)
	}
	room := cfg.Workers + cfg.QueueSize
	var refusedRan atomic.Int32
	refused := func() { refusedRan.Add(1) }
	var p probe
	g := newGate(t)
	accepted := 0
	tryUpTo := func(n int) error {
		return s.await(t, call(func() error {
			for accepted < n {
				if err := ts.TrySubmit(p.task(g)); err != nil {
					return err
				}
				accepted++
			}
			return nil
		}), "%d TrySubmits with room for them", n)
	}
	if err := tryUpTo(cfg.Workers); err != nil {
		t.Errorf("TrySubmit %d of Workers = %d on a fresh executor: got %v, want nil", accepted+1, cfg.Workers, err)
		return
	}
	s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)
	if err := tryUpTo(room); err != nil {
		t.Errorf("TrySubmit %d of %d with every worker busy (QueueSize %d): got %v, want nil while the queue has room", accepted+1-cfg.Workers, cfg.QueueSize, cfg.QueueSize, err)
		return
	}
	// Full: refused at once, also with a Submit waiting.
	var waiter *watched
	if !cfg.Nonblocking {
		waiter = watch(submit(ex, p.task(g)))
		if waiter.returned {
			t.Fatalf("Submit on a full blocking executor: returned %v, want it to wait", waiter.err)
		}
	}
	err := s.await(t, call(func() error { return ts.TrySubmit(refused) }), "TrySubmit on a full executor to return without waiting")
	if !errors.Is(err, executor.ErrOverloaded) {
		t.Errorf("TrySubmit with %d running and %d queued: got %v, want an error matching executor.ErrOverloaded", cfg.Workers, cfg.QueueSize, err)
	} else {
		wantRejected++
	}
	if got := p.started.load(); got != cfg.Workers {
		t.Errorf("tasks started with a full executor: got %d, want Workers = %d", got, cfg.Workers)
	}
	g.open()
	if waiter != nil {
		if err := waiter.result(t, s, "the waiting Submit once tasks were released"); err != nil {
			t.Errorf("waiting Submit after the tasks were released: got %v, want nil", err)
		}
	}
	if err := s.shutdown(ex, context.Background()); err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}
	if err := ts.TrySubmit(refused); !errors.Is(err, executor.ErrClosed) {
		t.Errorf("TrySubmit after Shutdown: got %v, want an error matching executor.ErrClosed", err)
	} else {
		wantRejected++
	}
	if n := refusedRan.Load(); n != 0 {
		t.Errorf("tasks of refused TrySubmit calls that ran: got %d, want 0", n)
	}
	if got, want := p.finished.load(), p.started.load(); got != want {
		t.Errorf("accepted tasks finished when Shutdown returned: got %d, want %d", got, want)
	}
	if got, ok := rejected(); ok && got != wantRejected {
		t.Errorf("Stats.Rejected grew by %d over %d refused TrySubmit calls (ErrNilTask not counted); want %d", got, wantRejected, wantRejected)
	}
}

// resizer returns ex's Resize, or nil after logging that ex has none.
func resizer(t *testing.T, ex executor.Executor) executor.Resizer {
	t.Helper()
	r, ok := ex.(executor.Resizer)
	if !ok {
		t.Logf("%T does not implement executor.Resizer: Resize not checked", ex)
	}
	return r
}

// checkWorkers checks that Stats.Workers, when reported, is want.
func checkWorkers(t *testing.T, ex executor.Executor, want int, when string) {
	t.Helper()
	if r, ok := ex.(executor.StatsReporter); ok {
		if got := r.Stats().Workers; got != want {
			t.Errorf("Stats().Workers %s: got %d, want %d", when, got, want)
		}
	}
}

func testResize(t *testing.T, s *suite) {
	t.Run("invalid", func(t *testing.T) {
		cfg := executor.Config{Workers: 2, QueueSize: 3}
		ex := s.start(t, cfg)
		rs := resizer(t, ex)
		if rs == nil {
			return
		}
		for _, c := range []struct {
			n     int
			value string
		}{
			{0, "0"},
			{-1, "-1"},
			{executor.MaxCapacity, fmt.Sprint(executor.MaxCapacity)},
		} {
			err := s.await(t, call(func() error { return rs.Resize(c.n) }), "Resize(%d)", c.n)
			switch {
			case !errors.Is(err, executor.ErrInvalidConfig):
				t.Errorf("Resize(%d) with QueueSize %d: got %v, want an error wrapping executor.ErrInvalidConfig", c.n, cfg.QueueSize, err)
			case !strings.Contains(err.Error(), c.value):
				t.Errorf("Resize(%d): got error %q, want it to name the value %s", c.n, err, c.value)
			}
		}
		checkWorkers(t, ex, cfg.Workers, "after refused Resizes")
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if err := rs.Resize(3); !errors.Is(err, executor.ErrClosed) {
			t.Errorf("Resize(3) after Shutdown: got %v, want an error matching executor.ErrClosed", err)
		}
	})

	// Growing starts the queued task and the waiting submitters at once,
	// and lets the new bound run.
	forConfigs(t, s, []executor.Config{
		{Workers: 1, QueueSize: 1},
		{Workers: 2},
		{Workers: 1, QueueSize: 1, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		ex := s.start(t, cfg)
		rs := resizer(t, ex)
		if rs == nil {
			return
		}
		var p probe
		g := newGate(t)
		submits := s.fill(t, ex, cfg, &p, g, nil)
		const grown = 5
		var waiters []<-chan error
		if !cfg.Nonblocking {
			for i := 0; i < 2; i++ {
				w := watch(submit(ex, p.task(g)))
				if w.returned {
					t.Fatalf("Submit on a full blocking executor: returned %v, want it to wait", w.err)
				}
				waiters = append(waiters, w.ch)
			}
		} else if err := s.submitNow(t, ex, p.task(g), "Submit on a full nonblocking executor"); !errors.Is(err, executor.ErrOverloaded) {
			t.Fatalf("Submit on a full nonblocking executor: got %v, want an error matching executor.ErrOverloaded", err)
		}
		if err := s.await(t, call(func() error { return rs.Resize(grown) }), "Resize(%d)", grown); err != nil {
			t.Fatalf("Resize(%d) from %d: got %v, want nil", grown, cfg.Workers, err)
		}
		checkWorkers(t, ex, grown, fmt.Sprintf("right after Resize(%d)", grown))
		started := cfg.Workers + cfg.QueueSize + len(waiters)
		s.waitCount(t, &p.started, started, "the queued task and the waiting submitters' tasks to start after Resize(%d)", grown)
		for i, ch := range waiters {
			if err := s.await(t, ch, "waiting Submit %d after Resize(%d)", i, grown); err != nil {
				t.Errorf("waiting Submit %d after Resize(%d): got %v, want nil", i, grown, err)
			}
		}
		// Up to the new bound run at once, and then room is QueueSize more.
		for started < grown {
			submits = append(submits, submit(ex, p.task(g)))
			started++
		}
		s.waitCount(t, &p.started, grown, "%d tasks running at once after Resize(%d)", grown, grown)
		for i := 0; i < cfg.QueueSize; i++ {
			if err := s.submitNow(t, ex, p.task(g), "queued task %d after Resize", i); err != nil {
				t.Errorf("Submit of queued task %d with %d running after Resize(%d): got %v, want nil", i, grown, grown, err)
			}
		}
		if cfg.Nonblocking {
			if err := s.submitNow(t, ex, p.task(g), "Submit on the grown executor, full"); !errors.Is(err, executor.ErrOverloaded) {
				t.Errorf("Submit with %d running and %d queued after Resize(%d) (nonblocking): got %v, want an error matching executor.ErrOverloaded", grown, cfg.QueueSize, grown, err)
			}
		} else if w := watch(submit(ex, p.task(g))); w.returned {
			t.Errorf("Submit with %d running and %d queued after Resize(%d): returned %v, want it to wait", grown, cfg.QueueSize, grown, w.err)
		} else {
			submits = append(submits, w.ch)
		}
		settle() // let a task beyond the bound show
		if got := p.running.Load(); got > grown {
			t.Errorf("tasks running at once after Resize(%d): got %d, want at most %d", grown, got, grown)
		}
		g.open()
		for i, ch := range submits {
			if err := s.await(t, ch, "Submit of task %d", i); err != nil {
				t.Errorf("Submit of task %d: got %v, want nil", i, err)
			}
		}
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if got, want := p.finished.load(), p.started.load(); got != want {
			t.Errorf("tasks finished when Shutdown returned: got %d, want the %d started", got, want)
		}
	})

	// Shrinking interrupts nothing, and the new bound holds as tasks finish.
	t.Run("shrink", func(t *testing.T) {
		cfg := executor.Config{Workers: 4, QueueSize: 1}
		ex := s.start(t, cfg)
		rs := resizer(t, ex)
		if rs == nil {
			return
		}
		var p probe
		gates := make([]*gate, cfg.Workers)
		var submits []<-chan error
		for i := range gates {
			gates[i] = newGate(t)
			submits = append(submits, submit(ex, p.task(gates[i])))
		}
		s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)
		const shrunk = 2
		if err := s.await(t, call(func() error { return rs.Resize(shrunk) }), "Resize(%d) with %d tasks running", shrunk, cfg.Workers); err != nil {
			t.Fatalf("Resize(%d) with %d tasks running: got %v, want nil", shrunk, cfg.Workers, err)
		}
		checkWorkers(t, ex, shrunk, fmt.Sprintf("right after Resize(%d)", shrunk))
		if got := p.finished.load(); got != 0 {
			t.Errorf("tasks finished by Resize(%d) with every task held: got %d, want 0 (a running task is never interrupted)", shrunk, got)
		}
		// Two tasks finish: the two still running are the new bound, so a
		// new task must wait in the queue.
		gates[0].open()
		gates[1].open()
		s.waitCount(t, &p.finished, 2, "two released tasks to finish")
		later := newGate(t)
		queued := submit(ex, p.task(later))
		settle()
		if got := p.started.load(); got != cfg.Workers {
			t.Errorf("tasks started after Resize(%d) with %d still running: got %d new, want 0 (the shrunk bound holds)", shrunk, shrunk, got-cfg.Workers)
		}
		gates[2].open()
		gates[3].open()
		later.open()
		if err := s.await(t, queued, "Submit after the shrink"); err != nil {
			t.Errorf("Submit after the shrink: got %v, want nil", err)
		}
		for i, ch := range submits {
			if err := s.await(t, ch, "Submit of task %d", i); err != nil {
				t.Errorf("Submit of task %d: got %v, want nil", i, err)
			}
		}
		// Under load from now on, never more than the new bound.
		var q probe
		const submitters, perSubmitter = 4, 100
		s.load(t, ex, &q, submitters, perSubmitter)
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if got := q.maxRunning.Load(); got > shrunk {
			t.Errorf("most tasks running at once under load after Resize(%d): got %d, want at most %d", shrunk, got, shrunk)
		}
		if got, want := p.finished.load()+q.finished.load(), cfg.Workers+1+submitters*perSubmitter; got != want {
			t.Errorf("tasks finished when Shutdown returned: got %d, want %d", got, want)
		}
	})

	// Resize racing Submit, SubmitContext, TrySubmit, other Resizes and
	// Shutdown keeps every promise: accepted tasks run once, refused ones
	// never, Shutdown ends every goroutine (checked in cleanup), and the
	// bound never exceeds the largest size asked for.
	t.Run("races", func(t *testing.T) {
		for _, nonblocking := range []bool{false, true} {
			cfg := executor.Config{Workers: 2, QueueSize: 2, Nonblocking: nonblocking}
			t.Run(cfgName(cfg), func(t *testing.T) {
				ex := s.start(t, cfg)
				rs := resizer(t, ex)
				if rs == nil {
					return
				}
				const most = 4
				var p probe
				var accepted atomic.Int64
				var refusedMu sync.Mutex
				var refused []*atomic.Bool // tasks whose Submit returned an error
				var wg sync.WaitGroup
				stop := make(chan struct{})
				errs := make(chan error, 16)
				report := func(err error) {
					select {
					case errs <- err:
					default:
					}
				}
				for i := 0; i < 3; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						for n := 0; ; n++ {
							select {
							case <-stop:
								return
							default:
							}
							err := rs.Resize(1 + (i+n)%most)
							if err != nil && !errors.Is(err, executor.ErrClosed) {
								report(fmt.Errorf("racing Submits: Resize(%d) got %v, want nil or ErrClosed", 1+(i+n)%most, err))
								return
							}
							if err != nil {
								return
							}
							// Let the submitters through: a Resize that
							// wakes every waiter each time could starve them.
							runtime.Gosched()
						}
					}(i)
				}
				for i := 0; i < 4; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						for n := 0; ; n++ {
							ran := new(atomic.Bool)
							task := func() {
								if ran.Swap(true) {
									report(errors.New("a task ran twice"))
								}
								p.task(nil)()
							}
							var err error
							switch (i + n) % 3 {
							case 0:
								err = ex.Submit(task)
							case 1:
								if cs, ok := ex.(executor.ContextSubmitter); ok {
									ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
									err = cs.SubmitContext(ctx, task)
									cancel()
								} else {
									err = ex.Submit(task)
								}
							default:
								if ts, ok := ex.(executor.TrySubmitter); ok {
									err = ts.TrySubmit(task)
								} else {
									err = ex.Submit(task)
								}
							}
							if err != nil {
								refusedMu.Lock()
								refused = append(refused, ran)
								refusedMu.Unlock()
							}
							switch {
							case err == nil:
								accepted.Add(1)
							case errors.Is(err, executor.ErrClosed):
								return
							case errors.Is(err, executor.ErrOverloaded), errors.Is(err, context.DeadlineExceeded):
								// Refused: let the tasks run, or with one
								// CPU the submitters starve them.
								runtime.Gosched()
							default:
								report(fmt.Errorf("racing Resize: a submit got %v, want nil, ErrOverloaded, ErrClosed or the ctx's error", err))
								return
							}
						}
					}(i)
				}
				s.waitCount(t, &p.finished, 200, "200 tasks to finish while Resize races Submit")
				err := s.shutdown(ex, context.Background())
				close(stop)
				if err != nil {
					t.Errorf("Shutdown racing Resize and Submits: got %v, want nil", err)
				}
				if err := s.await(t, call(func() error { wg.Wait(); return nil }), "the racing goroutines to stop after Shutdown"); err != nil {
					t.Error(err)
				}
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				if got, want := int64(p.finished.load()), accepted.Load(); got != want {
					t.Errorf("tasks run when Shutdown returned: got %d, want the %d accepted, each once", got, want)
				}
				ranRefused := 0
				for _, ran := range refused {
					if ran.Load() {
						ranRefused++
					}
				}
				if ranRefused != 0 {
					t.Errorf("refused tasks that ran: got %d of %d, want 0", ranRefused, len(refused))
				}
				if got := p.maxRunning.Load(); got > most {
					t.Errorf("most tasks running at once while Resize moved between 1 and %d: got %d, want at most %d", most, got, most)
				}
			})
		}
	})
}
