package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/backends"
	"github.com/swapexec/swapexec/backends/antspool"
	"github.com/swapexec/swapexec/executor"
)

func TestMain(m *testing.M) {
	var opts []goleak.Option
	for _, f := range antspool.PackageGoroutines() {
		opts = append(opts, goleak.IgnoreAnyFunction(f))
	}
	goleak.VerifyTestMain(m, opts...)
}

const mb = 1 << 20

// series makes one sample a second, heap live heap(i) and goroutines g(i).
func series(n int, heap func(i int) uint64, g func(i int) int) []sample {
	out := make([]sample, n)
	for i := range out {
		out[i] = sample{At: time.Duration(i+1) * time.Second, HeapLive: heap(i), Goroutines: g(i)}
	}
	return out
}

func flatHeap(uint64) func(int) uint64 { return func(int) uint64 { return 3 * mb } }
func flatG(int) int                    { return 20 }

func TestGrowthRule(t *testing.T) {
	rule := growthRule{Warmup: 10 * time.Second, HeapFactor: 1.5, HeapSlack: 4 * mb, GoroutineSlack: 8}
	tests := []struct {
		name                      string
		samples                   []sample
		heapGrew, gorGrew         bool
		wantWindow                int
		wantHeapBase, wantHeapEnd uint64
	}{
		{"flat", series(60, flatHeap(0), flatG), false, false, 10, 3 * mb, 3 * mb},
		{"noise within the bound", series(60, func(i int) uint64 { return uint64(2+i%3) * mb }, func(i int) int { return 18 + i%5 }),
			false, false, 10, 4 * mb, 2 * mb},
		// Samples 9-59 follow the warm-up; windows of 10. At 512 KiB a
		// second, the baseline's max (sample 18) is 12 MiB, the bound
		// 12 × 1.5 + 4 = 22 MiB, and the end's min (sample 50) 28 MiB.
		{"heap leak", series(60, func(i int) uint64 { return 3*mb + uint64(i)*512<<10 }, flatG), true, false, 10, 12 * mb, 28 * mb},
		// The rule's stated limit: at 128 KiB a second the end's min, 9.25
		// MiB, stays under 5.25 × 1.5 + 4; a longer soak would catch it.
		{"slow leak, under what 60 samples can see", series(60, func(i int) uint64 { return 3*mb + uint64(i)*128<<10 }, flatG),
			false, false, 10, 3*mb + 18*128<<10, 3*mb + 50*128<<10},
		{"slow leak, caught by a longer soak", series(300, func(i int) uint64 { return 3*mb + uint64(i)*128<<10 }, flatG),
			true, false, 58, 3*mb + 66*128<<10, 3*mb + 242*128<<10},
		{"goroutine leak", series(60, flatHeap(0), func(i int) int { return 20 + i/2 }), false, true, 10, 3 * mb, 3 * mb},
		{"one spike at the end", series(60, func(i int) uint64 {
			if i == 58 {
				return 100 * mb
			}
			return 3 * mb
		}, func(i int) int {
			if i == 59 {
				return 500
			}
			return 20
		}), false, false, 10, 3 * mb, 3 * mb},
		{"growth during the warm-up only", series(60, func(i int) uint64 {
			return uint64(min(i, 9)) * mb
		}, func(i int) int { return 2 * min(i, 9) }), false, false, 10, 9 * mb, 9 * mb},
		{"short run: the smallest windows", series(16, flatHeap(0), flatG), false, false, minWindow, 3 * mb, 3 * mb},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := rule.check(tc.samples)
			if err != nil {
				t.Fatal(err)
			}
			if g.HeapGrew != tc.heapGrew || g.GoroutinesGrew != tc.gorGrew {
				t.Errorf("grew: heap %v goroutines %v; want %v %v (%+v)", g.HeapGrew, g.GoroutinesGrew, tc.heapGrew, tc.gorGrew, g)
			}
			if g.Window != tc.wantWindow || g.HeapBase != tc.wantHeapBase || g.HeapEnd != tc.wantHeapEnd {
				t.Errorf("window %d, heap base %d, end %d; want %d, %d, %d", g.Window, g.HeapBase, g.HeapEnd, tc.wantWindow, tc.wantHeapBase, tc.wantHeapEnd)
			}
			if want := uint64(float64(g.HeapBase)*1.5) + 4*mb; g.HeapBound != want {
				t.Errorf("HeapBound = %d; want %d", g.HeapBound, want)
			}
		})
	}
	if _, err := rule.check(series(14, flatHeap(0), flatG)); err == nil || !strings.Contains(err.Error(), "run longer") {
		t.Errorf("check(14 samples, 10s warm-up) = %v; want an error: 5 samples make no two windows of 3", err)
	}
	fixed := rule
	fixed.Window = 20
	if _, err := fixed.check(series(48, flatHeap(0), flatG)); err == nil {
		t.Error("check(Window 20, 39 samples after the warm-up) = nil; want an error")
	}
}

