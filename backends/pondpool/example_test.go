package pondpool_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/swapexec/swapexec/backends/pondpool"
	"github.com/swapexec/swapexec/executor"
)

// A Pool waits for room in Submit; SubmitContext gives up when its ctx
// ends, and the task never runs.
func ExamplePool_SubmitContext() {
	p, err := pondpool.New(executor.Config{Workers: 1})
	if err != nil {
		panic(err)
	}
	release := make(chan struct{})
	if err := p.Submit(func() { <-release }); err != nil { // the only worker is busy
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = p.SubmitContext(ctx, func() { fmt.Println("never runs") })
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	close(release)
	if err := p.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	// Output: true
}

// TrySubmit never waits, even on a blocking Pool: with Workers tasks
// running and QueueSize waiting it returns ErrOverloaded, and the caller
// can do the work itself.
func ExamplePool_TrySubmit() {
	p, err := pondpool.New(executor.Config{Workers: 1, QueueSize: 1})
	if err != nil {
		panic(err)
	}
	release := make(chan struct{})
	for i := 0; i < 2; i++ { // one runs, one waits
		if err := p.TrySubmit(func() { <-release }); err != nil {
			panic(err)
		}
	}
	if err := p.TrySubmit(func() {}); errors.Is(err, executor.ErrOverloaded) {
		fmt.Println("full: run it inline")
	}
	close(release)
	if err := p.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	// Output: full: run it inline
}

// Resize changes the bound while the Pool runs; Stats reports it at once.
func ExamplePool_Resize() {
	p, err := pondpool.New(executor.Config{Workers: 2, QueueSize: 8})
	if err != nil {
		panic(err)
	}
	if err := p.Resize(16); err != nil {
		panic(err)
	}
	fmt.Println(p.Stats().Workers)
	if err := p.Resize(0); errors.Is(err, executor.ErrInvalidConfig) {
		fmt.Println("at least 1 worker")
	}
	if err := p.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	if err := p.Resize(4); errors.Is(err, executor.ErrClosed) {
		fmt.Println("closed")
	}
	// Output:
	// 16
	// at least 1 worker
	// closed
}
