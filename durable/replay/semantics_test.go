package replay

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godurable/functions/durable/history"
)

func timerCreated(id int, at time.Time) *history.Event {
	return &history.Event{Type: history.TimerCreated, EventID: id, FireAt: at, Timestamp: t0}
}

func timerFired(id int) *history.Event {
	return &history.Event{Type: history.TimerFired, EventID: -1, TimerID: id, Timestamp: t0}
}

// The eternal counter: wait for "add", continue as new with the sum. Two
// events in one batch: the second goes to the next execution.
func TestContinueAsNewKeepsLaterEventsOfTheBatch(t *testing.T) {
	counter := func(c *Context) (*string, error) {
		f := c.WaitForEvent("add")
		c.Await(f)
		r, _, _ := f.Result()
		sum := fmt.Sprint(atoi(*c.Input()) + atoi(*r))
		c.ContinueAsNew(&sum, true)
		return nil, nil
	}
	x := New(counter)
	out := x.Apply(nil, []*history.Event{orchStarted(t0), started("Counter", str("0")), raised("add", "1"), raised("add", "10")})
	x.Close()
	if !out.Done || out.Status != history.StatusContinuedAsNew || *out.Output != "1" {
		t.Fatalf("outcome = %+v", out)
	}
	if len(out.CarryOver) != 1 || *out.CarryOver[0].Input != "10" {
		t.Fatalf("carry-over = %+v, want the second add", out.CarryOver)
	}
	// The next execution starts with the carried event and counts 11.
	x2 := New(counter)
	defer x2.Close()
	out2 := x2.Apply(nil, append([]*history.Event{orchStarted(t0), started("Counter", out.Output)}, out.CarryOver...))
	if out2.Status != history.StatusContinuedAsNew || *out2.Output != "11" {
		t.Fatalf("second execution = %+v", out2)
	}
}

// Events raised after ContinueAsNew was called (before the code returns)
// go to the next execution too, even without PreserveUnprocessedEvents.
func TestEventsAfterContinueAsNewCallAreCarried(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.ContinueAsNew(str("1"), false)
		c.Await(c.CreateTimer(t0))
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("C", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), raised("e", "1"), timerFired(0), raised("f", "2")})
	if out.Status != history.StatusContinuedAsNew || len(out.CarryOver) != 2 || out.CarryOver[0].Name != "e" || out.CarryOver[1].Name != "f" {
		t.Fatalf("outcome = %+v carry %+v", out, out.CarryOver)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// History holds a TaskScheduled after the timer, but the new code returns
// after the timer: replay fails on non-determinism instead of completing
// with a duplicate EventId.
func TestEarlyReturnDuringReplayIsNonDeterministic(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.Await(c.CreateTimer(t0))
		return str("1"), nil
	}
	hist := []*history.Event{orchStarted(t0), started("X", nil), timerCreated(0, t0), orchCompleted(),
		orchStarted(t0), timerFired(0), scheduled(1, "Charge"), orchCompleted()}
	x := New(fn)
	defer x.Close()
	out := x.Apply(hist, []*history.Event{orchStarted(t0), taskCompleted(1, `"ok"`)})
	if out.Status != history.StatusFailed || !errors.Is(out.Err, ErrNonDeterministic) {
		t.Fatalf("outcome = %+v", out)
	}
	if out.CompletionID <= 1 {
		t.Fatalf("completion id %d duplicates an EventId of history", out.CompletionID)
	}
}

// Returning with pending tasks completes at once: the actions scheduled in
// the same step still match the history written with them.
func TestReturnWithPendingTasksReplays(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.ScheduleTask("A", "", nil)
		c.ScheduleTask("B", "", nil)
		return str("1"), nil
	}
	hist := []*history.Event{orchStarted(t0), started("X", nil), scheduled(0, "A"), scheduled(1, "B"), orchCompleted()}
	x := New(fn)
	defer x.Close()
	out := x.Apply(hist, nil)
	if out.Status != history.StatusCompleted || out.Err != nil {
		t.Fatalf("outcome = %+v", out)
	}
}

