package executortest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
)

// subtest is one point of the contract.
type subtest struct {
	name string
	run  func(t *testing.T, s *suite)
}

// subtests lists the suite in the order Run runs it; doc.go lists the same
// names.
func subtests() []subtest {
	return []subtest{
		{"InvalidConfig", testInvalidConfig},
		{"ZeroConfig", testZeroConfig},
		{"MaxConcurrency", testMaxConcurrency},
		{"NoTaskLost", testNoTaskLost},
		{"NilTask", testNilTask},
		{"SubmitAfterShutdown", testSubmitAfterShutdown},
		{"ShutdownDrainsQueue", testShutdownDrainsQueue},
		{"ShutdownUnblocksSubmitters", testShutdownUnblocksSubmitters},
		{"ShutdownRacesSubmit", testShutdownRacesSubmit},
		{"ShutdownDeadline", testShutdownDeadline},
		{"ConcurrentShutdown", testConcurrentShutdown},
		{"Panics", testPanics},
		{"Nonblocking", testNonblocking},
		{"NestedSubmit", testNestedSubmit},
		{"QueueSize", testQueueSize},
		{"Stats", testStats},
		{"SubmitContext", testSubmitContext},
		{"TrySubmit", testTrySubmit},
		{"Resize", testResize},
	}
}

// cfgName names a Config in subtest names and messages.
func cfgName(cfg executor.Config) string {
	mode := "blocking"
	if cfg.Nonblocking {
		mode = "nonblocking"
	}
	return fmt.Sprintf("workers=%d,queue=%d,%s", cfg.Workers, cfg.QueueSize, mode)
}

// forConfigs runs f as a subtest per Config.
func forConfigs(t *testing.T, s *suite, cfgs []executor.Config, f func(t *testing.T, s *suite, cfg executor.Config)) {
	for _, cfg := range cfgs {
		cfg := cfg
		t.Run(cfgName(cfg), func(t *testing.T) { f(t, s, cfg) })
	}
}

// workers is the number of workers cfg asks for.
func workers(cfg executor.Config) int {
	if cfg.Workers == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return cfg.Workers
}

func testInvalidConfig(t *testing.T, s *suite) {
	cases := []struct {
		cfg          executor.Config
		field, value string
	}{
		{executor.Config{Workers: -1}, "Workers", "-1"},
		{executor.Config{QueueSize: -2}, "QueueSize", "-2"},
		{executor.Config{Workers: -3, QueueSize: 4, Nonblocking: true}, "Workers", "-3"},
		{executor.Config{Workers: 2, QueueSize: -5, Nonblocking: true}, "QueueSize", "-5"},
		// One limit for every backend: Workers+QueueSize at most
		// executor.MaxCapacity, refused before anything is allocated.
		{executor.Config{Workers: 1, QueueSize: executor.MaxCapacity}, "QueueSize", fmt.Sprint(executor.MaxCapacity)},
		{executor.Config{Workers: math.MaxInt, Nonblocking: true}, "Workers", fmt.Sprint(math.MaxInt)},
		{executor.Config{Workers: 4, QueueSize: math.MaxInt}, "QueueSize", fmt.Sprint(math.MaxInt)},
	}
	ignore := goleak.IgnoreCurrent()
	for _, c := range cases {
		ex, err := func() (ex executor.Executor, err error) {
			defer func() {
				if v := recover(); v != nil {
					err = panicError{v}
				}
			}()
			return s.newExecutor(c.cfg)
		}()
		switch {
		case err == nil:
			t.Errorf("newExecutor(%+v): got a nil error, want one wrapping executor.ErrInvalidConfig", c.cfg)
			if ex != nil {
				if err := s.shutdown(ex, context.Background()); err != nil {
					t.Errorf("Shutdown of the executor built from invalid %+v: %v", c.cfg, err)
				}
			}
			continue
		case !errors.Is(err, executor.ErrInvalidConfig):
			t.Errorf("newExecutor(%+v): got error %q, want one wrapping executor.ErrInvalidConfig", c.cfg, err)
		case !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), c.value):
			t.Errorf("newExecutor(%+v): got error %q, want it to name the field %s and its value %s", c.cfg, err, c.field, c.value)
		}
	}
	if err := goleak.Find(append([]goleak.Option{ignore}, s.opts.LeakOptions...)...); err != nil {
		t.Errorf("goroutines left running by constructors that returned an error:\n%v", err)
	}
}

func testZeroConfig(t *testing.T, s *suite) {
	n := runtime.GOMAXPROCS(0)
	ex := s.start(t, executor.Config{})
	if r, ok := ex.(executor.StatsReporter); ok {
		if got := r.Stats().Workers; got != n {
			t.Errorf("Stats().Workers with Config.Workers 0: got %d, want GOMAXPROCS = %d", got, n)
		}
	}
	var p probe
	g := newGate(t)
	var submits []<-chan error
	for i := 0; i < n; i++ {
		submits = append(submits, submit(ex, p.task(g)))
	}
	s.waitCount(t, &p.started, n, "tasks running at once with the zero Config (Workers 0 means GOMAXPROCS)")
	extra := watch(submit(ex, p.task(g)))
	if extra.returned {
		t.Errorf("Submit with GOMAXPROCS = %d tasks running, the zero Config (blocking, no queue): got %v, want it to block until a worker is free", n, extra.err)
	}
	if got := p.started.load(); got != n {
		t.Errorf("tasks running at once with the zero Config: got %d, want GOMAXPROCS = %d", got, n)
	}
	g.open()
	for i, ch := range submits {
		if err := s.await(t, ch, "Submit of task %d", i); err != nil {
			t.Errorf("Submit of task %d with the zero Config: got %v, want nil", i, err)
		}
	}
	if err := extra.result(t, s, "the blocked Submit to return once workers were free"); err != nil {
		t.Errorf("blocked Submit after workers were freed: got %v, want nil", err)
	}
	if err := s.shutdown(ex, context.Background()); err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}
	if got := p.finished.load(); got != n+1 {
		t.Errorf("tasks finished when Shutdown returned: got %d, want %d", got, n+1)
	}
}

