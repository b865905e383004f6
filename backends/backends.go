// Package backends is the registry of swapexec's executors: it builds one by
// name, so a program can switch pools with a flag and change nothing else.
//
// The registry is an explicit table, not init-time registration: importing
// this package imports every backend, and nothing else registers itself.
package backends

import (
	"errors"
	"fmt"
	"strings"

	"github.com/swapexec/swapexec/backends/antspool"
	"github.com/swapexec/swapexec/backends/chanpool"
	"github.com/swapexec/swapexec/backends/pondpool"
	"github.com/swapexec/swapexec/executor"
)

// ErrUnknown is wrapped by New when no backend has the given name.
var ErrUnknown = errors.New("backends: unknown backend")

// backend is one row of the registry.
type backend struct {
	name string
	new  func(executor.Config) (executor.Executor, error)
}

// registry lists every backend, the default first. Adding a backend is one
// line here.
var registry = [...]backend{
	{"chanpool", adapt(chanpool.New)},
	{"ants", adapt(antspool.New)},
	{"pond", adapt(pondpool.New)},
}

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

// Names returns the names New accepts, the default first. The caller may
// modify the returned slice.
func Names() []string {
	names := make([]string, len(registry))
	for i, b := range registry {
		names[i] = b.name
	}
	return names
}

// New builds the backend called name with cfg. An unknown name returns an
// error wrapping ErrUnknown that lists the valid names; an invalid cfg returns
// the backend's error, which wraps executor.ErrInvalidConfig.
func New(name string, cfg executor.Config) (executor.Executor, error) {
	for _, b := range registry {
		if b.name == name {
			return b.new(cfg)
		}
	}
	return nil, fmt.Errorf("%w %q; valid names: %s", ErrUnknown, name, strings.Join(Names(), ", "))
}
