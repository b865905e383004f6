package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDownstreamWaitsForASlot(t *testing.T) {
	const slots = 3
	d := newDownstream(slots, 0, 0, 0)
	for i := 0; i < slots; i++ {
		d.slots <- struct{}{} // every slot held, as by calls at work
	}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- d.call(ctx) }()
	// With every slot held the call can only wait: releasing none, it can
	// only end with its context.
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("call waiting for a slot: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call waiting for a slot did not end with its context")
	}
	if n := len(d.slots); n != slots {
		t.Errorf("%d slots held after the call gave up, want the %d held before", n, slots)
	}

	<-d.slots // one slot frees: a call takes it, works, and gives it back
	go func() { result <- d.call(context.Background()) }()
	select {
	case err := <-result:
		if err != nil {
			t.Errorf("call with a free slot: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a call did not take the free slot")
	}
	if n := len(d.slots); n != slots-1 {
		t.Errorf("%d slots held after the call, want %d", n, slots-1)
	}
}

func TestDownstreamWorkEndsWithContext(t *testing.T) {
	d := newDownstream(1, time.Hour, 0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- d.call(ctx) }()
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("call: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an hour's work did not end with its context")
	}
	if n := len(d.slots); n != 0 {
		t.Errorf("%d slots held after the call ended, want 0", n)
	}
}

func TestDownstreamSlowsDownOnSchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name         string
		slowAt       time.Duration
		begun        bool
		at           time.Duration // after t0
		wantWorkTime time.Duration
	}{
		{"before begin", time.Second, false, time.Hour, 10 * time.Millisecond},
		{"before the slowdown", time.Second, true, 999 * time.Millisecond, 10 * time.Millisecond},
		{"at the slowdown", time.Second, true, time.Second, 20 * time.Millisecond},
		{"after it", time.Second, true, time.Hour, 20 * time.Millisecond},
		{"never", 0, true, time.Hour, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		d := newDownstream(1, 10*time.Millisecond, tt.slowAt, 20*time.Millisecond)
		if tt.begun {
			d.begin(t0)
		}
		if got := d.workTime(t0.Add(tt.at)); got != tt.wantWorkTime {
			t.Errorf("%s: work time %v, want %v", tt.name, got, tt.wantWorkTime)
		}
	}
}

func TestWorkEndsWhenClientLeaves(t *testing.T) {
	s := newSite(0, newDownstream(1, time.Hour, 0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	rec := httptest.NewRecorder()
	go func() {
		defer close(done)
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/work", nil).WithContext(ctx))
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("/work kept its downstream slot after its client left")
	}
	if rec.Body.Len() != 0 {
		t.Errorf("/work wrote %q for a client that left", rec.Body.String())
	}
}
