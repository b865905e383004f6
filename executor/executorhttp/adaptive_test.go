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
