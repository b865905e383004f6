package executortest_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swapexec/swapexec/executor"
	"github.com/swapexec/swapexec/executor/executortest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestReference runs the suite against the reference executor, which must
// pass.
func TestReference(t *testing.T) {
	executortest.Run(t, newRef)
}

// brokenEnv names the broken executor TestBrokenHelper runs the suite on.
const brokenEnv = "EXECUTORTEST_BROKEN"

// brokenTimeout is the suite's deadline for broken executors, several of
// which hang until it passes.
const brokenTimeout = 250 * time.Millisecond

// broken lists executors with one deliberate mistake each, and the subtest
// of Run that must catch it.
var broken = []struct {
	name    string
	subtest string
	new     func(executor.Config) (executor.Executor, error)
}{
	{"select-default-overload", "Nonblocking", chanPoolWith(chanSelectDefault)},
	{"close-task-channel", "SubmitAfterShutdown", chanPoolWith(chanCloseTasks)},
	{"shutdown-skips-queue", "ShutdownDrainsQueue", refWith(bugShutdownSkipsQueue)},
	{"no-validation", "InvalidConfig", refWith(bugNoValidation)},
	{"zero-means-one", "ZeroConfig", refWith(bugZeroMeansOne)},
	{"extra-worker", "MaxConcurrency", refWith(bugExtraWorker)},
	{"missing-worker", "MaxConcurrency", refWith(bugMissingWorker)},
	{"if-not-for", "NoTaskLost", refWith(bugIfNotFor)},
	{"accept-nil", "NilTask", refWith(bugAcceptNil)},
	{"accept-after-close", "SubmitAfterShutdown", refWith(bugAcceptAfterClose)},
	{"submit-ignores-close", "ShutdownUnblocksSubmitters", refWith(bugSubmitIgnoresClose)},
	{"shutdown-skips-queue-racing", "ShutdownRacesSubmit", refWith(bugShutdownSkipsQueueWhenFull)},
	{"ignore-ctx", "ShutdownDeadline", refWith(bugIgnoreCtx)},
	{"drop-queue-on-deadline", "ShutdownDeadline", refWith(bugDropQueueOnDeadline)},
	{"shutdown-twice-errs", "ConcurrentShutdown", refWith(bugShutdownTwiceErrs)},
	{"shutdown-racy", "ConcurrentShutdown", refWith(bugShutdownRacy)},
	{"handler-twice", "Panics", refWith(bugHandlerTwice)},
	{"worker-dies-on-panic", "Panics", refWith(bugWorkerDiesOnPanic)},
	{"queue-off-by-one", "QueueSize", refWith(bugQueueOffByOne)},
	{"nonblocking-blocks", "Nonblocking", refWith(bugNonblockingBlocks)},
	{"rejected-not-counted", "Stats", refWith(bugRejectedNotCounted)},
	{"leak", "ShutdownDrainsQueue", refWith(bugLeak)},
	{"ctx-ignored", "SubmitContext", refWith(bugCtxIgnored)},
	{"ctx-task-runs", "SubmitContext", refWith(bugCtxTaskRuns)},
	{"ctx-swallows-wake", "SubmitContext", refWith(bugCtxSwallowsWake)},
	{"try-blocks", "TrySubmit", refWith(bugTryBlocks)},
	{"try-early", "TrySubmit", refWith(bugTryEarly)},
	{"resize-no-wake", "Resize", refWith(bugResizeNoWake)},
	{"resize-stale", "Resize", refWith(bugResizeStale)},
	{"resize-keeps-workers", "Resize", refWith(bugResizeKeepsWorkers)},
	{"resize-accepts-zero", "Resize", refWith(bugResizeAcceptsZero)},
}

func refWith(b bug) func(executor.Config) (executor.Executor, error) {
	return func(cfg executor.Config) (executor.Executor, error) { return newBuggy(cfg, b) }
}

func chanPoolWith(b chanBug) func(executor.Config) (executor.Executor, error) {
	return func(cfg executor.Config) (executor.Executor, error) { return newChanPool(cfg, b) }
}

// TestBrokenHelper runs the suite against the broken executor named by
// $EXECUTORTEST_BROKEN; TestBroken starts it in a subprocess and expects it
// to fail. Run directly, it skips.
func TestBrokenHelper(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("runs only as a subprocess of TestBroken")
	}
	for _, b := range broken {
		if b.name == name {
			executortest.RunWithOptions(t, b.new, executortest.Options{Timeout: brokenTimeout})
			return
		}
	}
	t.Fatalf("%s=%q names no broken executor", brokenEnv, name)
}