func testMaxConcurrency(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 3, QueueSize: 4},
		{Workers: 1},
		{Workers: 4, QueueSize: 1},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		w := cfg.Workers

		// Under load, never more than Workers at once.
		const submitters, perSubmitter = 4, 250
		ex := s.start(t, cfg)
		var p probe
		s.load(t, ex, &p, submitters, perSubmitter)
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if got := p.maxRunning.Load(); got > int64(w) {
			t.Errorf("most tasks running at once under load: got %d, want at most Workers = %d", got, w)
		}

		// Workers is reached, and the queue does not start tasks beside
		// busy workers.
		ex = s.start(t, cfg)
		var q probe
		g := newGate(t)
		var submits []<-chan error
		for i := 0; i < w; i++ {
			submits = append(submits, submit(ex, q.task(g)))
		}
		s.waitCount(t, &q.started, w, "tasks running at once (Workers = %d)", w)
		for i := 0; i <= cfg.QueueSize; i++ {
			submits = append(submits, submit(ex, q.task(g)))
		}
		settle() // let a wrongly started task show
		if got := q.started.load(); got != w {
			t.Errorf("tasks started with %d blocked and %d more submitted: got %d, want Workers = %d", w, cfg.QueueSize+1, got, w)
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
		if got, want := q.finished.load(), len(submits); got != want {
			t.Errorf("tasks finished when Shutdown returned: got %d, want %d", got, want)
		}
		if got := q.maxRunning.Load(); got > int64(w) {
			t.Errorf("most tasks running at once: got %d, want at most Workers = %d", got, w)
		}
	})
}

// load submits perSubmitter quick tasks made by p from each of submitters
// goroutines, and waits for every Submit to return, failing the test for
// any that returns an error.
func (s *suite) load(t *testing.T, ex executor.Executor, p *probe, submitters, perSubmitter int) {
	t.Helper()
	var done []<-chan error
	for i := 0; i < submitters; i++ {
		done = append(done, call(func() error {
			for j := 0; j < perSubmitter; j++ {
				if err := ex.Submit(p.task(nil)); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	for i, ch := range done {
		if err := s.await(t, ch, "submitter %d to submit %d tasks", i, perSubmitter); err != nil {
			t.Errorf("submitter %d: Submit got %v, want nil", i, err)
		}
	}
}

// attempt is one Submit call and what became of its task.
type attempt struct {
	ran atomic.Int32
	err error
}

func testNoTaskLost(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 4},
		{Workers: 4, QueueSize: 64},
		{Workers: 3, QueueSize: 8, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		const submitters = 8
		perSubmitter := 3000
		if raceEnabled {
			perSubmitter = 1000
		}
		ex := s.start(t, cfg)
		stats, hasStats := ex.(executor.StatsReporter)
		stopStats := make(chan struct{})
		statsDone := call(func() error {
			// Read Stats throughout, so the race detector sees the
			// counters read while they change, and check that no counter
			// ever goes down and Completed never passes Submitted.
			var prev executor.Stats
			for hasStats {
				select {
				case <-stopStats:
					return nil
				default:
					cur := stats.Stats()
					if cur.Submitted < prev.Submitted || cur.Completed < prev.Completed ||
						cur.Rejected < prev.Rejected || cur.Panicked < prev.Panicked {
						return fmt.Errorf("Stats() under load: a counter went down: got %+v after %+v, want counters that never decrease", cur, prev)
					}
					if cur.Completed > cur.Submitted {
						return fmt.Errorf("Stats() under load: got Completed %d > Submitted %d, want Completed <= Submitted", cur.Completed, cur.Submitted)
					}
					prev = cur
					runtime.Gosched()
				}
			}
			return nil
		})
		attempts := make([][]*attempt, submitters)
		var done []<-chan error
		for i := 0; i < submitters; i++ {
			i := i
			done = append(done, call(func() error {
				list := make([]*attempt, 0, perSubmitter)
				defer func() { attempts[i] = list }()
				for accepted := 0; accepted < perSubmitter; {
					a := &attempt{}
					a.err = ex.Submit(func() { a.ran.Add(1) })
					list = append(list, a)
					switch {
					case a.err == nil:
						accepted++
					case cfg.Nonblocking && errors.Is(a.err, executor.ErrOverloaded):
						runtime.Gosched()
					default:
						return a.err
					}
				}
				return nil
			}))
		}
		for i, ch := range done {
			if err := s.await(t, ch, "submitter %d to submit %d tasks", i, perSubmitter); err != nil {
				t.Errorf("submitter %d: Submit got %v, want nil", i, err)
			}
		}
		close(stopStats)
		if err := s.await(t, statsDone, "the Stats reader to stop"); err != nil {
			t.Error(err)
		}
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		var accepted, rejected, lost, twice, rejectedRan int
		for _, list := range attempts {
			for _, a := range list {
				n := a.ran.Load()
				switch {
				case a.err != nil:
					rejected++
					if n != 0 {
						rejectedRan++
					}
				case n == 0:
					accepted++
					lost++
				case n > 1:
					accepted++
					twice++
				default:
					accepted++
				}
			}
		}
		if lost != 0 || twice != 0 {
			t.Errorf("of %d accepted tasks, after Shutdown returned nil: %d never ran, %d ran more than once; want each to run exactly once", accepted, lost, twice)
		}
		if rejectedRan != 0 {
			t.Errorf("of %d rejected tasks, %d ran; want none", rejected, rejectedRan)
		}
		if hasStats {
			got := stats.Stats()
			want := executor.Stats{Workers: cfg.Workers, Submitted: uint64(accepted), Completed: uint64(accepted), Rejected: uint64(rejected)}
			if got != want {
				t.Errorf("Stats() after %d submitters and Shutdown: got %+v, want %+v", submitters, got, want)
			}
		}
	})
}

func testNilTask(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 2},
		{Workers: 2, QueueSize: 1, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		var handled atomic.Int64
		cfg.PanicHandler = func(any) { handled.Add(1) }
		ex := s.start(t, cfg)
		check := func(when string) {
			t.Helper()
			err := s.submitNow(t, ex, nil, "Submit(nil) %s", when)
			if !errors.Is(err, executor.ErrNilTask) {
				t.Errorf("Submit(nil) %s: got %v, want an error matching executor.ErrNilTask", when, err)
			}
		}
		check("on a fresh executor")

		var p probe
		g := newGate(t)
		for i := 0; i < cfg.Workers+cfg.QueueSize; i++ {
			if err := s.submitNow(t, ex, p.task(g), "task %d", i); err != nil {
				t.Fatalf("Submit of task %d: got %v, want nil", i, err)
			}
		}
		s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)
		check("with every worker busy and the queue full")
		g.open()

		// Every worker still runs tasks: none was handed nil.
		s.waitCount(t, &p.finished, cfg.Workers+cfg.QueueSize, "tasks to finish")
		g2 := newGate(t)
		if n, _, err := s.acceptAll(ex, cfg.Workers, func() func() { return p.task(g2) }); n != cfg.Workers {
			t.Fatalf("Submits accepted after Submit(nil), tasks done: got %d, want %d (last error %v)", n, cfg.Workers, err)
		}
		s.waitCount(t, &p.started, 2*cfg.Workers+cfg.QueueSize, "tasks running at once after Submit(nil) (Workers = %d; was a worker handed nil?)", cfg.Workers)
		g2.open()
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if n := handled.Load(); n != 0 {
			t.Errorf("PanicHandler calls: got %d, want 0 (was a worker handed the nil task?)", n)
		}
		err := s.submitNow(t, ex, nil, "Submit(nil) after Shutdown")
		if !errors.Is(err, executor.ErrNilTask) && !errors.Is(err, executor.ErrClosed) {
			t.Errorf("Submit(nil) after Shutdown: got %v, want an error matching executor.ErrNilTask or executor.ErrClosed", err)
		}
	})
}