func TestCheckSnapshot(t *testing.T) {
	ok := executor.Stats{Workers: 8, Running: 8, Queued: 64, Submitted: 100, Completed: 28, Rejected: 3, Panicked: 1}
	tests := []struct {
		name string
		prev *executor.Stats
		s    executor.Stats
		want []string // in the problems, in order; none: fine
	}{
		{"at the bounds", &ok, ok, nil},
		{"first snapshot", nil, executor.Stats{}, nil},
		{"negative queue", nil, executor.Stats{Running: 2, Queued: -743}, []string{"Queued -743 outside [0, 64]"}},
		{"running over the bound", nil, executor.Stats{Running: 9}, []string{"Running 9 outside [0, 8]"}},
		{"completed ahead", nil, executor.Stats{Submitted: 1, Completed: 2}, []string{"Completed 2 > Submitted 1"}},
		{"panicked ahead", nil, executor.Stats{Submitted: 2, Completed: 1, Panicked: 2}, []string{"Panicked 2 > Completed 1"}},
		{"counters down", &ok, executor.Stats{Submitted: 99, Completed: 28, Rejected: 2, Panicked: 1},
			[]string{"Submitted went down from 100 to 99", "Rejected went down from 3 to 2"}},
	}
	for _, tc := range tests {
		got := checkSnapshot(tc.prev, tc.s, 8, 64)
		if len(got) != len(tc.want) {
			t.Errorf("%s: checkSnapshot = %q; want %d problems %q", tc.name, got, len(tc.want), tc.want)
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: problem %d = %q; want it to contain %q", tc.name, i, got[i], w)
			}
		}
	}
}

