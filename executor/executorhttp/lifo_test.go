package executorhttp

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// slot is a blocking executor of one worker that can try once: TrySubmit
// takes the worker only if it is free, and SubmitContext waits for it,
// sending on entered once it waits. Each task runs on a goroutine of its
// own, and the worker is free again only after the task has returned, as
// in a real pool.
type slot struct {
	busy    chan struct{} // capacity 1: full while the worker is taken
	entered chan struct{}
	wg      sync.WaitGroup
}

var (
	_ executor.TrySubmitter     = (*slot)(nil)
	_ executor.ContextSubmitter = (*slot)(nil)
)

func newSlot() *slot {
	return &slot{busy: make(chan struct{}, 1), entered: make(chan struct{}, 64)}
}

func (s *slot) start(task func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.busy }()
		task()
	}()
}

func (s *slot) TrySubmit(task func()) error {
	select {
	case s.busy <- struct{}{}:
		s.start(task)
		return nil
	default:
		return executor.ErrOverloaded
	}
}

func (s *slot) Submit(task func()) error { return s.SubmitContext(context.Background(), task) }

func (s *slot) SubmitContext(ctx context.Context, task func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.busy <- struct{}{}:
	default:
		s.entered <- struct{}{}
		select {
		case s.busy <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.start(task)
	return nil
}

func (s *slot) Shutdown(context.Context) error { s.wg.Wait(); return nil }

// within fails the test if c does not deliver in time; a lost wake-up
// shows as this failure instead of a hung test.
func within(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen within 10s", what)
	}
}

// lifoRig serves requests through a Handler with LIFO on a slot, on a
// fake clock, and records the order in which handlers run.
type lifoRig struct {
	t      *testing.T
	h      *Handler
	ex     *slot
	clock  *fakeClock
	origin time.Time
	listed chan struct{}
	served chan int    // the id of each request whose handler ran, in order
	hold   chan int    // the handler of request 0 blocks until this closes
	unhold func()      // closes hold
	hold1  chan int    // if not nil, the handler of request 1 blocks until it closes
	codes  map[int]int // each request's status, once it returned
	mu     sync.Mutex
	wg     sync.WaitGroup
}

func newLifoRig(t *testing.T, target time.Duration) *lifoRig {
	origin := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	r := &lifoRig{
		t: t, ex: newSlot(), clock: &fakeClock{now: origin}, origin: origin,
		listed: make(chan struct{}, 64), served: make(chan int, 64), hold: make(chan int),
		codes: map[int]int{},
	}
	var once sync.Once
	r.unhold = func() { once.Do(func() { close(r.hold) }) }
	r.h = &Handler{
		Executor: r.ex,
		LIFO:     true,
		Target:   target,
		now:      r.clock.Now,
		onListed: func() { r.listed <- struct{}{} },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			id, _ := strconv.Atoi(req.URL.Query().Get("id"))
			r.served <- id
			switch {
			case id == 0:
				<-r.hold
			case id == 1 && r.hold1 != nil:
				<-r.hold1
			}
		}),
	}
	t.Cleanup(func() { r.unhold(); r.wg.Wait(); r.ex.Shutdown(context.Background()) })
	return r
}

// request serves request id with ctx on a goroutine of its own.
func (r *lifoRig) request(ctx context.Context, id int) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/?id="+strconv.Itoa(id), nil).WithContext(ctx)
		r.h.ServeHTTP(rec, req)
		r.mu.Lock()
		r.codes[id] = rec.Code
		r.mu.Unlock()
	}()
}

// fill takes the worker with request 0, makes request 1 the doorman, and
// lists requests 2..n in that order.
func (r *lifoRig) fill(n int, ctxs map[int]context.Context) {
	r.t.Helper()
	ctxOf := func(id int) context.Context {
		if c, ok := ctxs[id]; ok {
			return c
		}
		return context.Background()
	}
	r.request(ctxOf(0), 0)
	if got := r.next(); got != 0 {
		r.t.Fatalf("first handler to run: request %d, want 0", got)
	}
	r.request(ctxOf(1), 1)
	within(r.t, r.ex.entered, "request 1 waiting in SubmitContext")
	for id := 2; id <= n; id++ {
		r.request(ctxOf(id), id)
		within(r.t, r.listed, fmt.Sprintf("request %d on the list", id))
	}
}

