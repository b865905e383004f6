package main

import (
	"context"
	"sync/atomic"
	"time"
)

// downstream simulates what a handler calls, a database or a service: it
// serves at most slots calls at once, each taking a work time, and the
// others wait for a slot, so latency rises with concurrency as a real
// downstream's does. Its capacity is slots / work time.
//
// Its work time can change once, at a time set by begin: the slowdown that
// makes the right concurrency limit change in the middle of a load test.
type downstream struct {
	slots      chan struct{} // a semaphore: a call holds one while it works
	work, slow time.Duration
	slowAt     time.Duration // 0: never slow down
	began      atomic.Int64  // UnixNano of begin; 0 before it
}

func newDownstream(slots int, work, slowAt, slow time.Duration) *downstream {
	return &downstream{slots: make(chan struct{}, slots), work: work, slow: slow, slowAt: slowAt}
}

// begin starts the slowdown's clock: slowAt is counted from now.
func (d *downstream) begin(now time.Time) { d.began.Store(now.UnixNano()) }

// workTime is how long a call that starts at now holds its slot.
func (d *downstream) workTime(now time.Time) time.Duration {
	if d.slowAt > 0 {
		if b := d.began.Load(); b != 0 && now.UnixNano()-b >= int64(d.slowAt) {
			return d.slow
		}
	}
	return d.work
}

// call waits for a slot and holds it for the work time. It returns ctx's
// error, having held or waited for nothing more, as soon as ctx ends.
func (d *downstream) call(ctx context.Context) error {
	select {
	case d.slots <- struct{}{}:
	default:
		select {
		case d.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-d.slots }()
	t := time.NewTimer(d.workTime(time.Now()))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
