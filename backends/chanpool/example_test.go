package chanpool_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/executor"
)

// TrySubmit never waits, even on a blocking pool: a caller that would
// rather do the work itself than wait can fall back on running it inline.
func ExamplePool_TrySubmit() {
	p, err := chanpool.New(executor.Config{Workers: 1})
	if err != nil {
		panic(err)
	}
	release := make(chan struct{})
	_ = p.Submit(func() { <-release }) // the only worker is busy

	err = p.TrySubmit(func() { fmt.Println("on the pool") })
	if errors.Is(err, executor.ErrOverloaded) {
		fmt.Println("full: running inline instead")
	}
	close(release)
	_ = p.Shutdown(context.Background())
	// Output: full: running inline instead
}

// SubmitContext gives up waiting for room when its context ends; the task
// then never runs.
func ExamplePool_SubmitContext() {
	p, err := chanpool.New(executor.Config{Workers: 1})
	if err != nil {
		panic(err)
	}
	release := make(chan struct{})
	_ = p.Submit(func() { <-release })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = p.SubmitContext(ctx, func() { fmt.Println("never printed") })
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	close(release)
	_ = p.Shutdown(context.Background())
	// Output: true
}

// Resize changes the bound while the pool runs; Stats reports it at once.
func ExamplePool_Resize() {
	p, err := chanpool.New(executor.Config{Workers: 2})
	if err != nil {
		panic(err)
	}
	if err := p.Resize(8); err != nil {
		panic(err)
	}
	fmt.Println(p.Stats().Workers)
	if err := p.Resize(0); errors.Is(err, executor.ErrInvalidConfig) {
		fmt.Println("Resize(0) refused")
	}
	_ = p.Shutdown(context.Background())
	// Output:
	// 8
	// Resize(0) refused
}
