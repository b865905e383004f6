package backends_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
	"github.com/swapexec/swapexec/executor/executortest"
)

// goPool is a backend from outside this module, as a user would write one:
// a goroutine per task, at most Workers at once, QueueSize more waiting for
// a slot. It keeps the contract (the suite checks it below).
type goPool struct {
	cfg     executor.Config
	slots   chan struct{} // a token per task running or queued: Workers+QueueSize
	running chan struct{} // a token per task running: Workers
	mu      sync.Mutex    // guards closed and the Add half of wg
	closed  bool
	done    chan struct{} // closed when Shutdown begins
	wg      sync.WaitGroup
}

func newGoPool(cfg executor.Config) (executor.Executor, error) {
	cfg, err := backend.Normalize(cfg)
	if err != nil {
		return nil, fmt.Errorf("gopool: %w", err)
	}
	return &goPool{
		cfg:     cfg,
		slots:   make(chan struct{}, cfg.Workers+cfg.QueueSize),
		running: make(chan struct{}, cfg.Workers),
		done:    make(chan struct{}),
	}, nil
}

func (p *goPool) Submit(task func()) error {
	if task == nil {
		return executor.ErrNilTask
	}
	if p.cfg.Nonblocking {
		select {
		case p.slots <- struct{}{}:
		default:
			return executor.ErrOverloaded
		}
	} else {
		select {
		case <-p.done:
			return executor.ErrClosed
		default:
		}
		select {
		case p.slots <- struct{}{}:
		case <-p.done:
			return executor.ErrClosed
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return executor.ErrClosed
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		defer func() { <-p.slots }()
		p.running <- struct{}{}
		defer func() { <-p.running }()
		backend.RunTask(task, p.cfg.PanicHandler)
	}()
	return nil
}

func (p *goPool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.done)
	}
	p.mu.Unlock()
	stopped := make(chan struct{})
	go func() { p.wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// registrations makes each test run's names unique: go test -count=N runs
// the tests N times in one process, and the registry lives as long as it.
var registrations atomic.Int64

func uniqueName(base string) string {
	return fmt.Sprintf("%s%d", base, registrations.Add(1))
}

func TestRegisterOutsideBackend(t *testing.T) {
	name := uniqueName("gopool")
	if err := backends.Register(name, newGoPool); err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	names := backends.Names()
	if !slices.Contains(names, name) || names[0] != backends.Default {
		t.Errorf("Names() = %q; want %q listed, after %q first", names, name, backends.Default)
	}
	// The suite, through the registry, as a user's backend test would run it.
	executortest.Run(t, func(cfg executor.Config) (executor.Executor, error) {
		return backends.New(name, cfg)
	})
}

func TestRegisterRefuses(t *testing.T) {
	taken := uniqueName("taken")
	if err := backends.Register(taken, newGoPool); err != nil {
		t.Fatalf("Register(%q): %v", taken, err)
	}
	for _, tc := range []struct {
		name string
		new  func(executor.Config) (executor.Executor, error)
		want string
	}{
		{"", newGoPool, "empty name"},
		{"two words", newGoPool, "white space"},
		{"a,b", newGoPool, "commas"},
		{"chanpool", newGoPool, "already registered"},
		{taken, newGoPool, "already registered"},
		{uniqueName("nilctor"), nil, "nil constructor"},
	} {
		err := backends.Register(tc.name, tc.new)
		if !errors.Is(err, backends.ErrRegister) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Register(%q): got %v; want an error wrapping ErrRegister that says %q", tc.name, err, tc.want)
		}
	}
}

func TestNewNilFromRegistered(t *testing.T) {
	// Registered names stay for the life of the test binary, and other
	// tests build every name: so this constructor misbehaves only for one
	// Config no other test uses.
	const odd = 7777
	name := uniqueName("nilpool")
	err := backends.Register(name, func(cfg executor.Config) (executor.Executor, error) {
		if cfg.Workers == odd {
			return nil, nil
		}
		return newGoPool(cfg)
	})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := backends.New(name, executor.Config{Workers: odd})
	if err == nil || ex != nil {
		t.Errorf("New(%q) with a constructor returning nil, nil: got %v, %v; want a nil Executor and an error", name, ex, err)
	}
}
