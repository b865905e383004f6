package executorhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/adaptive"
	"github.com/swapexec/swapexec/executor/executorhttp"
)

// delayed is a resizable Executor that accepts every task at once and
// starts it after a delay, as a queue behind busy workers would.
type delayed struct {
	after time.Duration
	wg    sync.WaitGroup
}

var _ executor.Resizer = (*delayed)(nil)

func (d *delayed) Submit(task func()) error {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		// Time itself is what is waited for: the task starts late.
		<-time.After(d.after)
		task()
	}()
	return nil
}

func (d *delayed) Resize(int) error { return nil }

func (d *delayed) Shutdown(context.Context) error { d.wg.Wait(); return nil }

// countingLimit is an adaptive.Limit that counts its samples and keeps
// its initial limit.
type countingLimit struct {
	b       adaptive.Bounds
	samples int
}

func (l *countingLimit) Reset(b adaptive.Bounds) { l.b = b }

func (l *countingLimit) Update(adaptive.Sample, time.Time) int {
	l.samples++
	return l.b.Initial
}

// TestShedRequestsGiveTheLimitNoSample: through adaptive's SubmitSampled,
// requests dropped at dequeue after MaxWait report that they were shed, and
// the limit gets no sample from them, where a plain Submit would have timed
// each as a task that ran in no time.
func TestShedRequestsGiveTheLimitNoSample(t *testing.T) {
	l := &countingLimit{}
	const budget = 5 * time.Millisecond
	a, err := adaptive.New(&delayed{after: 4 * budget}, adaptive.Options{Min: 1, Max: 20, Initial: 10, Limit: l})
	if err != nil {
		t.Fatal(err)
	}
	h := &executorhttp.Handler{Executor: a, Handler: mustNotRun(t), MaxWait: budget}
	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("request %d: status %d, want 503 after MaxWait", i, rec.Code)
		}
	}
	if err := a.Shutdown(context.Background()); err != nil { // every dropped task has returned
		t.Fatal(err)
	}
	if l.samples != 0 {
		t.Errorf("%d samples from three requests shed past MaxWait, want none", l.samples)
	}

	// A request that runs is timed.
	a2, err := adaptive.New(&delayed{}, adaptive.Options{Min: 1, Max: 20, Initial: 10, Limit: l})
	if err != nil {
		t.Fatal(err)
	}
	ok := &executorhttp.Handler{Executor: a2, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	ok.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if err := a2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.samples != 1 {
		t.Errorf("%d samples from one request served, want 1", l.samples)
	}
}

// TestRequestsThatLoseTheirClientBackOffAIMD: through adaptive's
// SubmitSampled, a request whose deadline passes or whose client leaves
// while its handler runs is a drop, and AIMD backs off on each (10 -> 9 ->
// 8 -> 7, by Netflix's ratio 0.9); requests served in time leave the
// limit as it was (one at a time, it is not in use).
func TestRequestsThatLoseTheirClientBackOffAIMD(t *testing.T) {
	for _, tt := range []struct {
		name string
		end  bool // whether each request's context ends while its handler runs
		want int
	}{
		{"served in time", false, 10},
		{"deadline passed while running", true, 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			aimd, err := adaptive.NewAIMD(adaptive.AIMDConfig{})
			if err != nil {
				t.Fatal(err)
			}
			a, err := adaptive.New(&delayed{}, adaptive.Options{Min: 1, Max: 20, Initial: 10, Limit: aimd})
			if err != nil {
				t.Fatal(err)
			}
			var ctx *endable // the current request's, ended by its handler
			h := &executorhttp.Handler{Executor: a, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				if ctx != nil {
					ctx.end()
				}
			})}
			for i := 0; i < 3; i++ {
				r := httptest.NewRequest("GET", "/", nil)
				if tt.end {
					ctx = &endable{Context: context.Background(), done: make(chan struct{}), err: context.DeadlineExceeded}
					r = r.WithContext(ctx)
				}
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			if err := a.Shutdown(context.Background()); err != nil { // every sample is in
				t.Fatal(err)
			}
			if got := a.Limit(); got != tt.want {
				t.Errorf("limit after three requests: %d, want %d", got, tt.want)
			}
		})
	}
}
