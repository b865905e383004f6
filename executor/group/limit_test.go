package group

import (
	"context"
	"errors"
	"testing"
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
	if len(l.waiters) != 0 || l.out.Load() != 0 {
		t.Fatalf("after giving up: %d waiters, %d out; want 0, 0", len(l.waiters), l.out.Load())
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
