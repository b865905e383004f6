package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/backends/antspool"
)

func TestMain(m *testing.M) {
	// Importing ants (through backends) starts its default pool's two
	// goroutines, which run for the life of the program: ignore exactly those.
	opts := []goleak.Option{goleak.Cleanup(func(code int) {
		removeBinary()
		os.Exit(code)
	})}
	for _, f := range antspool.PackageGoroutines() {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	goleak.VerifyTestMain(m, opts...)
}