// A deferred Await during unload returns at once, and the goroutine ends.
func TestDeferredAwaitDoesNotLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	var returned sync.WaitGroup
	for i := 0; i < 100; i++ {
		returned.Add(1)
		fn := func(c *Context) (*string, error) {
			defer returned.Done()
			defer c.Await(c.CreateTimer(t0.Add(time.Hour)))
			c.Await(c.WaitForEvent("never"))
			return nil, nil
		}
		x := New(fn)
		x.Apply(nil, []*history.Event{orchStarted(t0), started("D", nil)})
		x.Close()
	}
	returned.Wait()
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// Scheduling from a goroutine the orchestrator started fails the instance
// with a multithreaded-execution error; nothing races, nothing hangs.
func TestGoroutineScheduleFailsInstance(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f := c.ScheduleTask("A", "", nil)
				c.Await(f)
			}()
		}
		wg.Wait()
		c.Await(c.CreateTimer(t0))
		return nil, nil
	}
	x := New(fn)
	out := x.Apply(nil, []*history.Event{orchStarted(t0), started("G", nil)})
	x.Close()
	if out.Status != history.StatusFailed || !errors.Is(out.Err, ErrMultithreaded) ||
		out.Failure.ErrorType != MultithreadedErrorType || !strings.Contains(out.Failure.ErrorMessage, "Multithreaded execution was detected") {
		t.Fatalf("outcome = %+v failure %+v", out, out.Failure)
	}
	if len(out.Actions) != 0 {
		t.Fatalf("actions = %+v", out.Actions)
	}
}

// Awaiting from a goroutine while the orchestrator waits on a channel for
// it: the instance fails at once, no hang.
func TestGoroutineAwaitDoesNotHang(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		f := c.ScheduleTask("A", "", nil)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Await(f)
		}()
		<-done
		return nil, nil
	}
	x := New(fn)
	finished := make(chan *Outcome)
	go func() {
		out := x.Apply(nil, []*history.Event{orchStarted(t0), started("G", nil)})
		x.Close()
		finished <- out
	}()
	select {
	case out := <-finished:
		if out.Status != history.StatusFailed || !errors.Is(out.Err, ErrMultithreaded) {
			t.Fatalf("outcome = %+v", out)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the episode hangs")
	}
}

func TestGoexitFailsInstance(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.Await(c.CreateTimer(t0))
		runtime.Goexit()
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("G", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), timerFired(0)})
	if !out.Done || out.Status != history.StatusFailed || out.Failure.ErrorType != GoexitErrorType || !errors.Is(out.Err, ErrGoexit) {
		t.Fatalf("outcome = %+v failure %+v", out, out.Failure)
	}
}

func TestBlockedStepFailsInstance(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.Await(c.CreateTimer(t0))
		select {}
	}
	x := New(fn, WithStepLimit(50*time.Millisecond))
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("B", nil)})
	begin := time.Now()
	out := x.Apply(nil, []*history.Event{orchStarted(t0), timerFired(0)})
	if !out.Done || out.Status != history.StatusFailed || out.Failure.ErrorType != BlockedErrorType || !errors.Is(out.Err, ErrBlocked) {
		t.Fatalf("outcome = %+v failure %+v", out, out.Failure)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestIsReplayingDuringUnload(t *testing.T) {
	var seen []bool
	fn := func(c *Context) (*string, error) {
		defer func() { seen = append(seen, c.IsReplaying()) }()
		c.Await(c.WaitForEvent("never"))
		return nil, nil
	}
	x := New(fn)
	x.Apply(nil, []*history.Event{orchStarted(t0), started("U", nil)})
	x.Close()
	if fmt.Sprint(seen) != "[true]" {
		t.Fatalf("IsReplaying in a deferred call at unload = %v, want [true]", seen)
	}
}

// One case-folding rule for buffered events and waiters: "ſtart" (long s)
// folds to "START" either way.
func TestEventNameFoldingIsOneRule(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.Await(c.CreateTimer(t0))
		a := c.WaitForEvent("ſtart") // the first START arrived before: buffered
		b := c.WaitForEvent("ſtart") // the second arrives later: a waiter
		c.Await(b)
		ra, _, _ := a.Result()
		rb, _, _ := b.Result()
		return str(*ra + *rb), nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("F", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), raised("START", "1"), timerFired(0), raised("START", "2")})
	if !out.Done || *out.Output != "12" {
		t.Fatalf("outcome = %+v", out)
	}
}

// Actions scheduled by an event earlier in the same batch as
// ExecutionSuspended are held until the instance resumes.
func TestActionsHeldWhileSuspended(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.Await(c.WaitForEvent("go"))
		f := c.ScheduleTask("A", "", nil)
		c.Await(f)
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("S", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), raised("go", "1"), {Type: history.ExecutionSuspended, EventID: -1}})
	if len(out.Actions) != 0 {
		t.Fatalf("actions sent while suspended: %+v", out.Actions)
	}
	out = x.Apply(nil, []*history.Event{orchStarted(t0), {Type: history.ExecutionResumed, EventID: -1}})
	if len(out.Actions) != 1 || out.Actions[0].Name != "A" {
		t.Fatalf("after resume: %+v", out.Actions)
	}
}

