package executorhttp

import (
	"sync/atomic"
	"time"
)

// DefaultInterval is the CoDel interval a Handler with a positive Target
// and a zero Interval uses: folly::Codel's default (its codel_interval
// flag, 100 ms), the interval Nichols and Jacobson recommend.
const DefaultInterval = 100 * time.Millisecond

// codel is the overload detector of Facebook's CoDel variant, as folly
// implements it (folly/executors/Codel.h and Codel.cpp, Apache-2.0; Ben
// Maurer, "Fail at Scale", ACM Queue 13(8), 2015): every request's wait for
// a worker is fed to it as a worker reaches the request. The queue is
// overloaded for an interval when the least wait seen during the previous
// interval was above the target: no request got through the queue quickly
// in a whole interval, so the queue is standing, not a burst draining.
// While overloaded, a request that waited more than twice the target is
// sloughed off, in folly's words (dropped at dequeue), instead of served
// late; otherwise only the Handler's MaxWait applies.
//
// Under sloughing the served requests' waits fall anywhere below
// 2*target, and whenever a few workers free at once the least of them dips
// below target, so the verdict flickers: in the step load of
// bench/cmd/stepload (gradient2, twice the capacity) it was off in about
// every other interval, whose served requests waited up to MaxWait. Keeping
// the queue overloaded while it still shed stopped the flicker, but in a
// full run it also kept shedding at 90% load, where every shed request is
// goodput lost (0.82x capacity against 0.95x); folly's rule, flicker and
// all, lost none in the same steps, so it is kept as it is.
//
// Unlike CoDel for
// packets, which drops at shortening intervals until the delay falls, this
// sheds every late request at once, which folly's authors found works
// better for services.
//
// The state is three atomics and no lock: a request reads the clock it
// already read, compares and perhaps lowers the minimum, and one goroutine
// per interval, the one whose compare-and-swap moves the interval's end,
// closes the interval. Requests that race with the close may count their
// wait in the interval either side of it; the verdict is a heuristic over
// a hundred milliseconds of requests, not one request's.
//
// The zero codel is ready; its first request opens the first interval.
type codel struct {
	// end is when the current interval closes, in nanoseconds of the
	// Unix clock (the waits themselves are measured on the monotonic
	// clock; a jump of the wall clock only stretches or shortens one
	// interval). Zero before the first request.
	end atomic.Int64
	// min is the least wait, in nanoseconds, seen since the current
	// interval opened.
	min atomic.Int64
	// overloaded is the verdict on the last closed interval.
	overloaded atomic.Bool
}

// shed folds in the wait of a request that a worker reached at now (Unix
// nanoseconds) and reports whether it is to be dropped: the queue was
// overloaded over the last interval and the request waited more than twice
// target. target must be positive and at most interval (the Handler caps it there).
func (q *codel) shed(waited, target, interval time.Duration, now int64) bool {
	end := q.end.Load()
	if now > end && q.end.CompareAndSwap(end, now+int64(interval)) {
		// This request closes the interval, and opens the next with its own
		// wait. Before the first request the minimum is meaningless: the
		// first interval decides nothing.
		last := q.min.Swap(int64(waited))
		q.overloaded.Store(end != 0 && last > int64(target))
		// As folly does, the request that opens an interval is never
		// dropped: more than one request must see the queue before the
		// verdict acts on them.
		return false
	}
	for {
		m := q.min.Load()
		if int64(waited) >= m || q.min.CompareAndSwap(m, int64(waited)) {
			break
		}
	}
	return q.overloaded.Load() && waited > 2*target
}
