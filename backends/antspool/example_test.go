package antspool_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/swapexec/swapexec/backends/antspool"
	"github.com/swapexec/swapexec/executor"
)

// A caller that will wait at most 50ms for room: SubmitContext gives up
// when ctx ends, and the task then never runs.
func ExamplePool_SubmitContext() {
	p, err := antspool.New(executor.Config{Workers: 1})
	if err != nil {
		panic(err)
	}
	defer p.Shutdown(context.Background())

	busy := make(chan struct{})
	defer close(busy)
	_ = p.Submit(func() { <-busy }) // the only worker is busy

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = p.SubmitContext(ctx, func() { fmt.Println("never runs") })
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

// TrySubmit never waits, even on a blocking Pool: a handler can fall back
// to doing the work itself when the Pool is full.
func ExamplePool_TrySubmit() {
	p, err := antspool.New(executor.Config{Workers: 1})
	if err != nil {
		panic(err)
	}
	defer p.Shutdown(context.Background())

	busy := make(chan struct{})
	defer close(busy)
	_ = p.Submit(func() { <-busy })

	if err := p.TrySubmit(func() {}); errors.Is(err, executor.ErrOverloaded) {
		fmt.Println("full: run it inline")
	}
	// Output: full: run it inline
}

// Resize changes the bound while the Pool runs; Stats reports it at once.
func ExamplePool_Resize() {
	p, err := antspool.New(executor.Config{Workers: 2, QueueSize: 8})
	if err != nil {
		panic(err)
	}
	defer p.Shutdown(context.Background())

	if err := p.Resize(16); err != nil {
		panic(err)
	}
	fmt.Println(p.Stats().Workers)
	err = p.Resize(0)
	fmt.Println(errors.Is(err, executor.ErrInvalidConfig))
	// Output:
	// 16
	// true
}