func testSubmitAfterShutdown(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 2},
		{Workers: 1, QueueSize: 4},
		{Workers: 2, QueueSize: 2, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		ex := s.start(t, cfg)
		ran := make(chan struct{})
		if err := s.submitNow(t, ex, func() { close(ran) }, "a task before Shutdown"); err != nil {
			t.Fatalf("Submit before Shutdown: got %v, want nil", err)
		}
		s.wait(t, ran, "the task submitted before Shutdown to run")
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		var late atomic.Int64
		for i := 0; i < 8; i++ {
			err := s.submitNow(t, ex, func() { late.Add(1) }, "Submit %d after Shutdown", i+1)
			if !errors.Is(err, executor.ErrClosed) {
				t.Errorf("Submit %d after Shutdown returned: got %v, want an error matching executor.ErrClosed", i+1, err)
				break
			}
		}
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("second Shutdown: got %v, want nil", err)
		}
		if n := late.Load(); n != 0 {
			t.Errorf("tasks submitted after Shutdown that ran: got %d, want 0", n)
		}
	})
}

func testShutdownDrainsQueue(t *testing.T, s *suite) {
	t.Run("queue=full", func(t *testing.T) {
		cfg := executor.Config{Workers: 2, QueueSize: 8}
		ex := s.start(t, cfg)
		var p probe
		g := newGate(t)
		n := cfg.Workers + cfg.QueueSize
		for i := 0; i < n; i++ {
			if err := s.submitNow(t, ex, p.task(g), "task %d of %d with room", i, n); err != nil {
				t.Fatalf("Submit of task %d: got %v, want nil", i, err)
			}
		}
		s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)
		var atReturn int
		sh := watch(call(func() error {
			err := ex.Shutdown(context.Background())
			atReturn = p.finished.load()
			return err
		}))
		if sh.returned {
			t.Errorf("Shutdown with %d tasks running and %d queued returned %v; want it to wait for them", cfg.Workers, cfg.QueueSize, sh.err)
		}
		// Release the tasks only once Shutdown has surely begun, or they
		// could drain the queue first and an executor that abandons its
		// queue on Shutdown would pass. Shutdown has begun when a Submit
		// on this full executor returns ErrClosed; until then it blocks
		// (ShutdownUnblocksSubmitters).
		var lateRan atomic.Int64
		err := s.submitNow(t, ex, func() { lateRan.Add(1) }, "a Submit on the full executor to return ErrClosed once Shutdown began")
		if !errors.Is(err, executor.ErrClosed) {
			t.Errorf("Submit with %d tasks running, %d queued and Shutdown called: got %v, want an error matching executor.ErrClosed", cfg.Workers, cfg.QueueSize, err)
		}
		g.open()
		if err := sh.result(t, s, "Shutdown to return after the tasks were released"); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if atReturn != n {
			t.Errorf("tasks finished when Shutdown returned: got %d, want every accepted task, %d", atReturn, n)
		}
		if n := lateRan.Load(); n != 0 && errors.Is(err, executor.ErrClosed) {
			t.Errorf("task rejected with ErrClosed while Shutdown drained the queue ran %d times; want 0", n)
		}
	})

	forConfigs(t, s, []executor.Config{
		{Workers: 4, QueueSize: 16},
		{Workers: 2, QueueSize: 64, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		ex := s.start(t, cfg)
		n := 500
		if raceEnabled {
			n = 200
		}
		var ran atomic.Int64
		var accepted, atReturn int64
		err := s.await(t, call(func() error {
			for i := 0; i < n; i++ {
				err := ex.Submit(func() {
					runtime.Gosched()
					ran.Add(1)
				})
				switch {
				case err == nil:
					accepted++
				case cfg.Nonblocking && errors.Is(err, executor.ErrOverloaded):
				default:
					return fmt.Errorf("while submitting: Submit got %v, want nil", err)
				}
			}
			// Right away, while tasks are still queued.
			err := ex.Shutdown(context.Background())
			atReturn = ran.Load()
			if err != nil {
				return fmt.Errorf("right after the Submits: Shutdown got %v, want nil", err)
			}
			return nil
		}), "%d Submits and Shutdown", n)
		if err != nil {
			t.Error(err)
		}
		if atReturn != accepted {
			t.Errorf("tasks run when Shutdown returned right after %d Submits: got %d, want every accepted task, %d", n, atReturn, accepted)
		}
	})
}

