package adaptive

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// Default bounds, used for the zero fields of Options.
const (
	// DefaultMin is the least limit. Netflix's limits default to 20, which
	// assumes what is behind them can take 20 at once; 1 lets the limit
	// find a smaller downstream.
	DefaultMin = 1
	// DefaultMax is the most limit: Netflix's default for AIMDLimit and
	// Gradient2Limit.
	DefaultMax = 200
	// DefaultInitial is the limit before any sample: Netflix's default.
	DefaultInitial = 20
)

func defaultBounds() Bounds {
	return Bounds{Min: DefaultMin, Max: DefaultMax, Initial: DefaultInitial}
}

// Options configures an Executor. The zero value is valid: bounds
// [DefaultMin, DefaultMax], starting at DefaultInitial, with a default
// Gradient2.
type Options struct {
	// Min and Max bound the limit. Zero Min means DefaultMin (1); zero Max
	// means DefaultMax (200), or Min if that is larger. Min must be at least
	// 1, Max at least Min and at most executor.MaxCapacity (less the
	// backend's QueueSize, or the backend's Resize refuses it).
	Min, Max int

	// Initial is the limit New sets before any sample. Zero means
	// DefaultInitial (20) moved into [Min, Max]; otherwise it must lie in
	// [Min, Max].
	Initial int

	// Limit is the algorithm. Nil means a Gradient2 with its defaults. New
	// calls its Reset with the bounds above; give each Executor its own.
	Limit Limit
}

// bounds returns the bounds opts describe, defaults filled in, or an error
// wrapping executor.ErrInvalidConfig.
func (o Options) bounds() (Bounds, error) {
	b := Bounds{Min: o.Min, Max: o.Max, Initial: o.Initial}
	if b.Min < 0 || b.Max < 0 || b.Initial < 0 {
		return b, fmt.Errorf("adaptive: %w: Options Min, Max, Initial are %d, %d, %d; want 0 (default) or more",
			executor.ErrInvalidConfig, b.Min, b.Max, b.Initial)
	}
	if b.Min == 0 {
		b.Min = DefaultMin
	}
	if b.Max == 0 {
		b.Max = DefaultMax
		if b.Min > b.Max {
			b.Max = b.Min
		}
	}
	if b.Initial == 0 {
		b.Initial = DefaultInitial
		if b.Max >= b.Min { // else check reports the bounds themselves
			b.Initial = b.clamp(b.Initial)
		}
	}
	return b, b.check()
}

// Executor runs tasks on another executor and sets that executor's bound on
// running tasks from what it measures: how long each task runs, how many run
// at once, and which are shed. See the package documentation.
//
// All its methods are safe for concurrent use.
type Executor struct {
	ex      executor.Executor
	resizer executor.Resizer

	// running counts this Executor's tasks running now; each task reads it
	// as it starts for Sample.Inflight.
	running atomic.Int64

	// mu serializes the Limit's methods (a Limit keeps no lock of its own)
	// and guards want's writers. It is held only around Limit.Update, never
	// around Resize or a task, so no lock order can deadlock.
	mu  sync.Mutex
	alg Limit
	b   Bounds

	// want is the limit the algorithm last asked for; applied is the bound
	// the backend last accepted (what Limit and Stats report). resizing is
	// held, by CompareAndSwap, by the one goroutine calling Resize: the
	// others leave at once, and the holder applies the latest want before it
	// lets go (see apply). All three are atomics, whose operations Go orders
	// sequentially consistently, which that hand-off relies on.
	want     atomic.Int64
	applied  atomic.Int64
	resizing atomic.Bool
	stopped  atomic.Bool // Resize returned ErrClosed: the backend is shutting down
}

var (
	_ executor.Executor         = (*Executor)(nil)
	_ executor.ContextSubmitter = (*Executor)(nil)
	_ executor.TrySubmitter     = (*Executor)(nil)
	_ executor.StatsReporter    = (*Executor)(nil)
)

