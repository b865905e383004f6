package executor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
)

// Run tasks on a bounded pool and shut it down: Shutdown returns once every
// accepted task has run.
func Example() {
	ex, err := chanpool.New(executor.Config{Workers: 4, QueueSize: 16})
	if err != nil {
		fmt.Println(err)
		return
	}
	var mu sync.Mutex
	sum := 0
	for i := 1; i <= 100; i++ {
		i := i
		if err := ex.Submit(func() { mu.Lock(); sum += i; mu.Unlock() }); err != nil {
			fmt.Println(err)
		}
	}
	if err := ex.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println(sum)
	fmt.Println(errors.Is(ex.Submit(func() {}), executor.ErrClosed))
	// Output:
	// 5050
	// true
}

// Wait at most a little while for room, and give up: the task then never
// runs.
func ExampleSubmitContext() {
	ex, err := chanpool.New(executor.Config{Workers: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ex.Shutdown(context.Background())

	release := make(chan struct{})
	started := make(chan struct{})
	ex.Submit(func() { close(started); <-release }) // holds the only worker
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = executor.SubmitContext(ctx, ex, func() { fmt.Println("never printed") })
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	close(release)
	// Output: true
}

// Try once, and do the work on the calling goroutine if the pool is full: a
// handler that fans out on the pool it runs on never waits for itself.
func ExampleTrySubmitter() {
	pool, err := chanpool.New(executor.Config{Workers: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Shutdown(context.Background())

	release := make(chan struct{})
	started := make(chan struct{})
	pool.Submit(func() { close(started); <-release }) // holds the only worker
	<-started

	part := func() { fmt.Println("part done") }
	var ex executor.Executor = pool
	if ts, ok := ex.(executor.TrySubmitter); ok {
		if err := ts.TrySubmit(part); errors.Is(err, executor.ErrOverloaded) {
			fmt.Println("pool full: doing it here")
			part()
		}
	}
	close(release)
	// Output:
	// pool full: doing it here
	// part done
}

// Change the bound while the pool runs: a waiting Submit gets in as soon as
// the pool grows.
func ExampleResizer() {
	pool, err := chanpool.New(executor.Config{Workers: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	release := make(chan struct{})
	started := make(chan struct{})
	pool.Submit(func() { close(started); <-release }) // holds the only worker
	<-started

	second := make(chan struct{})
	go pool.Submit(func() { close(second) }) // waits: no room
	var ex executor.Executor = pool
	if err := ex.(executor.Resizer).Resize(2); err != nil {
		fmt.Println(err)
	}
	<-second // started on the new worker while the first still runs
	fmt.Println("workers:", pool.Stats().Workers)
	close(release)
	if err := pool.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output: workers: 2
}