func testShutdownUnblocksSubmitters(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 2, QueueSize: 1},
		{Workers: 1},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		ex := s.start(t, cfg)
		var p probe
		g := newGate(t)
		n := cfg.Workers + cfg.QueueSize
		var first []<-chan error
		for i := 0; i < cfg.Workers; i++ {
			first = append(first, submit(ex, p.task(g)))
		}
		s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)
		for i := 0; i < cfg.QueueSize; i++ {
			if err := s.submitNow(t, ex, p.task(g), "queued task %d", i); err != nil {
				t.Fatalf("Submit of queued task %d, with room: got %v, want nil", i, err)
			}
		}

		const blocked = 4
		var ran [blocked]atomic.Int32
		var submits []<-chan error
		for i := 0; i < blocked; i++ {
			i := i
			submits = append(submits, submit(ex, func() { ran[i].Add(1) }))
		}
		settle() // let the submitters block
		for i, ch := range submits {
			select {
			case err := <-ch:
				t.Fatalf("Submit %d with every worker busy and the queue full (blocking): returned %v, want it to block", i, err)
			default:
			}
		}

		var atReturn int
		sh := call(func() error {
			err := ex.Shutdown(context.Background())
			atReturn = p.finished.load()
			return err
		})
		// The tasks are still blocked: no room will free up, so each blocked
		// Submit must give up with ErrClosed rather than wait.
		for i, ch := range submits {
			err := s.await(t, ch, "blocked Submit %d to return after Shutdown began, with every worker still busy", i)
			if !errors.Is(err, executor.ErrClosed) {
				t.Errorf("blocked Submit %d after Shutdown began, no room: got %v, want an error matching executor.ErrClosed", i, err)
			}
		}
		select {
		case err := <-sh:
			t.Errorf("Shutdown returned %v while %d tasks were still running; want it to wait", err, cfg.Workers)
		default:
		}
		g.open()
		if err := s.await(t, sh, "Shutdown to return after the tasks were released"); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if atReturn != n {
			t.Errorf("tasks finished when Shutdown returned: got %d, want %d", atReturn, n)
		}
		for i, ch := range first {
			if err := s.await(t, ch, "Submit of task %d", i); err != nil {
				t.Errorf("Submit of task %d: got %v, want nil", i, err)
			}
		}
		for i := range ran {
			if n := ran[i].Load(); n != 0 {
				t.Errorf("task of blocked Submit %d, rejected with ErrClosed, ran %d times; want 0", i, n)
			}
		}
	})
}

// record is one Submit call racing Shutdown.
type record struct {
	ran   atomic.Int32
	err   error
	after bool // Submit was called after Shutdown returned
}

func testShutdownRacesSubmit(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 2, QueueSize: 2},
		{Workers: 2},
		{Workers: 2, QueueSize: 2, Nonblocking: true},
		{Workers: 3, QueueSize: 4, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		ex := s.start(t, cfg)
		const submitters = 8
		var shutReturned atomic.Bool
		var totalRan atomic.Int64
		var accepted counter
		records := make([][]*record, submitters)
		deadline := time.Now().Add(s.opts.Timeout)
		var done []<-chan error
		for i := 0; i < submitters; i++ {
			i := i
			done = append(done, call(func() error {
				var list []*record
				defer func() { records[i] = list }()
				for {
					r := &record{after: shutReturned.Load()}
					r.err = ex.Submit(func() {
						runtime.Gosched()
						r.ran.Add(1)
						totalRan.Add(1)
					})
					list = append(list, r)
					switch {
					case r.err == nil:
						if r.after {
							return errors.New("after Shutdown returned nil: Submit got nil, want an error matching executor.ErrClosed")
						}
						accepted.inc()
					case errors.Is(r.err, executor.ErrClosed):
						return nil
					case cfg.Nonblocking && errors.Is(r.err, executor.ErrOverloaded):
						runtime.Gosched()
					default:
						return fmt.Errorf("racing Shutdown: Submit got %v, want nil or an error matching executor.ErrClosed", r.err)
					}
					if time.Now().After(deadline) {
						return fmt.Errorf("no ErrClosed from Submit within %v of the start", s.opts.Timeout)
					}
				}
			}))
		}
		s.waitCount(t, &accepted, 100, "tasks accepted before Shutdown")
		var atReturn int64
		err := s.await(t, call(func() error {
			err := ex.Shutdown(context.Background())
			atReturn = totalRan.Load()
			shutReturned.Store(true)
			return err
		}), "Shutdown racing %d submitters", submitters)
		if err != nil {
			t.Errorf("Shutdown racing Submit: got %v, want nil", err)
		}
		for i, ch := range done {
			if err := s.await(t, ch, "submitter %d to get ErrClosed", i); err != nil {
				t.Errorf("submitter %d: %v", i, err)
			}
		}
		var acc, lost, twice, rejectedRan int
		for _, list := range records {
			for _, r := range list {
				n := r.ran.Load()
				switch {
				case r.err != nil:
					if n != 0 {
						rejectedRan++
					}
				case n == 0:
					acc++
					lost++
				case n > 1:
					acc++
					twice++
				default:
					acc++
				}
			}
		}
		if atReturn != int64(acc) {
			t.Errorf("tasks run when Shutdown returned: got %d, want every accepted task, %d", atReturn, acc)
		}
		if lost != 0 || twice != 0 || rejectedRan != 0 {
			t.Errorf("of %d accepted tasks, %d never ran and %d ran more than once; %d rejected tasks ran; want each accepted task run exactly once and no rejected one", acc, lost, twice, rejectedRan)
		}
		if r, ok := ex.(executor.StatsReporter); ok {
			if got := r.Stats(); got.Submitted != uint64(acc) || got.Completed != uint64(acc) || got.Running != 0 || got.Queued != 0 {
				t.Errorf("Stats() after Shutdown raced Submit: got %+v, want Submitted == Completed == %d, Running == Queued == 0", got, acc)
			}
		}
	})
}

