package executorhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	ms       = time.Millisecond
	target   = 5 * ms
	interval = 100 * ms
)

// step is one request a worker reaches: at (ms after the test's origin),
// having waited.
type step struct {
	at, waited time.Duration
	drop       bool // want: dropped at dequeue
}

func TestCodelShedsOnlyWhileTheQueueStands(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"the first interval decides nothing", []step{
			{at: 1 * ms, waited: 50 * ms},
			{at: 2 * ms, waited: 50 * ms},
			{at: 90 * ms, waited: 50 * ms},
		}},
		{"a standing queue for an interval sheds waits above 2*target", []step{
			{at: 0, waited: 20 * ms}, // opens the first interval, which ends at 100ms
			{at: 50 * ms, waited: 20 * ms},
			{at: 99 * ms, waited: 40 * ms},  // the verdict is not in yet
			{at: 101 * ms, waited: 20 * ms}, // closes it: its least wait 20ms > 5ms; never dropped itself
			{at: 102 * ms, waited: 11 * ms, drop: true},
			{at: 103 * ms, waited: 10 * ms}, // exactly 2*target is kept
			{at: 104 * ms, waited: 6 * ms},
			{at: 150 * ms, waited: 40 * ms, drop: true},
			{at: 202 * ms, waited: 20 * ms}, // closes 101-201ms, least 6ms: overloaded still
			{at: 203 * ms, waited: 30 * ms, drop: true},
		}},
		{"one quick request in an interval ends the overload", []step{
			{at: 0, waited: 20 * ms},
			{at: 101 * ms, waited: 20 * ms}, // overloaded from here
			{at: 110 * ms, waited: 30 * ms, drop: true},
			{at: 150 * ms, waited: 4 * ms}, // below target
			{at: 160 * ms, waited: 30 * ms, drop: true},
			{at: 202 * ms, waited: 30 * ms}, // closes 101-201ms: least 4ms, not overloaded
			{at: 210 * ms, waited: 30 * ms},
		}},
		{"waits between target and 2*target are never shed", []step{
			{at: 0, waited: 8 * ms},
			{at: 101 * ms, waited: 9 * ms},
			{at: 202 * ms, waited: 7 * ms},
			{at: 210 * ms, waited: 10 * ms},
			{at: 250 * ms, waited: 6 * ms},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q codel
			origin := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC).UnixNano()
			for i, s := range tt.steps {
				if got := q.shed(s.waited, target, interval, origin+int64(s.at)); got != s.drop {
					t.Errorf("step %d (at %v, waited %v): shed = %v, want %v", i, s.at, s.waited, got, s.drop)
				}
			}
		})
	}
}

// TestCodelConcurrentFeeds feeds waits from many goroutines, under -race,
// and checks the verdict the intervals add up to: every wait above target
// makes the queue overloaded, and once one wait below target has been seen
// in an interval, not.
func TestCodelConcurrentFeeds(t *testing.T) {
	var q codel
	var clock atomic.Int64 // shared, so that intervals close while others feed
	feed := func(waited time.Duration) {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					q.shed(waited, target, interval, clock.Add(int64(ms)/4))
				}
			}()
		}
		wg.Wait()
	}
	feed(20 * ms) // 1600 requests, 400ms of the shared clock: four intervals closed
	if !q.overloaded.Load() {
		t.Fatal("after 400ms of waits of 20ms, not overloaded; want overloaded")
	}
	if !q.shed(11*ms, target, interval, clock.Load()) {
		t.Error("a wait of 11ms while overloaded was kept; want dropped")
	}
	feed(time.Millisecond)
	if q.overloaded.Load() {
		t.Error("after 400ms of waits of 1ms, still overloaded; want not")
	}
}

// fakeClock is a Handler's clock that moves only when the test says.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// handOver is an executor whose tasks the test runs by hand.
type handOver chan func()

func (h handOver) Submit(task func()) error     { h <- task; return nil }
func (handOver) Shutdown(context.Context) error { return nil }

// TestHandlerCodelDropsAtDequeue drives a Handler with a Target through a
// standing queue on a fake clock: each request is accepted at one time and
// reached by a worker at another, and the reply says whether it was served
// or dropped.
func TestHandlerCodelDropsAtDequeue(t *testing.T) {
	origin := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: origin}
	tasks := make(handOver, 1)
	h := &Handler{
		Executor: tasks,
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		Target:   target,
		now:      clock.Now,
	}
	// request is accepted at at-waited and reached by a worker at at.
	request := func(at, waited time.Duration) int {
		t.Helper()
		clock.set(origin.Add(at - waited))
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		}()
		var task func()
		select {
		case task = <-tasks:
		case <-time.After(10 * time.Second):
			t.Fatal("no task submitted")
		}
		clock.set(origin.Add(at))
		task()
		<-done
		return rec.Code
	}
	for i, s := range []step{
		{at: 0, waited: 20 * ms},
		{at: 50 * ms, waited: 20 * ms},
		{at: 101 * ms, waited: 20 * ms}, // overloaded from here
		{at: 110 * ms, waited: 30 * ms, drop: true},
		{at: 111 * ms, waited: 9 * ms},
	} {
		want := http.StatusOK
		if s.drop {
			want = http.StatusServiceUnavailable
		}
		if got := request(s.at, s.waited); got != want {
			t.Errorf("step %d (at %v, waited %v): status %d, want %d", i, s.at, s.waited, got, want)
		}
	}

	// Without a Target, the same queue is served whatever it waited.
	h = &Handler{Executor: tasks, Handler: h.Handler, now: clock.Now}
	for at := time.Duration(0); at < 400*ms; at += 50 * ms {
		if got := request(at, 30*ms); got != http.StatusOK {
			t.Errorf("no Target, at %v after 30ms: status %d, want 200", at, got)
		}
	}
}
