package backend_test

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/backend"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      executor.Config
		workers int
		wantErr string // substring; empty means valid
	}{
		{"zero", executor.Config{}, runtime.GOMAXPROCS(0), ""},
		{"explicit", executor.Config{Workers: 7, QueueSize: 3}, 7, ""},
		{"negative workers", executor.Config{Workers: -2}, 0, "Workers is -2"},
		{"negative queue", executor.Config{QueueSize: -1}, 0, "QueueSize is -1"},
		{"at MaxCapacity", executor.Config{Workers: 2, QueueSize: executor.MaxCapacity - 2}, 2, ""},
		{"over MaxCapacity", executor.Config{Workers: 2, QueueSize: executor.MaxCapacity - 1}, 0, "Workers+QueueSize is 2+4194303"},
		{"huge queue", executor.Config{Workers: 1, QueueSize: math.MaxInt}, 0, "want at most 4194304"},
		{"huge workers", executor.Config{Workers: math.MaxInt, QueueSize: math.MaxInt}, 0, "want at most 4194304"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := backend.Normalize(tc.in)
			if tc.wantErr != "" {
				if !errors.Is(err, executor.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Normalize(%+v) error = %v; want ErrInvalidConfig naming %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%+v) error = %v; want nil", tc.in, err)
			}
			if got.Workers != tc.workers || got.QueueSize != tc.in.QueueSize || got.PanicHandler == nil {
				t.Errorf("Normalize(%+v) = Workers %d, QueueSize %d, PanicHandler nil: %v; want %d, %d, non-nil",
					tc.in, got.Workers, got.QueueSize, got.PanicHandler == nil, tc.workers, tc.in.QueueSize)
			}
		})
	}
}

func TestRunTask(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		task     func()
		panicked bool
		check    func(v any) bool
	}{
		{"returns", func() {}, false, nil},
		{"panics with error", func() { panic(errBoom) }, true, func(v any) bool { return v == errBoom }},
		{"panics with nil", func() { panic(nil) }, true, func(v any) bool {
			var pe *runtime.PanicNilError
			err, ok := v.(error)
			return ok && errors.As(err, &pe)
		}},
		{"runtime error", func() {
			var s []int
			i := len(os.Args) + 1
			_ = s[i]
		}, true, func(v any) bool { _, ok := v.(runtime.Error); return ok }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []any
			panicked := backend.RunTask(tc.task, func(v any) { got = append(got, v) })
			if panicked != tc.panicked {
				t.Fatalf("RunTask panicked = %v; want %v", panicked, tc.panicked)
			}
			if !tc.panicked {
				if len(got) != 0 {
					t.Errorf("handler got %v; want no calls", got)
				}
				return
			}
			if len(got) != 1 || !tc.check(got[0]) {
				t.Errorf("handler got %#v; want exactly one call with the panic value", got)
			}
		})
	}
}

func TestRunTaskSurvivesPanickingHandler(t *testing.T) {
	panicked := backend.RunTask(func() { panic("task") }, func(any) { panic("handler") })
	if !panicked {
		t.Fatal("RunTask panicked = false; want true")
	}
}

func TestRunTaskLetsGoexitProceed(t *testing.T) {
	var calls int
	var wg sync.WaitGroup
	after := false
	wg.Add(1)
	go func() {
		defer wg.Done()
		backend.RunTask(runtime.Goexit, func(any) { calls++ })
		after = true
	}()
	wg.Wait()
	if after || calls != 0 {
		t.Errorf("after Goexit: RunTask returned = %v, handler calls = %d; want false, 0", after, calls)
	}
}

func TestHandlePanic(t *testing.T) {
	var got []any
	backend.HandlePanic("boom", func(v any) { got = append(got, v) })
	if len(got) != 1 || got[0] != "boom" {
		t.Errorf("handler got %#v; want exactly one call with \"boom\"", got)
	}
	// A panicking handler is recovered: HandlePanic returns.
	backend.HandlePanic("boom", func(any) { panic("handler") })
}

func TestCounters(t *testing.T) {
	var c backend.Counters
	c.Submitted()
	c.Submitted()
	c.Completed(false)
	c.Completed(true)
	c.Rejected()
	got := c.Fill(executor.Stats{Workers: 3})
	want := executor.Stats{Workers: 3, Submitted: 2, Completed: 2, Rejected: 1, Panicked: 1}
	if got != want {
		t.Errorf("Fill = %+v; want %+v", got, want)
	}
}

func TestMonotonic(t *testing.T) {
	var h backend.Monotonic
	for _, tc := range []struct{ in, want uint64 }{{3, 3}, {1, 3}, {3, 3}, {7, 7}, {0, 7}} {
		if got := h.Raise(tc.in); got != tc.want {
			t.Errorf("Raise(%d) = %d; want %d", tc.in, got, tc.want)
		}
	}
}

// TestRunTaskPanicNilOldSemantics checks that panic(nil) under
// GODEBUG=panicnil=1, which recovers as nil like runtime.Goexit, is still
// handled and reported as a panic. It reruns itself in a subprocess with that
// setting.
func TestRunTaskPanicNilOldSemantics(t *testing.T) {
	if os.Getenv("BACKEND_PANICNIL_CHILD") == "1" {
		var got []any
		panicked := backend.RunTask(func() { panic(nil) }, func(v any) { got = append(got, v) })
		var pe *runtime.PanicNilError
		if !panicked || len(got) != 1 || !errors.As(got[0].(error), &pe) {
			t.Fatalf("under panicnil=1: RunTask panicked = %v, handler got %#v; want true and one *runtime.PanicNilError", panicked, got)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunTaskPanicNilOldSemantics$", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG=panicnil=1", "BACKEND_PANICNIL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("subprocess under GODEBUG=panicnil=1: %v\n%s", err, out)
	}
}

func TestCheckResize(t *testing.T) {
	for _, tc := range []struct {
		workers, queue int
		wantErr        string
	}{
		{1, 0, ""},
		{executor.MaxCapacity - 5, 5, ""},
		{0, 0, "Resize(0)"},
		{-2, 0, "Resize(-2)"},
		{executor.MaxCapacity - 4, 5, "QueueSize 5"},
	} {
		err := backend.CheckResize(tc.workers, tc.queue)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("CheckResize(%d, %d) = %v; want nil", tc.workers, tc.queue, err)
			}
			continue
		}
		if !errors.Is(err, executor.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("CheckResize(%d, %d) = %v; want ErrInvalidConfig naming %q", tc.workers, tc.queue, err, tc.wantErr)
		}
	}
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
