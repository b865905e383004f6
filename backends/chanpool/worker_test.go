package chanpool

import (
	"testing"

	"github.com/swapexec/swapexec/executor"
)

// Stats counts what workers publish, so a worker must never publish itself
// as running a task while it is between tasks: a Stats call in that moment
// would count a task twice (and Submitted, kept monotonic, would keep the
// extra one). It once did, for the moment after every publishEvery-th task;
// the moment is too short for a black-box test to hit reliably, so this
// checks the published state itself, on a worker with no goroutine.
func TestFinishedNeverShowsRunning(t *testing.T) {
	p := &Pool{queueSize: 0, tasks: make(chan func()), target: 1}
	w := &worker{}
	p.workers = []*worker{w}
	l := loop{w: w}
	for i := 1; i <= 3*publishEvery; i++ {
		// What Submit and run do around one task.
		p.pending.Add(1)
		if !l.shown {
			w.state.Store(2*l.completed + 1)
			l.shown = true
		}
		p.finished(&l)
		if s := p.Stats(); s.Running != 0 && i%publishEvery == 0 {
			t.Fatalf("after task %d, between tasks: Stats() = %+v, want Running 0", i, s)
		}
	}
	p.rest(&l)
	want := executor.Stats{Workers: 1, Submitted: 3 * publishEvery, Completed: 3 * publishEvery}
	if got := p.Stats(); got != want {
		t.Errorf("Stats() once idle: got %+v, want %+v", got, want)
	}
}
