package backends_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/backends/antspool"
	"github.com/swapexec/swapexec/executor"
)

func TestMain(m *testing.M) {
	// Importing ants (for the "ants" backend) starts its default pool's two
	// goroutines, which run for the life of the program: ignore exactly those.
	var opts []goleak.Option
	for _, f := range antspool.PackageGoroutines() {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	goleak.VerifyTestMain(m, opts...)
}

func TestNamesStartWithDefault(t *testing.T) {
	names := backends.Names()
	if len(names) == 0 || names[0] != backends.Default {
		t.Fatalf("Names() = %q; want %q first", names, backends.Default)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("Names() lists %q twice", n)
		}
		seen[n] = true
	}
}

func TestNewEveryName(t *testing.T) {
	for _, name := range backends.Names() {
		name := name
		t.Run(name, func(t *testing.T) {
			ex, err := backends.New(name, executor.Config{Workers: 2})
			if err != nil {
				t.Fatalf("New(%q) error: %v", name, err)
			}
			ran := make(chan struct{})
			if err := ex.Submit(func() { close(ran) }); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			<-ran
			if err := ex.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		})
	}
}

func TestNewUnknownListsNames(t *testing.T) {
	ex, err := backends.New("nope", executor.Config{})
	if !errors.Is(err, backends.ErrUnknown) {
		t.Fatalf("New(\"nope\") error = %v; want ErrUnknown", err)
	}
	if ex != nil {
		t.Errorf("New(\"nope\") executor = %v; want nil", ex)
	}
	for _, n := range backends.Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list valid name %q", err, n)
		}
	}
}

func TestNewInvalidConfigReturnsNilExecutor(t *testing.T) {
	for _, name := range backends.Names() {
		ex, err := backends.New(name, executor.Config{Workers: -1})
		if !errors.Is(err, executor.ErrInvalidConfig) {
			t.Errorf("New(%q, Workers: -1) error = %v; want ErrInvalidConfig", name, err)
		}
		// A typed nil pointer in a non-nil interface would pass err checks
		// and crash the caller later.
		if ex != nil {
			t.Errorf("New(%q, Workers: -1) executor = %#v; want nil interface", name, ex)
		}
	}
}
