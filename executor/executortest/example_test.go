package executortest_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor/executortest"
)

// A backend runs the whole suite from one test function, passing its
// constructor. newRef, this package's reference executor, stands for
// mypool.New.
func ExampleRun() {
	// Run needs the *testing.T of a real test, so this example only shows
	// the test function. In mypool_test.go it reads:
	//
	//	func TestConformance(t *testing.T) {
	//		executortest.Run(t, mypool.New)
	//	}
	testConformance := func(t *testing.T) {
		executortest.Run(t, newRef)
	}
	_ = testConformance
}

// A backend built on a library that starts package-level goroutines on first
// use tells the leak check about them, and may shorten the deadline.
func ExampleRunWithOptions() {
	opts := executortest.Options{
		Timeout: 2 * time.Second,
		LeakOptions: []goleak.Option{
			goleak.IgnoreTopFunction("example.com/lib.(*cache).janitor"),
		},
	}
	testConformance := func(t *testing.T) {
		executortest.RunWithOptions(t, newRef, opts)
	}
	_ = testConformance
}
