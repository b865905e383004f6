// Package demoruntest is the setup the bench module's end-to-end tests
// share: they run httpdemo as a child process, so each needs it built, and
// none under -short.
package demoruntest

import (
	"io"
	"testing"

	"github.com/swapexec/swapexec/bench/internal/demorun"
)

// Build builds httpdemo (as demorun.Binary does) for t and returns the
// binary's path; the binary is removed when t ends. It skips t under
// -short, and fails it now if the build fails.
func Build(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds httpdemo and runs it: skipped with -short")
	}
	bin, remove, err := demorun.Binary("", "test", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	return bin
}