func testShutdownDeadline(t *testing.T, s *suite) {
	const deadline = 20 * time.Millisecond
	// promptly is how late a Shutdown whose context ended may return.
	const promptly = time.Second

	t.Run("deadline", func(t *testing.T) {
		ex := s.start(t, executor.Config{Workers: 1, QueueSize: 1})
		var p probe
		g := newGate(t)
		if err := s.submitNow(t, ex, p.task(g), "the running task"); err != nil {
			t.Fatalf("Submit: got %v, want nil", err)
		}
		s.waitCount(t, &p.started, 1, "the task to start")
		queuedRan := make(chan struct{})
		if err := s.submitNow(t, ex, func() { close(queuedRan) }, "the queued task"); err != nil {
			t.Fatalf("Submit of the queued task: got %v, want nil", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		start := time.Now()
		err := s.await(t, call(func() error { return ex.Shutdown(ctx) }), "Shutdown with a %v deadline to return while a task is running", deadline)
		if elapsed := time.Since(start); elapsed > deadline+promptly {
			t.Errorf("Shutdown with a %v deadline, task still running: returned after %v, want promptly after the deadline", deadline, elapsed)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown with a %v deadline, task still running: got %v, want ctx.Err() = %v", deadline, err, context.DeadlineExceeded)
		}
		var late atomic.Int64
		if err := s.submitNow(t, ex, func() { late.Add(1) }, "Submit after Shutdown's deadline passed"); !errors.Is(err, executor.ErrClosed) {
			t.Errorf("Submit after Shutdown returned ctx.Err(): got %v, want an error matching executor.ErrClosed", err)
		}
		select {
		case <-queuedRan:
			t.Errorf("the queued task ran while the only worker was busy")
		default:
		}
		g.open()
		// No further Shutdown call: the accepted tasks finish on their own.
		s.wait(t, queuedRan, "the queued task to run in the background after Shutdown returned ctx.Err()")
		s.waitCount(t, &p.finished, 1, "the running task to finish in the background")
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown(context.Background()) after the tasks finished: got %v, want nil", err)
		}
		if n := late.Load(); n != 0 {
			t.Errorf("tasks submitted after Shutdown that ran: got %d, want 0", n)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		ex := s.start(t, executor.Config{Workers: 1})
		var p probe
		g := newGate(t)
		if err := s.submitNow(t, ex, p.task(g), "the running task"); err != nil {
			t.Fatalf("Submit: got %v, want nil", err)
		}
		s.waitCount(t, &p.started, 1, "the task to start")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		err := s.await(t, call(func() error { return ex.Shutdown(ctx) }), "Shutdown with a canceled context to return while a task is running")
		if elapsed := time.Since(start); elapsed > promptly {
			t.Errorf("Shutdown with a canceled context, task still running: returned after %v, want promptly", elapsed)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Shutdown with a canceled context, task still running: got %v, want ctx.Err() = %v", err, context.Canceled)
		}
		if err := s.submitNow(t, ex, func() {}, "Submit after Shutdown with a canceled context"); !errors.Is(err, executor.ErrClosed) {
			t.Errorf("Submit after Shutdown returned ctx.Err(): got %v, want an error matching executor.ErrClosed", err)
		}
		// A later Shutdown waits for the task still running.
		var atReturn int
		sh := watch(call(func() error {
			err := ex.Shutdown(context.Background())
			atReturn = p.finished.load()
			return err
		}))
		if sh.returned {
			t.Errorf("Shutdown(context.Background()) while a task still runs: returned %v, want it to wait for the task", sh.err)
		}
		g.open()
		if err := sh.result(t, s, "Shutdown(context.Background()) to return after the task was released"); err != nil {
			t.Errorf("Shutdown(context.Background()) after an earlier one returned ctx.Err(): got %v, want nil", err)
		}
		if atReturn != 1 {
			t.Errorf("tasks finished when the later Shutdown returned: got %d, want 1", atReturn)
		}
	})
}

func testConcurrentShutdown(t *testing.T, s *suite) {
	cfg := executor.Config{Workers: 2, QueueSize: 2}
	ex := s.start(t, cfg)
	var p probe
	g := newGate(t)
	n := cfg.Workers + cfg.QueueSize
	for i := 0; i < n; i++ {
		if err := s.submitNow(t, ex, p.task(g), "task %d", i); err != nil {
			t.Fatalf("Submit of task %d: got %v, want nil", i, err)
		}
	}
	s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)

	const waiting, canceled = 12, 4
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	atReturn := make([]int, waiting)
	var waiters, cancelers []<-chan error
	for i := 0; i < waiting+canceled; i++ {
		i := i
		if i < waiting {
			waiters = append(waiters, call(func() error {
				err := ex.Shutdown(context.Background())
				atReturn[i] = p.finished.load()
				return err
			}))
		} else {
			cancelers = append(cancelers, call(func() error { return ex.Shutdown(ctx) }))
		}
	}
	for i, ch := range cancelers {
		err := s.await(t, ch, "Shutdown %d with a canceled context, among %d concurrent calls", i, waiting+canceled)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Shutdown with a canceled context, concurrent with others, tasks running: got %v, want %v", err, context.Canceled)
		}
	}
	settle() // no waiting Shutdown may return yet
	for i, ch := range waiters {
		select {
		case err := <-ch:
			t.Fatalf("concurrent Shutdown %d returned %v while tasks were still running; want it to wait", i, err)
		default:
		}
	}
	if err := s.submitNow(t, ex, func() {}, "Submit during concurrent Shutdowns"); !errors.Is(err, executor.ErrClosed) {
		t.Errorf("Submit during concurrent Shutdowns: got %v, want an error matching executor.ErrClosed", err)
	}
	g.open()
	for i, ch := range waiters {
		if err := s.await(t, ch, "concurrent Shutdown %d to return", i); err != nil {
			t.Errorf("concurrent Shutdown %d of %d: got %v, want nil", i, waiting, err)
			continue
		}
		if atReturn[i] != n {
			t.Errorf("concurrent Shutdown %d returned nil with %d of %d tasks finished; want all", i, atReturn[i], n)
		}
	}
	for i := 0; i < 2; i++ {
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("repeated Shutdown %d: got %v, want nil", i, err)
		}
	}
}