// New returns an Executor that runs tasks on ex and resizes it. ex must
// implement executor.Resizer (every backend in
// github.com/swapexec/swapexec/backends does); otherwise New returns an
// error wrapping executor.ErrInvalidConfig. New validates opts (an error
// wrapping executor.ErrInvalidConfig names the field), calls opts.Limit's
// Reset, and resizes ex to the initial limit, returning Resize's error if
// it fails.
//
// The Executor owns ex's bound from then on: do not Resize ex yourself.
// Its Shutdown is ex's; shutting ex down directly has the same effect.
func New(ex executor.Executor, opts Options) (*Executor, error) {
	if ex == nil {
		return nil, fmt.Errorf("adaptive: %w: nil executor", executor.ErrInvalidConfig)
	}
	r, ok := ex.(executor.Resizer)
	if !ok {
		return nil, fmt.Errorf("adaptive: %w: %T does not implement executor.Resizer", executor.ErrInvalidConfig, ex)
	}
	b, err := opts.bounds()
	if err != nil {
		return nil, err
	}
	alg := opts.Limit
	if alg == nil {
		g, err := NewGradient2(Gradient2Config{})
		if err != nil {
			return nil, err // unreachable: the zero config is valid
		}
		alg = g
	}
	alg.Reset(b)
	if err := r.Resize(b.Initial); err != nil {
		return nil, fmt.Errorf("adaptive: initial Resize(%d): %w", b.Initial, err)
	}
	e := &Executor{ex: ex, resizer: r, alg: alg, b: b}
	e.want.Store(int64(b.Initial))
	e.applied.Store(int64(b.Initial))
	return e, nil
}

// Submit runs task on the underlying executor, as its Submit does (waiting
// for room unless that executor is Nonblocking), and times the run for a
// sample. Its errors are the underlying executor's; a refused submission
// gives no sample (see the package documentation, "Refusals").
func (e *Executor) Submit(task func()) error {
	if task == nil {
		return e.ex.Submit(nil)
	}
	return e.ex.Submit(e.wrap(task))
}

// SubmitContext is Submit, except that a wait for room ends when ctx is
// done: it then returns an error matching ctx.Err() and the task never runs
// (executor.SubmitContext's promise, kept for any underlying executor).
func (e *Executor) SubmitContext(ctx context.Context, task func()) error {
	if task == nil {
		return executor.SubmitContext(ctx, e.ex, nil)
	}
	return executor.SubmitContext(ctx, e.ex, e.wrap(task))
}

// SubmitSampled is SubmitContext for a task that reports how it ended
// (executorhttp finds this method by type assertion):
//
//   - executor.Succeeded: it did its work, and gives a sample as Submit's
//     task does.
//   - executor.Dropped: it ran and its work was lost to overload (what it
//     called timed out, or its caller gave up while it ran): a sample
//     marked Dropped, on which AIMD backs off, as Netflix's limiters do on
//     onDropped. Its run time counts too (see Gradient2).
//   - executor.Ignored (or any other value): no sample at all, as a refusal
//     gives none (see the package documentation, "Refusals"). This is the
//     outcome of a task shed before its work, because its wait budget had
//     passed before it started (executorhttp's MaxWait and CoDel drop at
//     dequeue this way): a shed is the limiter's own refusal, made late,
//     and says nothing about whether the limit is too high; timed, it would
//     pass for a task that ran in no time, which AIMD counts as a success.
//     Netflix's LifoBlockingLimiter likewise rejects a request that timed
//     out in its backlog without touching the limit.
//
// Fed to AIMD as drops, such sheds drove its limit to 1 at twice the
// capacity, with CoDel shedding at dequeue (goodput 0.33 x capacity in a
// short step-load run): there are more of them the lower the limit is.
func (e *Executor) SubmitSampled(ctx context.Context, task func() executor.Outcome) error {
	if task == nil {
		return executor.SubmitContext(ctx, e.ex, nil)
	}
	return executor.SubmitContext(ctx, e.ex, e.wrapSampled(task))
}

// TrySubmit is Submit that never waits: it returns an error matching
// executor.ErrOverloaded when the underlying executor has no room. The underlying executor must implement
// executor.TrySubmitter (every backend does); otherwise TrySubmit returns an
// error matching errors.ErrUnsupported and the task never runs.
func (e *Executor) TrySubmit(task func()) error {
	ts, ok := e.ex.(executor.TrySubmitter)
	if !ok {
		return fmt.Errorf("adaptive: TrySubmit on %T: %w", e.ex, errors.ErrUnsupported)
	}
	if task == nil {
		return ts.TrySubmit(nil)
	}
	return ts.TrySubmit(e.wrap(task))
}

