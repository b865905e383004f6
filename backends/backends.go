// Package backends is the registry of swapexec's executors: it builds one by
// name, so a program can switch pools with a flag and change nothing else.
//
// The three backends of this module are an explicit table, not init-time
// registration: importing this package imports every one of them, and none
// registers itself. A backend from elsewhere joins with [Register], as a
// database/sql driver does with sql.Register, and is then built by New and
// listed by Names like the others.
//
// Importing this package imports github.com/panjf2000/ants/v2, which starts
// two goroutines for its default pool when the program starts (whichever
// backend is chosen) and never stops them: tests that check for leaked
// goroutines with go.uber.org/goleak ignore exactly those, with
// goleak.IgnoreAnyFunction for each name in antspool.PackageGoroutines().
// A program that wants no ants at all imports the backend it uses
// (backends/chanpool, say) instead of this package.
package backends

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/swapexec/swapexec/backends/antspool"
	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/backends/pondpool"
	"github.com/swapexec/swapexec/executor"
)

// ErrUnknown is wrapped by New when no backend has the given name.
var ErrUnknown = errors.New("backends: unknown backend")

// ErrRegister is wrapped by Register when it refuses a backend.
var ErrRegister = errors.New("backends: cannot register")

// backend is one row of the registry.
type backend struct {
	name string
	new  func(executor.Config) (executor.Executor, error)
}

// builtin lists this module's backends, the default first. Adding one is
// one line here.
var builtin = [...]backend{
	{"chanpool", adapt(chanpool.New)},
	{"ants", adapt(antspool.New)},
	{"pond", adapt(pondpool.New)},
}

// registered holds the backends added with Register, in the order they
// were added; mu guards it. New and Names read it under mu, and never call
// a constructor with mu held.
var (
	mu         sync.RWMutex
	registered []backend
)

// adapt turns a backend's typed constructor into the registry's. It returns a
// nil Executor, not an interface holding a nil pointer, when the constructor
// fails.
func adapt[P executor.Executor](newPool func(executor.Config) (P, error)) func(executor.Config) (executor.Executor, error) {
	return func(cfg executor.Config) (executor.Executor, error) {
		p, err := newPool(cfg)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

// Default is the name of the backend programs use when none is chosen.
const Default = "chanpool"

// Register makes a backend available to New and Names under name, as
// sql.Register does for database drivers. It returns an error wrapping
// ErrRegister if name is empty or contains white space or a comma, if a
// backend already has that name (this module's own included), or if
// newExecutor is nil. Register is safe for concurrent use with New and
// Names; call it from main (or a test) before the name is needed, not from
// init.
//
// newExecutor should keep the contract of package executor, which
// executortest.Run checks, and return an error wrapping
// executor.ErrInvalidConfig for a Config it rejects.
func Register(name string, newExecutor func(executor.Config) (executor.Executor, error)) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrRegister)
	case strings.ContainsAny(name, " \t\n\r,"):
		return fmt.Errorf("%w %q: a name must have no white space or commas", ErrRegister, name)
	case newExecutor == nil:
		return fmt.Errorf("%w %q: nil constructor", ErrRegister, name)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, ok := lookup(name); ok {
		return fmt.Errorf("%w %q: a backend of that name is already registered", ErrRegister, name)
	}
	registered = append(registered, backend{name, newExecutor})
	return nil
}

// lookup finds the backend called name; mu is held (for reading at least).
func lookup(name string) (backend, bool) {
	for _, b := range builtin {
		if b.name == name {
			return b, true
		}
	}
	for _, b := range registered {
		if b.name == name {
			return b, true
		}
	}
	return backend{}, false
}

// Names returns the names New accepts: this module's backends, the default
// first, then those added with Register, in the order they were added. The
// caller may modify the returned slice.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(builtin)+len(registered))
	for _, b := range builtin {
		names = append(names, b.name)
	}
	for _, b := range registered {
		names = append(names, b.name)
	}
	return names
}

// New builds the backend called name with cfg. An unknown name returns an
// error wrapping ErrUnknown that lists the valid names; an invalid cfg returns
// the backend's error, which wraps executor.ErrInvalidConfig. A registered
// constructor that returns a nil Executor with a nil error is reported as an
// error, never handed on.
func New(name string, cfg executor.Config) (executor.Executor, error) {
	mu.RLock()
	b, ok := lookup(name)
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q; valid names: %s", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	ex, err := b.new(cfg)
	if err != nil {
		return nil, err
	}
	if ex == nil {
		return nil, fmt.Errorf("backends: %q returned a nil Executor and a nil error", name)
	}
	return ex, nil
}