func TestCheckFinal(t *testing.T) {
	good := result{Final: executor.Stats{Submitted: 10, Completed: 10, Rejected: 2, Panicked: 1},
		Accepted: 10, Ran: 10, Rejected: 2, Panicked: 1, Handled: 1, GoroutinesBefore: 3, GoroutinesAfter: 3}
	if bad := checkFinal(good); len(bad) != 0 {
		t.Errorf("checkFinal(consistent) = %q; want none", bad)
	}
	for _, tc := range []struct {
		name   string
		change func(*result)
		want   string
	}{
		{"a task still queued", func(r *result) { r.Final.Queued = 1 }, "want Submitted == Completed"},
		{"not drained", func(r *result) { r.Final.Completed = 9 }, "want Submitted == Completed"},
		{"Submitted trails", func(r *result) { r.Final.Submitted, r.Final.Completed = 9, 9 }, "Stats.Submitted 9; the workload had 10"},
		{"a task ran twice", func(r *result) { r.Ran = 11 }, "11 tasks ran for 10 accepted"},
		{"a task lost", func(r *result) { r.Ran = 9 }, "9 tasks ran for 10 accepted"},
		{"refusal uncounted", func(r *result) { r.Final.Rejected = 1 }, "Stats.Rejected 1; the workload had 2"},
		{"panic unhandled", func(r *result) { r.Handled = 0 }, "PanicHandler called 0 times; 1 tasks panicked"},
		{"panic uncounted", func(r *result) { r.Final.Panicked = 0 }, "Stats.Panicked 0"},
		{"goroutine left", func(r *result) { r.GoroutinesAfter = 4 }, "4 goroutines 2s after Shutdown; 3 before"},
	} {
		r := good
		tc.change(&r)
		bad := checkFinal(r)
		if len(bad) != 1 || !strings.Contains(bad[0], tc.want) {
			t.Errorf("%s: checkFinal = %q; want one problem containing %q", tc.name, bad, tc.want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if got := strings.Join(c.Backends, ","); got != "chanpool,ants,pond" || c.Duration != 2*time.Minute {
		t.Errorf("defaults: backends %s, duration %s; want chanpool,ants,pond and 2m", got, c.Duration)
	}
	c, err = parseConfig([]string{"-backend", "pond,ants", "-duration", "10s"}, io.Discard)
	if err != nil || strings.Join(c.Backends, ",") != "pond,ants" {
		t.Errorf("-backend pond,ants: %v, %v; want pond,ants", c.Backends, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-backend", "fast"}, `unknown backend "fast"`},
		{[]string{"-backend", "ants,ants"}, "ants is named twice"},
		{[]string{"-duration", "0s"}, "-duration 0s: want in (0, 24h]"},
		{[]string{"-duration", "5s"}, "-every 1s: want at most"},
		{[]string{"-warmup", "3m"}, "-warmup 3m0s: want in [0, -duration)"},
		{[]string{"-workers", "0"}, "-workers 0: want in [1, 4096]"},
		{[]string{"-queue", "-1"}, "-queue -1"},
		{[]string{"-submitters", "0"}, "-submitters 0"},
		{[]string{"-scrape", "0s"}, "-scrape 0s: want > 0"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		_, err := parseConfig(tc.args, io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%q) = %v; want a usage error containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := parseConfig([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseConfig(-h) = %v; want flag.ErrHelp", err)
	}
}

func TestRunExitStatus(t *testing.T) {
	var stderr bytes.Buffer
	if got := run([]string{"-workers", "-3"}, io.Discard, &stderr); got != 2 || !strings.Contains(stderr.String(), "-workers -3") {
		t.Errorf("run(-workers -3) = %d, %q; want 2 and the flag named", got, stderr.String())
	}
}

// TestSoakShort soaks every backend briefly, with samples every 100ms, and
// requires it to pass: exact counts, consistent snapshots, no growth, no
// goroutine left.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("soaks every backend for a second: skipped with -short")
	}
	var stdout, stderr bytes.Buffer
	status := run([]string{"-duration", "1500ms", "-every", "100ms", "-resize-every", "200ms"}, &stdout, &stderr)
	if status != 0 {
		t.Fatalf("soak exited %d; report:\n%s\nlog:\n%s", status, stdout.String(), stderr.String())
	}
	for _, b := range []string{"| chanpool |", "| ants |", "| pond |"} {
		row := ""
		for _, line := range strings.Split(stdout.String(), "\n") {
			if strings.HasPrefix(line, b) {
				row = line
			}
		}
		if row == "" || !strings.HasSuffix(row, "| ok |") {
			t.Errorf("no passing row %q in the report:\n%s", b, stdout.String())
		}
	}
}

// broken wraps a real executor and breaks one promise, so that the soak
// can be shown to catch it.
type broken struct {
	executor.Executor
	stats  executor.StatsReporter
	n      atomic.Uint64
	last   atomic.Int64                       // UnixNano of every's last true
	submit func(b *broken, task func()) error // nil: the inner Submit
	adjust func(s executor.Stats) executor.Stats
}

func (b *broken) Submit(task func()) error {
	if b.submit != nil {
		return b.submit(b, task)
	}
	return b.Executor.Submit(task)
}

// every reports true at most once per d, on the first call after d has
// passed since the last true.
func (b *broken) every(d time.Duration) bool {
	now := time.Now().UnixNano()
	last := b.last.Load()
	return now-last >= int64(d) && b.last.CompareAndSwap(last, now)
}

func (b *broken) Stats() executor.Stats {
	s := b.stats.Stats()
	if b.adjust != nil {
		s = b.adjust(s)
	}
	return s
}

// TestSoakCatches soaks executors that each break one promise, and
// requires the soak to name it.
func TestSoakCatches(t *testing.T) {
	if testing.Short() {
		t.Skip("soaks for a second per case: skipped with -short")
	}
	park := make(chan struct{})
	t.Cleanup(func() { close(park) }) // ends the leaked goroutines before goleak looks
	var kept [][]byte
	var keptMu sync.Mutex
	tests := []struct {
		name   string
		submit func(b *broken, task func()) error
		adjust func(s executor.Stats) executor.Stats
		want   string
	}{
		// The leaks go by time, not by count, so that a slow machine
		// (-race, shared cores) leaks as fast as a quick one.
		{"a goroutine leaked every 10ms", func(b *broken, task func()) error {
			if b.every(10 * time.Millisecond) {
				go func() { <-park }()
			}
			return b.Executor.Submit(task)
		}, nil, "goroutines grew"},
		{"2 MiB kept every 20ms", func(b *broken, task func()) error {
			if b.every(20 * time.Millisecond) {
				keptMu.Lock()
				kept = append(kept, make([]byte, 2<<20))
				keptMu.Unlock()
			}
			return b.Executor.Submit(task)
		}, nil, "heap grew"},
		{"a task dropped every 1000", func(b *broken, task func()) error {
			if b.n.Add(1)%1000 == 0 {
				return nil
			}
			return b.Executor.Submit(task)
		}, nil, "tasks ran for"},
		{"Queued negative now and then", nil, func(s executor.Stats) executor.Stats {
			if s.Submitted%7 == 0 {
				s.Queued = -1
			}
			return s
		}, "Queued -1 outside [0, 64]"},
	}
	c := defaultConfig()
	c.Duration, c.Every, c.ResizeEvery = time.Second, 50*time.Millisecond, 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			build := func(cfg executor.Config) (executor.Executor, error) {
				ex, err := backends.New("chanpool", cfg)
				if err != nil {
					return nil, err
				}
				return &broken{Executor: ex, stats: ex.(executor.StatsReporter), submit: tc.submit, adjust: tc.adjust}, nil
			}
			r := soak(c, "broken", build, io.Discard)
			all := strings.Join(r.Problems, "\n")
			if !strings.Contains(all, tc.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", all, tc.want)
			}
			keptMu.Lock()
			kept = nil
			keptMu.Unlock()
		})
	}
}

func TestCheckSamples(t *testing.T) {
	s := series(3, flatHeap(0), flatG)
	s[0].Stats = executor.Stats{Submitted: 5, Completed: 5}
	s[1].Stats = executor.Stats{Submitted: 9, Completed: 8, Running: 1}
	s[2].Stats = executor.Stats{Submitted: 9, Completed: 7}
	bad := checkSamples(s, 8, 64)
	if len(bad) != 1 || !strings.Contains(bad[0], "Stats at 3s") || !strings.Contains(bad[0], "Completed went down from 8 to 7") {
		t.Errorf("checkSamples = %q; want one problem, at 3s: Completed went down", bad)
	}
	if bad := checkSamples(s[:2], 8, 64); len(bad) != 0 {
		t.Errorf("checkSamples(consistent) = %q; want none", bad)
	}
}
