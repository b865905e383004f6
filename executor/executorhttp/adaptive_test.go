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

// TestShedRequestsLowerAdaptiveLimit: through adaptive's SubmitSampled,
// requests dropped after MaxWait reach the limit as drops, and AIMD backs
// off, where a plain Submit would have shown nothing wrong.
func TestShedRequestsLowerAdaptiveLimit(t *testing.T) {
	const initial = 10
	aimd, err := adaptive.NewAIMD(adaptive.AIMDConfig{})
	if err != nil {
		t.Fatal(err)
	}
	const budget = 5 * time.Millisecond
	a, err := adaptive.New(&delayed{after: 4 * budget}, adaptive.Options{Min: 1, Max: 20, Initial: initial, Limit: aimd})
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
	if err := a.Shutdown(context.Background()); err != nil { // every dropped task has reported
		t.Fatal(err)
	}
	if got := a.Limit(); got >= initial {
		t.Errorf("limit %d after three requests shed past MaxWait, want it below the initial %d", got, initial)
	}
}
