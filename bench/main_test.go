package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		// A configuration line (benchfmt's "key: value") records the scale
		// in the output itself, so a saved run can be reported on its own.
		scale, err := Scale()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("swapexec-scale: 1:%d\n", scale)
	}
	// Goroutines that exist before any test are the backends' package-level
	// ones (ants starts a default pool when imported): not leaks of ours.
	goleak.VerifyTestMain(m, goleak.IgnoreCurrent())
}

// TestImplsRunEveryTask checks what the benchmarks rely on from every
// contender, backends and baselines alike: each accepted task runs exactly
// once before Shutdown returns, also from many submitters at once and with
// more tasks than workers plus queue.
func TestImplsRunEveryTask(t *testing.T) {
	const submitters, perSubmitter = 8, 200
	for _, im := range impls() {
		im := im
		t.Run(im.name, func(t *testing.T) {
			ex, err := im.new(executor.Config{Workers: 3, QueueSize: 5})
			if err != nil {
				t.Fatal(err)
			}
			var ran atomic.Int64
			errs := make(chan error, submitters)
			for s := 0; s < submitters; s++ {
				go func() {
					var err error
					for i := 0; i < perSubmitter && err == nil; i++ {
						err = ex.Submit(func() { ran.Add(1) })
					}
					errs <- err
				}()
			}
			for s := 0; s < submitters; s++ {
				if err := <-errs; err != nil {
					t.Errorf("Submit: %v", err)
				}
			}
			if err := ex.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if got, want := ran.Load(), int64(submitters*perSubmitter); got != want {
				t.Errorf("%d tasks ran; want %d", got, want)
			}
		})
	}
}

func TestImplsIncludeEveryBackend(t *testing.T) {
	seen := make(map[string]bool)
	for _, im := range impls() {
		if seen[im.name] {
			t.Errorf("impl %q appears twice", im.name)
		}
		seen[im.name] = true
	}
	for _, want := range []string{"chanpool", "direct", "gopertask", "errgroup", "barechan"} {
		if !seen[want] {
			t.Errorf("impls() lacks %q", want)
		}
	}
}

func TestScale(t *testing.T) {
	for _, tc := range []struct {
		env     string
		want    int
		wantErr bool
	}{
		{"", DefaultScale, false},
		{"1", 1, false},
		{"100", 100, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"ten", 0, true},
	} {
		t.Setenv(ScaleEnv, tc.env)
		got, err := Scale()
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s=%q: Scale() = %d, %v; want %d, error %v", ScaleEnv, tc.env, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestShapesKeepTheirRatios(t *testing.T) {
	for _, scale := range []int{1, 10, 100, 1000} {
		a := AntsShape(scale)
		if got, want := a.Tasks()/a.Workers, 20; got != want {
			t.Errorf("scale %d: ants shape %v has %d tasks per worker; want %d", scale, a, got, want)
		}
		for _, p := range PondShapes(scale) {
			if got, want := p.Tasks(), 1_000_000/scale; got != want {
				t.Errorf("scale %d: pond shape %s (%v) has %d tasks; want %d", scale, p.Name, p, got, want)
			}
			if got, want := p.Tasks()/p.Workers, 5; got != want {
				t.Errorf("scale %d: pond shape %s (%v) has %d tasks per worker; want %d", scale, p.Name, p, got, want)
			}
		}
	}
}