// next returns the id of the next request whose handler runs.
func (r *lifoRig) next() int {
	r.t.Helper()
	select {
	case id := <-r.served:
		return id
	case <-time.After(10 * time.Second):
		r.t.Fatal("no handler ran within 10s: a lost wake-up?")
		return -1
	}
}

// order releases request 0 and returns the ids of the next n handlers run.
func (r *lifoRig) order(n int) []int {
	r.t.Helper()
	r.unhold()
	var got []int
	for i := 0; i < n; i++ {
		got = append(got, r.next())
	}
	return got
}

func TestLIFOOrder(t *testing.T) {
	tests := []struct {
		name   string
		target time.Duration
		aged   time.Duration // how far the clock moves after the list fills
		want   []int
	}{
		{"FIFO while no waiter is older than Target", 5 * ms, 5 * ms, []int{1, 2, 3, 4, 5}},
		{"newest first once the oldest waited more than Target", 5 * ms, 6 * ms, []int{1, 5, 4, 3, 2}},
		{"always newest first without a Target", 0, 0, []int{1, 5, 4, 3, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newLifoRig(t, tt.target)
			r.fill(5, nil)
			r.clock.set(r.origin.Add(tt.aged))
			got := r.order(5)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("handlers ran in the order %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLIFOOrderFollowsCodel: with CoDel's verdict overloaded, the order is
// newest first even while no waiter is older than Target.
func TestLIFOOrderFollowsCodel(t *testing.T) {
	r := newLifoRig(t, 5*ms)
	r.fill(4, nil)
	r.h.codel.overloaded.Store(true) // after request 0 opened CoDel's first interval
	if got, want := fmt.Sprint(r.order(4)), fmt.Sprint([]int{1, 4, 3, 2}); got != want {
		t.Errorf("handlers ran in the order %v, want %v", got, want)
	}
}

// TestLIFOWaiterGivesUp: a listed waiter whose context ends leaves the
// list, and the doorman picked next that gives up in the executor hands
// its turn on: the others are still served, and no handler runs for
// either.
func TestLIFOWaiterGivesUp(t *testing.T) {
	r := newLifoRig(t, 0) // newest first: 4, then 3, then 2
	r.hold1 = make(chan int)
	listedCtx, leaveListed := context.WithCancelCause(context.Background())
	doorCtx, leaveDoor := context.WithCancelCause(context.Background())
	defer leaveListed(nil)
	defer leaveDoor(nil)
	gone := errors.New("client gone for the test")
	r.fill(4, map[int]context.Context{3: listedCtx, 4: doorCtx})

	leaveListed(gone) // request 3, listed: leaves the list at once
	r.unhold()        // request 1 runs; request 4, the newest, becomes the doorman
	if got := r.next(); got != 1 {
		t.Fatalf("handler after request 0: request %d, want 1", got)
	}
	within(t, r.ex.entered, "request 4 waiting in SubmitContext")
	leaveDoor(gone) // request 4 gives up inside SubmitContext: its turn goes to 2
	within(t, r.ex.entered, "request 2 waiting in SubmitContext")
	close(r.hold1)
	if got := r.next(); got != 2 {
		t.Fatalf("handler after request 1: request %d, want 2 (3 and 4 gave up)", got)
	}
	r.wg.Wait()
	select {
	case id := <-r.served:
		t.Errorf("request %d was served after it gave up", id)
	default:
	}
	for id, want := range map[int]int{1: 200, 2: 200, 3: 503, 4: 503} {
		if got := r.codes[id]; got != want {
			t.Errorf("request %d: status %d, want %d", id, got, want)
		}
	}
}

// TestLIFOStress serves many requests through one worker while a random
// half of them give up at random moments: every one that stays is served
// (a lost wake-up would leave it waiting for ever), and none that gave up
// first runs.
func TestLIFOStress(t *testing.T) {
	for _, target := range []time.Duration{0, time.Hour} {
		t.Run("target "+target.String(), func(t *testing.T) {
			ex := newSlot()
			defer ex.Shutdown(context.Background())
			var mu sync.Mutex
			ran := map[int]bool{}
			h := &Handler{
				Executor: ex, LIFO: true, Target: target,
				Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					id, _ := strconv.Atoi(req.URL.Query().Get("id"))
					mu.Lock()
					ran[id] = true
					mu.Unlock()
				}),
			}
			go func() {
				for range ex.entered {
				}
			}()
			defer close(ex.entered)
			const n = 200
			rng := rand.New(rand.NewSource(time.Now().UnixNano()))
			var wg sync.WaitGroup
			codes := make([]int, n)
			for id := 0; id < n; id++ {
				ctx, cancel := context.WithCancelCause(context.Background())
				leave := rng.Intn(2) == 0
				wg.Add(1)
				go func(id int) {
					defer wg.Done()
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest("GET", "/?id="+strconv.Itoa(id), nil).WithContext(ctx))
					codes[id] = rec.Code
					cancel(nil)
				}(id)
				if leave {
					go cancel(errors.New("gone"))
				}
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			within(t, done, "every request's return")
			for id, code := range codes {
				if code != 200 && code != 503 {
					t.Errorf("request %d: status %d, want 200 or 503", id, code)
				}
				if (code == 200) != ran[id] {
					t.Errorf("request %d: status %d, handler ran %v", id, code, ran[id])
				}
			}
			h.lifo.mu.Lock()
			defer h.lifo.mu.Unlock()
			if h.lifo.door || h.lifo.head != nil {
				t.Errorf("after every request returned: door %v, list empty %v; want false, true", h.lifo.door, h.lifo.head == nil)
			}
		})
	}
}

// sampledSlot is a slot with SubmitSampled and, if try, TrySubmitSampled,
// as executor/adaptive has: it counts the calls of each.
type sampledSlot struct {
	*slot
	mu    sync.Mutex
	calls map[string]int
}

func (s *sampledSlot) count(name string) {
	s.mu.Lock()
	s.calls[name]++
	s.mu.Unlock()
}

func (s *sampledSlot) SubmitSampled(ctx context.Context, task func() executor.Outcome) error {
	s.count("SubmitSampled")
	return s.slot.SubmitContext(ctx, func() { task() })
}

type trySampledSlot struct{ *sampledSlot }

func (s trySampledSlot) TrySubmitSampled(task func() executor.Outcome) error {
	s.count("TrySubmitSampled")
	return s.slot.TrySubmit(func() { task() })
}

// TestLIFOSampledExecutors: an executor with SubmitSampled is tried with
// TrySubmitSampled, never with TrySubmit, which would time the task's
// drops as work; without TrySubmitSampled, LIFO is ignored.
func TestLIFOSampledExecutors(t *testing.T) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, tt := range []struct {
		name string
		ex   func(*sampledSlot) executor.Executor
		want map[string]int
	}{
		{"with TrySubmitSampled", func(s *sampledSlot) executor.Executor { return trySampledSlot{s} }, map[string]int{"TrySubmitSampled": 1}},
		{"without", func(s *sampledSlot) executor.Executor { return s }, map[string]int{"SubmitSampled": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &sampledSlot{slot: newSlot(), calls: map[string]int{}}
			defer s.Shutdown(context.Background())
			h := &Handler{Executor: tt.ex(s), LIFO: true, Handler: ok}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != 200 || fmt.Sprint(s.calls) != fmt.Sprint(tt.want) {
				t.Errorf("status %d, calls %v; want 200, %v", rec.Code, s.calls, tt.want)
			}
		})
	}
}
