package adaptive_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/adaptive"
	"github.com/swapexec/swapexec/executor/executorhttp"
)

// An adaptive limit over a pool: the pool's Workers is only the starting
// point; the Executor resizes it from the run times it measures. A wait
// budget on each submission bounds how long a caller waits for a worker.
func Example() {
	pool, err := chanpool.New(executor.Config{Workers: 4})
	if err != nil {
		log.Fatal(err)
	}
	limit, err := adaptive.NewGradient2(adaptive.Gradient2Config{}) // Netflix's defaults
	if err != nil {
		log.Fatal(err)
	}
	ex, err := adaptive.New(pool, adaptive.Options{Min: 2, Max: 64, Initial: 8, Limit: limit})
	if err != nil {
		log.Fatal(err)
	}
	prometheus.NewRegistry().MustRegister(ex.Collector()) // swapexec_adaptive_limit

	for i := 0; i < 100; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		err := ex.SubmitContext(ctx, func() { /* call the database */ })
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			// Shed: no worker came free within the budget.
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := ex.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("limit within bounds:", ex.Limit() >= 2 && ex.Limit() <= 64)
	fmt.Println("Stats().Workers is the limit:", ex.Stats().Workers == ex.Limit())
	// Output:
	// limit within bounds: true
	// Stats().Workers is the limit: true
}

// Behind a wait budget, such as an executorhttp.Handler's MaxWait, the
// requests a limit holds back wait in front of it, where the budget can
// shed them; QueuedGradient2Config keeps the limit just above what the
// downstream serves at once, so none wait inside the handler.
func ExampleQueuedGradient2Config() {
	pool, err := chanpool.New(executor.Config{Workers: 2})
	if err != nil {
		log.Fatal(err)
	}
	limit, err := adaptive.NewGradient2(adaptive.QueuedGradient2Config())
	if err != nil {
		log.Fatal(err)
	}
	ex, err := adaptive.New(pool, adaptive.Options{Initial: 2, Limit: limit})
	if err != nil {
		log.Fatal(err)
	}
	h := &executorhttp.Handler{
		Executor: ex,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintln(w, "hello") // a call to the downstream would go here
		}),
		MaxWait: 30 * time.Millisecond, // the wait budget in front of the limit
		Target:  5 * time.Millisecond,  // CoDel
		LIFO:    true,
	}
	srv := httptest.NewServer(h)
	resp, err := http.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Close()
	if err := ex.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Print(resp.Status, " ", string(body))
	// Output: 200 OK hello
}

// A task that knows its work was lost to overload (the call it made timed
// out) says so, and AIMD, which reads losses and not latency, backs off
// on it: from 10 to 9, Netflix's ratio of 0.9. executorhttp's tasks report
// a request whose client left or whose deadline passed while it ran the
// same way.
func ExampleExecutor_SubmitSampled() {
	pool, err := chanpool.New(executor.Config{Workers: 10})
	if err != nil {
		log.Fatal(err)
	}
	limit, err := adaptive.NewAIMD(adaptive.AIMDConfig{}) // Netflix's defaults
	if err != nil {
		log.Fatal(err)
	}
	ex, err := adaptive.New(pool, adaptive.Options{Min: 1, Max: 20, Initial: 10, Limit: limit})
	if err != nil {
		log.Fatal(err)
	}
	callDownstream := func(ctx context.Context) error {
		<-ctx.Done() // a downstream too busy to answer in time
		return ctx.Err()
	}
	err = ex.SubmitSampled(context.Background(), func() executor.Outcome {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		if err := callDownstream(ctx); errors.Is(err, context.DeadlineExceeded) {
			return executor.Dropped
		}
		return executor.Succeeded
	})
	if err != nil {
		log.Fatal(err)
	}
	// The sample is taken as the task returns, on its worker: wait for the
	// cut (a Shutdown begun first would keep the limit where it was).
	for start := time.Now(); ex.Limit() == 10 && time.Since(start) < time.Second; {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("limit:", ex.Limit())
	if err := ex.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
	// Output: limit: 9
}
