package group

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterSetLimitCountsOutstanding(t *testing.T) {
	var l limiter // no limit
	for i := 0; i < 3; i++ {
		if !l.tryAcquire() {
			t.Fatalf("tryAcquire %d with no limit = false", i)
		}
	}
	l.setLimit(1)
	for released := 0; released < 3; released++ {
		if l.tryAcquire() {
			t.Fatalf("tryAcquire with %d outstanding and limit 1 = true; want false", 3-released)
		}
		l.release()
	}
	if !l.tryAcquire() {
		t.Fatal("tryAcquire with none outstanding and limit 1 = false; want true")
	}
}

func TestLimiterAcquireGivesUpWithContext(t *testing.T) {
	var l limiter
	l.setLimit(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire with limit 0 and a done ctx = %v; want context.Canceled", err)
	}
	if len(l.waiters) != 0 || l.outstanding() != 0 {
		t.Fatalf("after giving up: %d waiters, %d out; want 0, 0", len(l.waiters), l.outstanding())
	}
	got := make(chan error, 1)
	go func() { got <- l.acquire(context.Background()) }()
	l.setLimit(1) // wakes the waiter, or lets it straight through
	if err := <-got; err != nil {
		t.Fatalf("acquire after raising the limit = %v", err)
	}
	if l.tryAcquire() {
		t.Fatal("tryAcquire with 1 out and limit 1 = true")
	}
}

// TestLimiterSetLimitRacesUnlimitedSlots turns a limit on and off while
// workers take and give back slots, some with tryAcquire, some with
// acquire, so that slots taken without the lock race with SetLimit and
// waiters with releases. Once a limit has been set and every slot taken
// before it has been given back, no more than the limit may be held; no
// slot may be lost or a waiter left asleep (the workers would stop), and
// none may be left over.
func TestLimiterSetLimitRacesUnlimitedSlots(t *testing.T) {
	const workers, limit, rounds = 6, 2, 100
	const wait = 10 * time.Second
	var l limiter
	var holders, over, waited atomic.Int64
	// phase is 3*round, then 3*round+1 once the round's limit is set, then
	// 3*round+2 once no slot taken before the limit is still held.
	var phase atomic.Int64
	var stop atomic.Bool
	type report struct {
		worker  int
		started int64 // phase when the worker began the slot it reports
	}
	reports := make(chan report)
	exited := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func(w int) {
			defer func() { exited <- struct{}{} }()
			for i := 0; !stop.Load(); i++ {
				started := phase.Load()
				if i%2 == 0 {
					if !l.tryAcquire() {
						reports <- report{w, started}
						continue
					}
				} else {
					if !l.tryAcquire() {
						waited.Add(1) // acquire is about to wait, most likely
						if err := l.acquire(context.Background()); err != nil {
							t.Errorf("acquire: %v", err)
							return
						}
					}
				}
				// Counted only if the limit was still on after the count
				// (main moves phase on before it lifts the limit).
				if h := holders.Add(1); h > limit && started%3 == 2 && phase.Load() == started {
					over.Add(1)
				}
				runtime.Gosched() // hold the slot a while, so that others wait
				holders.Add(-1)
				l.release()
				reports <- report{w, started}
			}
		}(w)
	}
	// until reads reports until every worker has reported a slot it began
	// in phase from or later.
	until := func(from int64) {
		t.Helper()
		seen := make(map[int]bool)
		for len(seen) < workers {
			select {
			case r := <-reports:
				if r.started >= from {
					seen[r.worker] = true
				}
			case <-time.After(wait):
				t.Fatalf("workers stuck in phase %d: a slot was lost or a waiter not woken", from)
			}
		}
	}
	for r := int64(0); r < rounds; r++ {
		phase.Store(3 * r)
		l.setLimit(-1)
		until(3 * r)
		l.setLimit(limit)
		phase.Store(3*r + 1)
		until(3*r + 1)
		phase.Store(3*r + 2)
		until(3*r + 2)
	}
	phase.Store(3 * rounds)
	l.setLimit(-1)
	stop.Store(true)
	for n := 0; n < workers; {
		select {
		case <-reports:
		case <-exited:
			n++
		}
	}
	if n := over.Load(); n != 0 {
		t.Errorf("%d times more than %d slots were held under the limit", n, limit)
	}
	if out := l.outstanding(); out != 0 || len(l.waiters) != 0 {
		t.Errorf("at the end: %d slots out, %d waiters; want 0, 0", out, len(l.waiters))
	}
	if waited.Load() == 0 {
		t.Errorf("no acquire had to wait: the test did not exercise waking")
	}
}
