package chanpool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swapexec/swapexec/executor"
)

// A Submit that read closing as false just before Shutdown set it may send
// at any later moment, even after the last worker has begun to shut the
// channel. The suite's races seldom reach that moment, so this test sends
// from inside it, through testHookTerminate, as such Submits would: some
// synchronously (they find the buffer as the last worker left it), some from
// goroutines racing its filling. Every send that returns nil must run
// exactly once before Shutdown returns; every other must return ErrClosed
// (or ErrOverloaded, from a full Nonblocking pool) and never run.
func TestSendDuringTerminate(t *testing.T) {
	for _, cfg := range []executor.Config{
		{Workers: 1, QueueSize: 4},
		{Workers: 3, QueueSize: 2},
		{Workers: 3, QueueSize: 8},
		{Workers: 1, QueueSize: 4, Nonblocking: true},
		{Workers: 1},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			testSendDuringTerminate(t, cfg)
		})
	}
}

func testSendDuringTerminate(t *testing.T, cfg executor.Config) {
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// sync is how many sends the hook makes itself: enough to fill the
	// buffer, and one more. racing is how many goroutines send meanwhile.
	sync_ := cap(p.tasks) + 1
	const racing = 16
	n := sync_ + racing
	ran := make([]atomic.Int32, n)
	errs := make([]error, n)
	var total atomic.Int64
	task := func(i int) func() {
		return func() { ran[i].Add(1); total.Add(1) }
	}
	var wg sync.WaitGroup
	hooked := make(chan struct{})
	var nilsAtHook int // wake-ups the exiting workers left in the buffer
	p.testHookTerminate = func() {
		defer close(hooked)
		// Let Shutdown finish sending its wake-ups first (Do returns only
		// once the first call's function has): then no other goroutine
		// sends a nil, and nilsAtHook is final.
		p.shutdown.Do(func() {})
		p.term.Lock()
		nilsAtHook = p.nils
		p.term.Unlock()
		for i := 0; i < sync_; i++ {
			errs[i] = p.send(task(i))
		}
		wg.Add(racing)
		for i := sync_; i < n; i++ {
			i := i
			go func() {
				defer wg.Done()
				errs[i] = p.send(task(i))
			}()
		}
	}
	var atReturn int64
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	atReturn = total.Load()
	select {
	case <-hooked:
	default:
		t.Fatal("Shutdown returned without the last worker calling testHookTerminate")
	}
	wg.Wait()

	var accepted, rejected int
	for i := range errs {
		switch got := ran[i].Load(); {
		case errs[i] == nil:
			accepted++
			if got != 1 {
				t.Errorf("send %d returned nil; its task ran %d times, want 1", i, got)
			}
		case errors.Is(errs[i], executor.ErrClosed),
			cfg.Nonblocking && errors.Is(errs[i], executor.ErrOverloaded):
			rejected++
			if got != 0 {
				t.Errorf("send %d returned %v; its task ran %d times, want 0", i, errs[i], got)
			}
		default:
			t.Errorf("send %d: got %v, want nil or an error matching executor.ErrClosed (or ErrOverloaded, if Nonblocking)", i, errs[i])
		}
	}
	if atReturn != int64(accepted) {
		t.Errorf("tasks run when Shutdown returned: %d, want every accepted one, %d", atReturn, accepted)
	}
	// The hook's own sends find the buffer holding only wake-ups: they fit
	// behind them.
	if want := cap(p.tasks) - nilsAtHook; accepted < want {
		t.Errorf("accepted %d sends, want at least the %d that fit in the buffer beside %d nils", accepted, want, nilsAtHook)
	}
	if err := p.send(task(0)); !errors.Is(err, executor.ErrClosed) {
		t.Errorf("send after Shutdown returned: got %v, want an error matching executor.ErrClosed", err)
	}
	got := p.Stats()
	want := executor.Stats{
		Workers:   cfg.Workers,
		Submitted: uint64(accepted),
		Completed: uint64(accepted),
		Rejected:  uint64(rejected + 1),
	}
	if got != want {
		t.Errorf("Stats() after Shutdown: got %+v, want %+v", got, want)
	}
}

// A task running when Shutdown begins may still submit: its Submit may have
// read closing as false just before. If it then waits for that task, as a
// Nonblocking pool allows, some worker must still be there to run it. So no
// worker may leave while another runs a task: here the idle worker must stay
// (waiting for a task in a buffered pool, or for the pool to go quiet,
// testHookWaitQuiet, in an unbuffered one) rather than exit, and then take
// the task.
func TestWorkersStayWhileTasksRun(t *testing.T) {
	for _, cfg := range []executor.Config{
		{Workers: 2, Nonblocking: true},
		{Workers: 2},
		{Workers: 2, QueueSize: 2},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			testWorkersStayWhileTasksRun(t, cfg)
		})
	}
}

