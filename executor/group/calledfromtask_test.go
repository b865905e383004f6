package group

import (
	"reflect"
	"runtime"
	"testing"
)

// BenchmarkCalledFromTask is the stack walk Go pays when the executor has
// no room, from a goroutine that is not a task (the whole stack is walked)
// at a few depths of the caller's stack.
func BenchmarkCalledFromTask(b *testing.B) {
	for _, depth := range []int{0, 10, 40} {
		depth := depth
		b.Run("depth="+itoa(depth), func(b *testing.B) {
			atDepth(depth, func() {
				for i := 0; i < b.N; i++ {
					if calledFromTask() {
						b.Fatal("calledFromTask outside a task = true")
					}
				}
			})
		})
	}
}

// atDepth calls f under n more frames.
//
//go:noinline
func atDepth(n int, f func()) {
	if n == 0 {
		f()
		return
	}
	atDepth(n-1, f)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestRunTaskCode(t *testing.T) {
	code := runTaskCode()
	entry := runtime.FuncForPC(reflect.ValueOf(runTask).Pointer()).Entry()
	if code.start != entry {
		t.Fatalf("start = %#x; want runTask's entry %#x", code.start, entry)
	}
	for _, pc := range []uintptr{code.start, code.end - 1} {
		if f := runtime.FuncForPC(pc); f == nil || f.Entry() != entry {
			t.Errorf("pc %#x in [%#x, %#x) is not in runTask (%v)", pc, code.start, code.end, f)
		}
	}
	if f := runtime.FuncForPC(code.end); f != nil && f.Entry() == entry {
		t.Errorf("end %#x is still in runTask", code.end)
	}
}

func TestCalledFromTask(t *testing.T) {
	if calledFromTask() {
		t.Fatal("calledFromTask in a test = true; want false")
	}
	var g Group // with no slot and no error, runTask only marks wg done
	g.wg.Add(1)
	var got, deep bool
	runTask(&g, func() error {
		got = calledFromTask()
		// Beyond the first 32 frames: the walk goes on.
		atDepth(40, func() { deep = calledFromTask() })
		return nil
	}, false)
	if !got || !deep {
		t.Fatalf("calledFromTask inside runTask = %v, %v 40 frames deeper; want true, true", got, deep)
	}
}

// BenchmarkRunTask is the wrapper every task runs in, with no limit.
func BenchmarkRunTask(b *testing.B) {
	var g Group
	f := func() error { return nil }
	for i := 0; i < b.N; i++ {
		g.wg.Add(1)
		runTask(&g, f, false)
	}
}
