package adaptive

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

// cyclingLimit changes the limit on every sample, through every value from
// 1 to top, so that Resize runs as often as it can. It remembers what it
// returned last.
type cyclingLimit struct {
	top     int
	n       int
	last    atomic.Int64
	updates atomic.Int64 // samples folded in
}

func (l *cyclingLimit) Reset(b Bounds) { l.n = b.Initial; l.last.Store(int64(b.Initial)) }

func (l *cyclingLimit) Update(Sample, time.Time) int {
	l.n = l.n%l.top + 1
	l.last.Store(int64(l.n))
	l.updates.Add(1)
	return l.n
}

// resizableBackends returns, by name, a constructor for every registered
// backend that implements executor.Resizer, and the fake pool.
func resizableBackends(t testing.TB) map[string]func(executor.Config) (executor.Executor, error) {
	t.Helper()
	out := map[string]func(executor.Config) (executor.Executor, error){
		"fake": func(cfg executor.Config) (executor.Executor, error) {
			cfg, err := backend.Normalize(cfg)
			if err != nil {
				return nil, err
			}
			return newFakePool(cfg.Workers, cfg.Nonblocking), nil
		},
	}
	for _, name := range backends.Names() {
		name := name
		ex, err := backends.New(name, executor.Config{})
		if err != nil {
			t.Fatalf("backends.New(%q): %v", name, err)
		}
		_, ok := ex.(executor.Resizer)
		if err := ex.Shutdown(context.Background()); err != nil {
			t.Fatalf("%s: Shutdown: %v", name, err)
		}
		if !ok {
			t.Logf("%s: no Resize yet; skipped", name)
			continue
		}
		out[name] = func(cfg executor.Config) (executor.Executor, error) { return backends.New(name, cfg) }
	}
	return out
}

// TestResizesUnderLoad submits from many goroutines, by every method, while
// the limit changes on every sample, then shuts down while they still
// submit. It checks that no more than Max tasks ever run at once, that every
// accepted task runs exactly once, and that once the load stops the
// backend's bound is the last limit the algorithm asked for.
func TestResizesUnderLoad(t *testing.T) {
	for name, newBackend := range resizableBackends(t) {
		newBackend := newBackend
		t.Run("backend="+name, func(t *testing.T) {
			const max, submitters, perSubmitter = 8, 8, 300
			ex, err := newBackend(executor.Config{Workers: 4, QueueSize: 4})
			if err != nil {
				t.Fatal(err)
			}
			lim := &cyclingLimit{top: max + 3} // above Max, so clamping is exercised too
			e, err := New(ex, Options{Min: 1, Max: max, Initial: 4, Limit: lim})
			if err != nil {
				t.Fatal(err)
			}
			var running, peak, accepted, ran, shed atomic.Int64
			task := func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				ran.Add(1)
				running.Add(-1)
			}
			submit := func(i int) error {
				switch i % 4 {
				case 0:
					return e.Submit(task)
				case 1:
					ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
					defer cancel()
					return e.SubmitContext(ctx, task)
				case 2:
					return e.TrySubmit(task)
				default:
					return e.SubmitSampled(context.Background(), func() executor.Outcome {
						task()
						switch i % 8 {
						case 3:
							shed.Add(1) // reports it was shed: no sample
							return executor.Ignored
						case 5:
							return executor.Dropped
						}
						return executor.Succeeded
					})
				}
			}
			load := func(stopOnClosed bool) {
				var wg sync.WaitGroup
				for g := 0; g < submitters; g++ {
					wg.Add(1)
					go func(g int) {
						defer wg.Done()
						for i := 0; i < perSubmitter; i++ {
							err := submit(g + i)
							switch {
							case err == nil:
								accepted.Add(1)
							case errors.Is(err, executor.ErrClosed) && stopOnClosed:
								return
							case errors.Is(err, executor.ErrOverloaded), errors.Is(err, context.DeadlineExceeded):
							default:
								t.Errorf("submit: %v", err)
								return
							}
						}
					}(g)
				}
				wg.Wait()
			}

			load(false)
			// Quiet now: wait for every accepted task's sample, then the
			// bound must be the last limit asked for.
			// A task's sample is folded in after it stops counting as
			// running, so wait for the samples themselves.
			waitFor(t, func() bool {
				return ran.Load() == accepted.Load() && e.running.Load() == 0 && lim.updates.Load() == accepted.Load()-shed.Load()
			})
			// The last sample's Resize runs after its Update, on the
			// sampling goroutine or on one already resizing: wait for it
			// (a correct Executor gets there), then check with messages.
			want := e.b.clamp(int(lim.last.Load()))
			applied := func() bool {
				sr, ok := ex.(executor.StatsReporter)
				return e.Limit() == want && e.Stats().Workers == want && (!ok || sr.Stats().Workers == want)
			}
			for deadline := time.Now().Add(10 * time.Second); !applied() && time.Now().Before(deadline); {
				time.Sleep(100 * time.Microsecond)
			}
			if got := e.Limit(); got != want {
				t.Errorf("Limit() = %d after the load; want the last limit asked for, %d", got, want)
			}
			if got := e.Stats().Workers; got != want {
				t.Errorf("Stats().Workers = %d after the load; want %d", got, want)
			}
			if sr, ok := ex.(executor.StatsReporter); ok {
				if got := sr.Stats().Workers; got != want {
					t.Errorf("backend's Stats().Workers = %d after the load; want %d", got, want)
				}
			}

			// Again, with Shutdown racing the submitters.
			done := make(chan struct{})
			go func() { defer close(done); load(true) }()
			shutdown(t, e)
			<-done
			shutdown(t, e) // the submitters' last tasks have finished too
			if a, r := accepted.Load(), ran.Load(); a != r {
				t.Errorf("accepted %d tasks, ran %d; want every accepted task run once", a, r)
			}
			if p := peak.Load(); p > max {
				t.Errorf("%d tasks ran at once; want at most Max %d", p, max)
			}
		})
	}
}

// waitFor polls cond until it holds, for what no event signals (a sample
// lands after its task's body returns). It fails the test after 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