// TestBroken checks that the suite fails each broken executor, in the
// subtest meant to catch its mistake. Each runs in a subprocess (this test
// binary, running TestBrokenHelper), as a failing suite fails its test.
// The subprocesses mostly wait out the suite's deadline, so each subtest
// starts its subprocess before t.Parallel: all start at once rather than at
// t.Parallel's pace of GOMAXPROCS. Only the subtests that -run selects start
// one, and TestBroken waits for every one it started.
func TestBroken(t *testing.T) {
	for _, b := range broken {
		b := b
		t.Run(b.name, func(t *testing.T) {
			if b.subtest == "ZeroConfig" && runtime.GOMAXPROCS(0) == 1 {
				t.Skip("with GOMAXPROCS 1, Workers 0 means 1 worker")
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// -test.cpu passes on this test's GOMAXPROCS (go test -cpu), which
			// the ZeroConfig skip above and the suite's timing depend on.
			cmd := exec.CommandContext(ctx, os.Args[0],
				"-test.run=^TestBrokenHelper$/^"+b.subtest+"$",
				"-test.v", "-test.count=1",
				"-test.cpu="+strconv.Itoa(runtime.GOMAXPROCS(0)))
			cmd.Env = append(os.Environ(), brokenEnv+"="+b.name)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatalf("starting the suite run on %s: %v", b.name, err)
			}
			t.Parallel()
			err := cmd.Wait()
			if ctx.Err() != nil {
				t.Fatalf("suite run on %s did not end within a minute. Output:\n%s", b.name, out.Bytes())
			}
			if err == nil {
				t.Fatalf("suite passed %s; want it to fail in %s. Output:\n%s", b.name, b.subtest, out.Bytes())
			}
			want := "--- FAIL: TestBrokenHelper/" + b.subtest + " "
			if !strings.Contains(out.String(), want) {
				t.Errorf("output of the suite run on %s does not contain %q. Output:\n%s", b.name, want, out.Bytes())
			}
			// The suite reports a panicking executor; it does not crash.
			if crash := regexp.MustCompile(`(?m)^panic: `); crash.Match(out.Bytes()) {
				t.Errorf("the suite run on %s crashed; want failures reported. Output:\n%s", b.name, out.Bytes())
			}
			t.Logf("suite failed %s as expected:\n%s", b.name, failures(out.Bytes()))
		})
	}
}

// failures returns the failure lines of test output, for the log.
func failures(out []byte) string {
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--- FAIL") || strings.Contains(trimmed, ".go:") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// FuzzReference plays fuzzed schedules against the reference executor.
func FuzzReference(f *testing.F) {
	executortest.Fuzz(f, newRef)
}

// FuzzBrokenHelper runs the fuzz target's seeds against the broken executor
// named by $EXECUTORTEST_BROKEN; TestFuzzCatchesBroken starts it in a
// subprocess and expects it to fail. Run directly, it skips.
func FuzzBrokenHelper(f *testing.F) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		f.Skip("runs only as a subprocess of TestFuzzCatchesBroken")
	}
	for _, b := range broken {
		if b.name == name {
			executortest.Fuzz(f, b.new, executortest.Options{Timeout: brokenTimeout})
			return
		}
	}
	f.Fatalf("%s=%q names no broken executor", brokenEnv, name)
}

// TestFuzzCatchesBroken checks that the fuzz target's seeds alone fail
// broken executors whose bug shows in a schedule.
func TestFuzzCatchesBroken(t *testing.T) {
	for _, name := range []string{
		"handler-twice", "worker-dies-on-panic", "accept-after-close", "rejected-not-counted",
		"extra-worker", "leak", "ctx-task-runs",
	} {
		name := name
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^FuzzBrokenHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("fuzz seeds on %s did not end within a minute. Output:\n%s", name, out)
			}
			if err == nil {
				t.Fatalf("fuzz seeds passed %s; want them to fail. Output:\n%s", name, out)
			}
			if !strings.Contains(string(out), "--- FAIL: FuzzBrokenHelper") {
				t.Errorf("output on %s does not show FuzzBrokenHelper failing. Output:\n%s", name, out)
			}
		})
	}
}
