package group_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/group"
)

// The first error a task returns is Wait's result, and it cancels the
// group's Context, so the other tasks can stop early.
func ExampleWithContext() {
	pool, err := chanpool.New(executor.Config{Workers: 4})
	if err != nil {
		panic(err)
	}
	defer pool.Shutdown(context.Background())

	g, ctx := group.WithContext(context.Background(), pool)
	for _, url := range []string{"a.example", "bad.example", "c.example"} {
		url := url
		g.Go(func() error {
			if strings.HasPrefix(url, "bad") {
				return fmt.Errorf("fetch %s: not found", url)
			}
			<-ctx.Done() // a slow fetch that gives up when the batch fails
			return ctx.Err()
		})
	}
	fmt.Println(g.Wait())
	// Output: fetch bad.example: not found
}

// Map returns one result per input, in the input's order, however the
// tasks were scheduled.
func ExampleMap() {
	pool, err := chanpool.New(executor.Config{Workers: 4})
	if err != nil {
		panic(err)
	}
	defer pool.Shutdown(context.Background())

	words := []string{"one", "two", "three", "four", "five"}
	lengths, err := group.Map(context.Background(), pool, words, func(ctx context.Context, w string) (int, error) {
		return len(w), nil
	})
	fmt.Println(lengths, err)
	// Output: [3 3 5 4 4] <nil>
}

// A task that panics does not crash the process: Wait reports it as a
// *PanicError, with the value and the stack of the task.
func ExamplePanicError() {
	pool, err := chanpool.New(executor.Config{Workers: 2})
	if err != nil {
		panic(err)
	}
	defer pool.Shutdown(context.Background())

	g := group.New(pool)
	g.Go(func() error {
		var cache map[string]int // never made: a bug
		return store(cache, "x")
	})
	err = g.Wait()
	var pe *group.PanicError
	if errors.As(err, &pe) {
		fmt.Println("a task panicked:", pe.Value)
		fmt.Println("stack recorded:", len(pe.Stack) > 0)
	}
	// Output:
	// a task panicked: assignment to entry in nil map
	// stack recorded: true
}

// SetLimit caps one caller's share of a pool that others use too: this
// batch never has more than 2 tasks outstanding on the 8-worker pool, so
// other requests keep the rest.
func ExampleGroup_SetLimit() {
	shared, err := chanpool.New(executor.Config{Workers: 8})
	if err != nil {
		panic(err)
	}
	defer shared.Shutdown(context.Background())

	g := group.New(shared)
	g.SetLimit(2)
	var running, peak atomic.Int64
	for i := 0; i < 20; i++ {
		g.Go(func() error {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			running.Add(-1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("at most 2 at once:", peak.Load() <= 2)
	// Output: at most 2 at once: true
}

// store puts v in m; it panics if m is nil.
func store(m map[string]int, k string) error {
	m[k]++
	return nil
}
