package backends_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
)

// Build a pool by name, so that a flag or a config file can choose it.
func ExampleNew() {
	ex, err := backends.New("ants", executor.Config{Workers: 8, QueueSize: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ex.Shutdown(context.Background())

	done := make(chan string)
	if err := ex.Submit(func() { done <- "ran on ants" }); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-done)

	_, err = backends.New("tokio", executor.Config{})
	fmt.Println(errors.Is(err, backends.ErrUnknown))
	// Output:
	// ran on ants
	// true
}

// Register a backend written outside this module, then choose it by name like
// the built-in ones. Its constructor should pass executortest.Run.
func ExampleRegister() {
	err := backends.Register(uniqueName("example"), newGoPool)
	fmt.Println(err)
	fmt.Println(backends.Names()[:3])
	// Output:
	// <nil>
	// [chanpool ants pond]
}