// customPanic is a custom error type used as a panic value.
type customPanic struct{ n int }

func (e *customPanic) Error() string { return fmt.Sprintf("custom panic %d", e.n) }

// panicWith panics with v. It is a named function so that the PanicHandler
// can check that debug.Stack shows where the panic happened.
//
//go:noinline
func panicWith(v any) { panic(v) }

// nilPanic stands for panic(nil) in the Panics subtest: the handler sees a
// *runtime.PanicNilError (Go 1.21+). Under GODEBUG=panicnil=1 recover
// returns nil for it, as for runtime.Goexit, so no executor can hand it to
// a PanicHandler: the subtest leaves it out there.
type nilPanic struct{}

// panicNilRecoversNil reports whether recover returns nil for panic(nil), as
// it does under GODEBUG=panicnil=1.
func panicNilRecoversNil() (isNil bool) {
	defer func() { isNil = recover() == nil }()
	panic(nil)
}

func testPanics(t *testing.T, s *suite) {
	const handlerPanics = "this one makes the PanicHandler panic too"
	values := []any{
		"a string",
		42,
		&customPanic{1},
		fmt.Errorf("wrapped: %w", &customPanic{2}),
		errors.New("plain error"),
		nilPanic{},
		handlerPanics,
		&customPanic{3},
	}
	if panicNilRecoversNil() {
		values = slices.DeleteFunc(values, func(v any) bool { return v == nilPanic{} })
	}
	cfg := executor.Config{Workers: 3}
	var (
		mu        sync.Mutex // guards seen and noStack
		seen      = map[any]int{}
		noStack   []any
		handled   counter
		wantStack = "executortest.panicWith("
	)
	cfg.PanicHandler = func(v any) {
		if _, ok := v.(*runtime.PanicNilError); ok || v == nil {
			v = nilPanic{}
		}
		stack := string(debug.Stack())
		mu.Lock()
		seen[v]++
		if !strings.Contains(stack, wantStack) {
			noStack = append(noStack, v)
		}
		mu.Unlock()
		handled.inc()
		if v == handlerPanics {
			panic("PanicHandler panicking on purpose (executortest)")
		}
	}
	ex := s.start(t, cfg)
	for i, v := range values {
		v := v
		task := func() { panicWith(v) }
		if _, ok := v.(nilPanic); ok {
			task = func() { panicWith(nil) }
		}
		if err := s.submitNow(t, ex, task, "panicking task %d, Workers = %d (did a panic kill a worker?)", i, cfg.Workers); err != nil {
			t.Errorf("Submit of panicking task %d: got %v, want nil", i, err)
		}
	}
	s.waitCount(t, &handled, len(values), "PanicHandler calls")

	// Every worker survived: Workers tasks still run at once.
	var p probe
	g := newGate(t)
	var submits []<-chan error
	for i := 0; i < cfg.Workers; i++ {
		submits = append(submits, submit(ex, p.task(g)))
	}
	s.waitCount(t, &p.started, cfg.Workers, "tasks running at once after %d panics (Workers = %d; did a panic kill a worker?)", len(values), cfg.Workers)
	g.open()
	for i, ch := range submits {
		if err := s.await(t, ch, "Submit of task %d after the panics", i); err != nil {
			t.Errorf("Submit of task %d after the panics: got %v, want nil", i, err)
		}
	}
	if err := s.shutdown(ex, context.Background()); err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, v := range values {
		if n := seen[v]; n != 1 {
			t.Errorf("PanicHandler calls with %T %v: got %d, want exactly 1", v, v, n)
		}
		delete(seen, v)
	}
	for v, n := range seen {
		t.Errorf("PanicHandler got %T %v (%d times), which no task panicked with; want the panic value itself", v, v, n)
	}
	if len(noStack) > 0 {
		t.Errorf("PanicHandler was called outside the panicking goroutine's deferred recover for %v: debug.Stack() did not contain %q", noStack, wantStack)
	}
}