// OnEnd handlers run on termination and on non-determinism, and the events
// they send are part of the episode.
func TestOnEndSendsOnTerminateAndNonDeterminism(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.OnEnd(func() { c.SendEvent("@lock@x", "release", nil) })
		c.Await(c.CreateTimer(t0))
		c.Await(c.ScheduleTask("Other", "", nil))
		return nil, nil
	}
	x := New(fn)
	x.Apply(nil, []*history.Event{orchStarted(t0), started("L", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), {Type: history.ExecutionTerminated, EventID: -1}})
	x.Close()
	if out.Status != history.StatusTerminated || len(out.Actions) != 1 || out.Actions[0].Kind != SendEvent || out.Actions[0].ID != 1 || out.CompletionID != 2 {
		t.Fatalf("terminate: %+v actions %+v", out, out.Actions)
	}
	hist := []*history.Event{orchStarted(t0), started("L", nil), timerCreated(0, t0), orchCompleted(),
		orchStarted(t0), timerFired(0), scheduled(1, "Changed"), orchCompleted()}
	x2 := New(fn)
	out2 := x2.Apply(hist, nil)
	x2.Close()
	if !errors.Is(out2.Err, ErrNonDeterministic) || len(out2.Actions) != 1 || out2.Actions[0].Kind != SendEvent || out2.Actions[0].ID != 2 || out2.CompletionID != 3 {
		t.Fatalf("non-determinism: %+v actions %+v", out2, out2.Actions)
	}
}

// A future's callbacks run when its completion is processed, even when the
// code awaits something else.
func TestOnDoneRunsWithoutAwait(t *testing.T) {
	var retried *Future
	fn := func(c *Context) (*string, error) {
		f := c.ScheduleTask("Flaky", "", nil)
		f.OnDone(func() { retried = c.CreateTimer(c.CurrentUTCDateTime().Add(time.Second)) })
		c.Await(c.CreateTimer(t0.Add(time.Hour)))
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("R", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), {Type: history.TaskFailed, EventID: -1, TaskScheduledID: 0, Failure: &history.FailureDetails{ErrorMessage: "x"}}})
	if retried == nil || len(out.Actions) != 1 || out.Actions[0].Kind != CreateTimer || out.Actions[0].ID != 2 {
		t.Fatalf("actions = %+v", out.Actions)
	}
}

// A panic in a callback (code of the layers above, run on the executor's
// goroutine) fails the instance instead of the process.
func TestPanicInCallbackFailsInstance(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		f := c.ScheduleTask("A", "", nil)
		f.OnDone(func() { panic("boom") })
		c.Await(c.CreateTimer(t0.Add(time.Hour)))
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("P", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), taskCompleted(0, "1")})
	if out.Status != history.StatusFailed || out.Failure.ErrorType != PanicErrorType || out.Failure.ErrorMessage != "boom" {
		t.Fatalf("outcome = %+v", out)
	}
}

type detailedErr struct{}

func (detailedErr) Error() string { return "inner task failed" }
func (detailedErr) FailureDetails() *history.FailureDetails {
	return &history.FailureDetails{ErrorType: "TaskFailedError", ErrorMessage: "inner task failed"}
}

type nonRetriable struct{ error }

func (nonRetriable) NonRetriable() bool { return true }
func (e nonRetriable) Unwrap() error    { return e.error }

func TestFailureKeepsWrapper(t *testing.T) {
	err := fmt.Errorf("charging card for order 42: %w", detailedErr{})
	fd := FailureFromError(err)
	if fd.ErrorType != "error" || fd.ErrorMessage != "charging card for order 42: inner task failed" ||
		fd.InnerFailure == nil || fd.InnerFailure.ErrorType != "TaskFailedError" {
		t.Fatalf("failure = %+v inner %+v", fd, fd.InnerFailure)
	}
	if fd := FailureFromError(fmt.Errorf("x: %w", nonRetriable{errors.New("no")})); !fd.IsNonRetriable {
		t.Fatalf("non-retriable lost: %+v", fd)
	}
}

// Awaiting inside a future's callback (on the executor's goroutine) fails
// the instance instead of deadlocking the executor.
func TestAwaitInCallbackFailsInstance(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		f := c.ScheduleTask("A", "", nil)
		f.OnDone(func() { c.Await(c.CreateTimer(t0.Add(time.Minute))) })
		c.Await(c.CreateTimer(t0.Add(time.Hour)))
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("P", nil)})
	done := make(chan *Outcome, 1)
	go func() { done <- x.Apply(nil, []*history.Event{orchStarted(t0), taskCompleted(0, "1")}) }()
	select {
	case out := <-done:
		if out.Status != history.StatusFailed || !errors.Is(out.Err, ErrMultithreaded) || !strings.Contains(out.Failure.ErrorMessage, "inside a callback") {
			t.Fatalf("outcome = %+v", out)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the executor deadlocked")
	}
}
