package chanpool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// Issue 13, defect 6: an idle Shutdown must take time independent of
// QueueSize. It used to fill the channel's buffer with nils, one send per
// slot, so that no late Submit could find room: after it, the buffer was
// full. Now Shutdown closes the channel once nothing is pending, and never
// touches the buffer: this checks that it is left empty, for a queue of
// 1<<20 slots, and that a Submit after Shutdown is still refused.
// BenchmarkIdleShutdown shows the time.
func TestIdleShutdownDoesNotTouchQueue(t *testing.T) {
	for _, cfg := range []executor.Config{
		{Workers: 4, QueueSize: 1 << 20},
		{Workers: 4, QueueSize: 1 << 20, Nonblocking: true},
	} {
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if n := len(p.tasks); n != 0 {
			t.Errorf("%+v: values left in the task channel by an idle Shutdown: got %d, want 0 (no work per queue slot)", cfg, n)
		}
		if err := p.Submit(func() { t.Error("task submitted after Shutdown ran") }); !errors.Is(err, executor.ErrClosed) {
			t.Errorf("Submit after Shutdown: got %v, want ErrClosed", err)
		}
	}
}

// A Submit that registered in pending just before Shutdown began may send
// at any later moment: Shutdown must wait for it (the channel stays open),
// and its task must run before Shutdown returns nil. This registers as
// Submit does, begins Shutdown, and only then sends.
func TestShutdownWaitsForRegisteredSubmit(t *testing.T) {
	for _, cfg := range []executor.Config{{Workers: 1}, {Workers: 2, QueueSize: 2}} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			p.pending.Add(1) // as Submit does before its send
			shut := make(chan error, 1)
			go func() { shut <- p.Shutdown(context.Background()) }()
			<-p.done
			p.shutdown.Do(func() {}) // returns once Shutdown's own Do has
			select {
			case err := <-shut:
				t.Fatalf("Shutdown returned %v with a Submit registered and not yet sent", err)
			case <-time.After(10 * time.Millisecond): // an absence
			}
			var ran atomic.Int32
			select {
			case p.tasks <- func() { ran.Add(1) }: // the send cannot panic: the channel is open
				p.submitted.Add(1)
			case <-time.After(5 * time.Second):
				t.Fatal("the registered Submit found no room")
			}
			if err := <-shut; err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if n := ran.Load(); n != 1 {
				t.Errorf("the late-sent task ran %d times before Shutdown returned, want 1", n)
			}
		})
	}
}

// BenchmarkIdleShutdown builds a pool (untimed) and shuts it down while
// idle: the time should not depend on QueueSize. The collector is off
// while this runs, and runs between timings: with it on, the buffers of
// all the pools built would make it run inside the timed Shutdowns, and
// the larger queue would look slower for its allocations.
func BenchmarkIdleShutdown(b *testing.B) {
	for _, queue := range []int{16, 1 << 16} {
		b.Run(fmt.Sprintf("queue=%d", queue), func(b *testing.B) {
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if i%256 == 0 {
					runtime.GC()
				}
				p, err := New(executor.Config{Workers: 4, QueueSize: queue})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := p.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