func testNonblocking(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 1, Nonblocking: true},
		{Workers: 4, Nonblocking: true},
		{Workers: 2, QueueSize: 3, Nonblocking: true},
		{QueueSize: 1, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		w := workers(cfg)
		room := w + cfg.QueueSize
		// A fresh executor must accept at once, before its workers had a
		// chance to get ready: try a few times, it is a race.
		for rep := 0; rep < 3; rep++ {
			ex := s.start(t, cfg)
			var p probe
			g := newGate(t)
			var rejectedRan atomic.Int64
			var accepted int
			err := s.await(t, call(func() error {
				for accepted < room {
					if err := ex.Submit(p.task(g)); err != nil {
						return err
					}
					accepted++
				}
				return nil
			}), "%d Submits on a fresh nonblocking executor", room)
			if err != nil {
				t.Errorf("Submit %d of %d right after the executor was built (Workers %d, QueueSize %d): got %v, want nil", accepted+1, room, w, cfg.QueueSize, err)
				g.open()
				continue
			}
			err = s.submitNow(t, ex, func() { rejectedRan.Add(1) }, "Submit with %d tasks running and %d queued", w, cfg.QueueSize)
			if !errors.Is(err, executor.ErrOverloaded) {
				t.Errorf("Submit with %d tasks running and %d queued: got %v, want an error matching executor.ErrOverloaded", w, cfg.QueueSize, err)
			}
			s.waitCount(t, &p.started, w, "tasks running at once (Workers = %d)", w)
			g.open()
			s.waitCount(t, &p.finished, room, "the accepted tasks to finish")

			// Capacity comes back once tasks are done.
			g2 := newGate(t)
			accepted, _, err = s.acceptAll(ex, room, func() func() { return p.task(g2) })
			if accepted < room {
				t.Errorf("after every task finished, Submits accepted: got %d, want %d (last error %v)", accepted, room, err)
			}
			err = s.submitNow(t, ex, func() { rejectedRan.Add(1) }, "Submit with the executor full again")
			if accepted == room && !errors.Is(err, executor.ErrOverloaded) {
				t.Errorf("Submit with the executor full again: got %v, want an error matching executor.ErrOverloaded", err)
			}
			g2.open()
			if err := s.shutdown(ex, context.Background()); err != nil {
				t.Errorf("Shutdown: got %v, want nil", err)
			}
			if n := rejectedRan.Load(); n != 0 {
				t.Errorf("tasks rejected with ErrOverloaded that ran: got %d, want 0", n)
			}
			if t.Failed() {
				return
			}
		}
	})
}

// testNestedSubmit: a task that submits to its own full executor would wait
// forever if Submit blocked; a Nonblocking executor must answer
// ErrOverloaded instead, and still run what it accepted.
func testNestedSubmit(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 1, Nonblocking: true},
		{Workers: 1, QueueSize: 2, Nonblocking: true},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		ex := s.start(t, cfg)
		var innerRan atomic.Int64
		// The outer task holds the only worker while it submits QueueSize+1
		// tasks: the first QueueSize fit the queue, the last finds no room.
		errs := make(chan []error, 1)
		if err := ex.Submit(func() {
			var got []error
			for i := 0; i <= cfg.QueueSize; i++ {
				got = append(got, ex.Submit(func() { innerRan.Add(1) }))
			}
			errs <- got
		}); err != nil {
			t.Fatalf("outer Submit: got %v, want nil", err)
		}
		got := s.await(t, call(func() error {
			for i, err := range <-errs {
				want := error(nil)
				if i == cfg.QueueSize {
					want = executor.ErrOverloaded
				}
				if !errors.Is(err, want) {
					return fmt.Errorf("nested Submit %d of %d from inside a task: got %v, want %v", i+1, cfg.QueueSize+1, err, want)
				}
			}
			return nil
		}), "the nested Submits to return")
		if got != nil {
			t.Error(got)
		}
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if n := innerRan.Load(); n != int64(cfg.QueueSize) {
			t.Errorf("nested tasks run: got %d, want the %d accepted", n, cfg.QueueSize)
		}
	})
}