func testWorkersStayWhileTasksRun(t *testing.T, cfg executor.Config) {
	p, err := build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	var once sync.Once
	p.testHookWaitQuiet = func() { once.Do(func() { close(waiting) }) }
	// Both workers are about to wait for a task before anything is
	// submitted; one then takes the task below, the other stays idle.
	startHolding(p, 0)

	running, proceed := make(chan struct{}), make(chan struct{})
	var inner atomic.Int32
	innerRan := make(chan struct{})
	var sendErr error
	var innerTimedOut bool
	if err := p.Submit(func() {
		close(running)
		<-proceed
		// As a Submit that read closing before Shutdown set it would.
		sendErr = p.send(func() { inner.Add(1); close(innerRan) })
		if sendErr == nil {
			select {
			case <-innerRan:
			case <-time.After(5 * time.Second):
				innerTimedOut = true
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	<-running
	shut := beginShutdown(p)
	if cap(p.tasks) == 0 {
		// done woke the idle worker, which must now wait for the pool to
		// go quiet rather than exit. (In a buffered pool nothing wakes it
		// while a task runs, and it goes on waiting for a task.)
		select {
		case <-waiting:
		case <-time.After(5 * time.Second):
			t.Error("after Shutdown began, the idle worker did not wait for the busy one's task")
		}
	}
	close(proceed)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}
	// With room in the buffer the send is accepted: Shutdown sent no nil to
	// take it. An unbuffered channel needs the idle worker already parked
	// in its receive, so there the send may find only done closed.
	if sendErr != nil && (cfg.Nonblocking || cfg.QueueSize > 0 || !errors.Is(sendErr, executor.ErrClosed)) {
		t.Errorf("send from the running task, a worker idle: got %v, want nil", sendErr)
	}
	if innerTimedOut {
		t.Error("the task it sent did not run within 5s: no worker left to take it")
	}
	want := int32(0)
	if sendErr == nil {
		want = 1
	}
	if n := inner.Load(); n != want {
		t.Errorf("the task sent by the running task (send returned %v) ran %d times, want %d", sendErr, n, want)
	}
}

// A worker of a buffered pool waits for a task on the channel alone, so
// after Shutdown has begun only a nil sent on the channel wakes it. A worker
// that read closing as false just before Shutdown set it may start to wait
// after every other wake-up has been taken by other workers; then the one
// that the last of them passes on as it leaves is all that wakes it.
//
// Here worker A is held just before its receive (testHookPark) while C runs
// a task across Shutdown, so Shutdown sends no wake-up; when C goes idle it
// makes the pool quiet and wakes B (declareQuiet), B takes every nil there
// is, and B and C leave. Only then does A go on to wait; Shutdown must
// still return.
func TestLeavingWorkerWakesWaitingOne(t *testing.T) {
	p, err := build(executor.Config{Workers: 3, QueueSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	var leaves sync.WaitGroup
	leaves.Add(2)
	p.testHookLeave = leaves.Done
	release := startHolding(p, 1) // A
	running, proceed := make(chan struct{}), make(chan struct{})
	if err := p.Submit(func() { close(running); <-proceed }); err != nil { // taken by C
		t.Fatal(err)
	}
	<-running
	shut := beginShutdown(p)
	close(proceed)
	leaves.Wait() // B and C
	close(release)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: got %v, want nil (worker A was never woken)", err)
	}
}

// A task running during Shutdown may submit (its Submit may have read
// closing as false), and in a Nonblocking pool wait for what it submitted.
// Shutdown's wake-ups must not take the room that Submit needs: with one
// task running, one queued and two idle workers not yet in their receive
// (held at testHookPark), the inner Submit finds room for one more.
func TestShutdownLeavesRoomForRunningTasks(t *testing.T) {
	p, err := build(executor.Config{Workers: 3, Nonblocking: true})
	if err != nil {
		t.Fatal(err)
	}
	release := startHolding(p, 2) // two of the workers, held before their receive
	running, proceed, sent := make(chan struct{}), make(chan struct{}), make(chan struct{})
	innerRan := make(chan struct{})
	var innerErr error
	if err := p.Submit(func() { // taken by the third worker
		close(running)
		<-proceed
		innerErr = p.send(func() { close(innerRan) })
		close(sent)
		if innerErr == nil {
			<-innerRan
		}
	}); err != nil {
		t.Fatal(err)
	}
	<-running
	if err := p.Submit(func() {}); err != nil { // queued: no worker receives
		t.Fatal(err)
	}
	shut := beginShutdown(p)
	close(proceed)
	<-sent
	close(release)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}
	if innerErr != nil {
		t.Errorf("Submit from a running task during Shutdown, 2 of 3 slots taken: got %v, want nil", innerErr)
	}
}

// beginShutdown calls p.Shutdown in a goroutine, with a 10s deadline, and
// returns once Shutdown's first step (closing, done, its wake-ups) is over;
// Shutdown's result arrives on the channel.
func beginShutdown(p *Pool) <-chan error {
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- p.Shutdown(ctx)
	}()
	// done is closed inside Shutdown's Do, so this Do is not the first,
	// and returns once the first has.
	<-p.done
	p.shutdown.Do(func() {})
	return shut
}

// startHolding starts p's workers and returns once each has reached
// testHookPark, about to wait for its first task; the first hold of them
// to get there stay there until release is closed.
func startHolding(p *Pool, hold int) (release chan struct{}) {
	release = make(chan struct{})
	var parks sync.WaitGroup
	parks.Add(len(p.workers))
	var calls atomic.Int32
	p.testHookPark = func() {
		n := int(calls.Add(1))
		if n <= len(p.workers) {
			parks.Done()
		}
		if n <= hold {
			<-release
		}
	}
	p.start()
	parks.Wait()
	return release
}