// TrySubmitSampled is TrySubmit for a task that reports how it ended, as
// SubmitSampled's does, with the same samples for each outcome. It never
// waits, and has TrySubmit's errors. executorhttp's adaptive LIFO finds it by type
// assertion, to try a request before it waits on a list of its own.
func (e *Executor) TrySubmitSampled(task func() executor.Outcome) error {
	ts, ok := e.ex.(executor.TrySubmitter)
	if !ok {
		return fmt.Errorf("adaptive: TrySubmitSampled on %T: %w", e.ex, errors.ErrUnsupported)
	}
	if task == nil {
		return ts.TrySubmit(nil)
	}
	return ts.TrySubmit(e.wrapSampled(task))
}

// Shutdown shuts the underlying executor down, with its promises: every
// accepted task finishes before it returns nil. Once the underlying
// executor's Resize refuses with executor.ErrClosed, the limit stays where
// it was.
func (e *Executor) Shutdown(ctx context.Context) error {
	return e.ex.Shutdown(ctx)
}

// Limit returns the current limit: the bound the underlying executor last
// accepted from Resize.
func (e *Executor) Limit() int {
	return int(e.applied.Load())
}

// Stats returns the underlying executor's Stats (zero counters if it
// reports none) with Workers set to the current limit, and Running, if the
// underlying executor reports none, to this Executor's running tasks.
func (e *Executor) Stats() executor.Stats {
	var s executor.Stats
	if r, ok := e.ex.(executor.StatsReporter); ok {
		s = r.Stats()
	} else {
		s.Running = int(e.running.Load())
	}
	s.Workers = e.Limit()
	return s
}

// wrap returns task timed, for a Sample when it returns. A task that panics
// or calls runtime.Goexit gives no sample (Netflix's BlockingAdaptiveExecutor
// ignores a task that throws): its run time says nothing about load.
func (e *Executor) wrap(task func()) func() {
	return func() {
		e.run(func() executor.Outcome { task(); return executor.Succeeded })
	}
}

func (e *Executor) wrapSampled(task func() executor.Outcome) func() {
	return func() { e.run(task) }
}

// run runs task as one of this Executor's tasks and folds its outcome in.
func (e *Executor) run(task func() executor.Outcome) {
	inflight := int(e.running.Add(1))
	start := time.Now()
	returned := false
	defer func() {
		if !returned { // a panic or runtime.Goexit: no sample
			e.running.Add(-1)
		}
	}()
	out := task()
	returned = true
	e.running.Add(-1)
	if out != executor.Succeeded && out != executor.Dropped {
		return // shed, or unknown: no sample (see SubmitSampled)
	}
	now := time.Now()
	e.observe(Sample{RTT: now.Sub(start), Inflight: inflight, Dropped: out == executor.Dropped}, now)
}

// observe folds s into the limit and, if the integer limit changed, resizes
// the underlying executor.
func (e *Executor) observe(s Sample, now time.Time) {
	e.mu.Lock()
	l := int64(e.b.clamp(e.alg.Update(s, now)))
	changed := l != e.want.Load()
	if changed {
		e.want.Store(l)
	}
	e.mu.Unlock()
	if changed {
		e.apply()
	}
}

// apply resizes the underlying executor to want, unless another goroutine
// is resizing it: that one applies the latest want before it returns. The
// holder re-reads want after letting go of resizing, so a want stored while
// it held it (whose goroutine found resizing taken and left) is applied.
func (e *Executor) apply() {
	for !e.stopped.Load() && e.want.Load() != e.applied.Load() {
		if !e.resizing.CompareAndSwap(false, true) {
			return
		}
		w := e.want.Load()
		if w != e.applied.Load() {
			err := e.resizer.Resize(int(w))
			switch {
			case err == nil:
				e.applied.Store(w)
			case errors.Is(err, executor.ErrClosed):
				e.stopped.Store(true)
			default:
				// The backend refused this bound (above its capacity, say):
				// keep the old one, and let the next change of want try again.
				e.resizing.Store(false)
				return
			}
		}
		e.resizing.Store(false)
	}
}
