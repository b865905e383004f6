package group_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/group"
)

func TestMapKeepsInputOrder(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 3, QueueSize: 2}, func(t *testing.T, ex executor.Executor) {
		in := make([]int, 500)
		for i := range in {
			in[i] = i
		}
		got, err := group.Map(context.Background(), ex, in, func(_ context.Context, v int) (int, error) {
			if v%7 == 0 {
				runtime.Gosched() // let later elements finish first
			}
			return v * 2, nil
		})
		if err != nil {
			t.Fatalf("Map: %v", err)
		}
		if len(got) != len(in) {
			t.Fatalf("Map returned %d results; want %d", len(got), len(in))
		}
		for i, r := range got {
			if r != 2*i {
				t.Fatalf("result %d = %d; want %d", i, r, 2*i)
			}
		}
	})
}

func TestMapEmpty(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 1}, func(t *testing.T, ex executor.Executor) {
		got, err := group.Map(context.Background(), ex, nil, func(context.Context, int) (int, error) {
			t.Error("f called for an empty input")
			return 0, nil
		})
		if err != nil || len(got) != 0 {
			t.Errorf("Map(nil) = %v, %v; want no results and nil", got, err)
		}
	})
}

func TestMapStopsAtFirstError(t *testing.T) {
	const n, failAt = 10000, 5
	eachBackend(t, executor.Config{Workers: 2}, func(t *testing.T, ex executor.Executor) {
		in := make([]int, n)
		for i := range in {
			in[i] = i
		}
		var calls, sawCancel atomic.Int64
		got, err := group.Map(context.Background(), ex, in, func(ctx context.Context, v int) (int, error) {
			calls.Add(1)
			if v == failAt {
				return 0, errBoom
			}
			if v > failAt && ctx.Err() != nil {
				sawCancel.Add(1)
			}
			return v, nil
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("Map error = %v; want %v", err, errBoom)
		}
		if got != nil {
			t.Errorf("Map results = %d values; want nil with an error", len(got))
		}
		// Once the error cancels the context, no element is submitted: the
		// loop can only be a few elements past the failing one.
		if c := calls.Load(); c >= n/2 {
			t.Errorf("f called %d times of %d; want Map to stop soon after element %d failed", c, n, failAt)
		}
	})
}

func TestMapReportsPanicAndCanceledContext(t *testing.T) {
	eachBackend(t, executor.Config{Workers: 2}, func(t *testing.T, ex executor.Executor) {
		_, err := group.Map(context.Background(), ex, []int{1, 2, 3}, func(_ context.Context, v int) (int, error) {
			if v == 2 {
				panic("two")
			}
			return v, nil
		})
		var pe *group.PanicError
		if !errors.As(err, &pe) || pe.Value != "two" {
			t.Errorf("Map error = %v; want a *group.PanicError with value \"two\"", err)
		}

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var calls atomic.Int64
		got, err := group.Map(ctx, ex, []int{1, 2, 3}, func(context.Context, int) (int, error) {
			calls.Add(1)
			return 0, nil
		})
		if !errors.Is(err, context.Canceled) || got != nil || calls.Load() != 0 {
			t.Errorf("Map with a done ctx = %v, %v after %d calls; want nil, context.Canceled, 0 calls", got, err, calls.Load())
		}
	})
}

func TestMapCalledFromTask(t *testing.T) {
	// Map inside a task of a full executor runs its elements inline rather
	// than deadlocking.
	for _, workers := range []int{1, 2} {
		eachBackend(t, executor.Config{Workers: workers}, func(t *testing.T, ex executor.Executor) {
			g := group.New(ex)
			var sum atomic.Int64
			for i := 0; i < workers; i++ {
				g.Go(func() error {
					r, err := group.Map(context.Background(), ex, []int{1, 2, 3, 4}, func(_ context.Context, v int) (int, error) {
						return v, nil
					})
					for _, v := range r {
						sum.Add(int64(v))
					}
					return err
				})
			}
			if err := wait(t, g); err != nil {
				t.Fatalf("Wait() = %v", err)
			}
			if got, want := sum.Load(), int64(10*workers); got != want {
				t.Errorf("sum of results = %d; want %d", got, want)
			}
		})
	}
}