func testQueueSize(t *testing.T, s *suite) {
	forConfigs(t, s, []executor.Config{
		{Workers: 2, QueueSize: 3, Nonblocking: true},
		{Workers: 3, QueueSize: 1, Nonblocking: true},
		{Workers: 2, QueueSize: 3},
		{Workers: 1, QueueSize: 2},
		{Workers: 1},
	}, func(t *testing.T, s *suite, cfg executor.Config) {
		ex := s.start(t, cfg)
		var p probe
		gates := make([]*gate, cfg.Workers)
		var submits []<-chan error
		for i := range gates {
			gates[i] = newGate(t)
			submits = append(submits, submit(ex, p.task(gates[i])))
		}
		s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)
		queued := newGate(t)
		for i := 0; i < cfg.QueueSize; i++ {
			if err := s.submitNow(t, ex, p.task(queued), "queued task %d of QueueSize %d with every worker busy", i+1, cfg.QueueSize); err != nil {
				t.Errorf("Submit of queued task %d of QueueSize %d, every worker busy: got %v, want nil", i+1, cfg.QueueSize, err)
			}
		}
		want := cfg.Workers + cfg.QueueSize
		var extra *watched
		if cfg.Nonblocking {
			err := s.submitNow(t, ex, p.task(queued), "Submit with every worker busy and the queue full")
			if !errors.Is(err, executor.ErrOverloaded) {
				t.Errorf("Submit with %d workers busy and %d queued: got %v, want an error matching executor.ErrOverloaded", cfg.Workers, cfg.QueueSize, err)
			}
			settle() // let a wrongly started task show
		} else {
			extra = watch(submit(ex, p.task(queued)))
			if extra.returned {
				t.Errorf("Submit with %d workers busy and %d queued (blocking): returned %v, want it to block until a worker is free", cfg.Workers, cfg.QueueSize, extra.err)
			}
			want++
		}
		if got := p.started.load(); got != cfg.Workers {
			t.Errorf("tasks started with every worker busy and %d queued: got %d, want Workers = %d (queued tasks must wait)", cfg.QueueSize, got, cfg.Workers)
		}
		if extra != nil {
			gates[0].open()
			if err := extra.result(t, s, "the blocked Submit to return after a task finished"); err != nil {
				t.Errorf("blocked Submit after a task finished: got %v, want nil", err)
			}
		}
		for _, g := range gates {
			g.open()
		}
		queued.open()
		for i, ch := range submits {
			if err := s.await(t, ch, "Submit of task %d", i); err != nil {
				t.Errorf("Submit of task %d: got %v, want nil", i, err)
			}
		}
		if err := s.shutdown(ex, context.Background()); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if got := p.finished.load(); got != want {
			t.Errorf("tasks finished when Shutdown returned: got %d, want %d", got, want)
		}
		if got := p.maxRunning.Load(); got > int64(cfg.Workers) {
			t.Errorf("most tasks running at once: got %d, want at most Workers = %d", got, cfg.Workers)
		}
	})
}

func testStats(t *testing.T, s *suite) {
	var handled counter
	cfg := executor.Config{Workers: 3, QueueSize: 2, Nonblocking: true, PanicHandler: func(any) { handled.inc() }}
	ex := s.start(t, cfg)
	r, ok := ex.(executor.StatsReporter)
	if !ok {
		t.Logf("%T does not implement executor.StatsReporter: Stats not checked", ex)
		return
	}
	want := executor.Stats{Workers: cfg.Workers}
	// check compares Stats with want, polling for a while: gauges and
	// counters may trail the tasks by a moment.
	check := func(when string) {
		t.Helper()
		var got executor.Stats
		if !s.eventually(func() bool { got = r.Stats(); return got == want }) {
			t.Errorf("Stats() %s: got %+v, want %+v", when, got, want)
		}
	}
	check("of a fresh executor")

	for i := 0; i < 2; i++ {
		if err := s.submitNow(t, ex, func() { panicWith("stats") }, "panicking task %d", i); err != nil {
			t.Fatalf("Submit of panicking task %d: got %v, want nil", i, err)
		}
	}
	s.waitCount(t, &handled, 2, "PanicHandler calls")
	want.Submitted, want.Completed, want.Panicked = 2, 2, 2
	check("after 2 tasks panicked")

	var p probe
	g := newGate(t)
	room := cfg.Workers + cfg.QueueSize
	accepted, overloaded, err := s.acceptAll(ex, room, func() func() { return p.task(g) })
	want.Rejected += uint64(overloaded)
	if accepted < room {
		t.Fatalf("Submits accepted on an idle executor: got %d, want %d (last error %v)", accepted, room, err)
	}
	// Counted before each call returned: no polling.
	if got := r.Stats(); got.Submitted < want.Submitted+uint64(room) || got.Rejected < want.Rejected {
		t.Errorf("Stats() right after %d Submits returned nil and %d returned ErrOverloaded: got Submitted %d, Rejected %d; want at least %d and %d (each counted before its call returns)",
			room, overloaded, got.Submitted, got.Rejected, want.Submitted+uint64(room), want.Rejected)
	}
	s.waitCount(t, &p.started, cfg.Workers, "tasks running at once (Workers = %d)", cfg.Workers)
	want.Running, want.Queued, want.Submitted = cfg.Workers, cfg.QueueSize, want.Submitted+uint64(room)
	check(fmt.Sprintf("with %d tasks blocked and %d queued", cfg.Workers, cfg.QueueSize))

	if err := s.submitNow(t, ex, func() {}, "Submit on a full executor"); !errors.Is(err, executor.ErrOverloaded) {
		t.Errorf("Submit with %d running and %d queued: got %v, want an error matching executor.ErrOverloaded", cfg.Workers, cfg.QueueSize, err)
	} else {
		want.Rejected++
		if got := r.Stats().Rejected; got != want.Rejected {
			t.Errorf("Stats().Rejected right after an ErrOverloaded: got %d, want %d (counted before the call returns)", got, want.Rejected)
		}
	}
	if err := s.submitNow(t, ex, nil, "Submit(nil)"); !errors.Is(err, executor.ErrNilTask) {
		t.Errorf("Submit(nil): got %v, want an error matching executor.ErrNilTask", err)
	}
	check("after an ErrOverloaded rejection and a Submit(nil), which is not counted")

	g.open()
	if err := s.shutdown(ex, context.Background()); err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}
	if err := s.submitNow(t, ex, func() {}, "Submit after Shutdown"); !errors.Is(err, executor.ErrClosed) {
		t.Errorf("Submit after Shutdown: got %v, want an error matching executor.ErrClosed", err)
	} else {
		want.Rejected++
	}
	want.Running, want.Queued, want.Completed = 0, 0, want.Submitted
	// After Shutdown returned nil nothing may trail: no polling.
	if got := r.Stats(); got != want {
		t.Errorf("Stats() after Shutdown and an ErrClosed rejection: got %+v, want %+v", got, want)
	}
}
