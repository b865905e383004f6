package adaptive

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/backends/antspool"
)

func TestMain(m *testing.M) {
	// The load tests import every backend; importing ants starts its default
	// pool's two goroutines, which run for the life of the program: ignore
	// exactly those.
	var opts []goleak.Option
	for _, f := range antspool.PackageGoroutines() {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	goleak.VerifyTestMain(m, opts...)
}
