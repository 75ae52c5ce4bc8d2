package replay

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable/history"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func str(s string) *string { return &s }

func started(name string, input *string) *history.Event {
	return &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: t0, Name: name, Input: input,
		Instance: &history.OrchestrationInstance{InstanceID: "i1", ExecutionID: "e1"}}
}

func orchStarted(at time.Time) *history.Event {
	return &history.Event{Type: history.OrchestratorStarted, EventID: -1, Timestamp: at}
}

func orchCompleted() *history.Event {
	return &history.Event{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: t0}
}

func taskCompleted(id int, result string) *history.Event {
	return &history.Event{Type: history.TaskCompleted, EventID: -1, TaskScheduledID: id, Result: str(result), Timestamp: t0}
}

func raised(name, input string) *history.Event {
	return &history.Event{Type: history.EventRaised, EventID: -1, Name: name, Input: str(input), Timestamp: t0}
}

// helloCities calls SayHello three times in sequence and returns the
// concatenated results.
func helloCities(c *Context) (*string, error) {
	var parts []string
	for _, city := range []string{"Tokyo", "Seattle", "London"} {
		f := c.ScheduleTask("SayHello", "", str(`["`+city+`"]`))
		c.Await(f)
		r, fail, _ := f.Result()
		if fail != nil {
			return nil, errors.New(fail.ErrorMessage)
		}
		parts = append(parts, *r)
	}
	out := "[" + strings.Join(parts, ",") + "]"
	return &out, nil
}

// runEpisodes drives an orchestration to completion the way the dispatcher
// does: each episode replays the whole history in a fresh executor, and
// every new action is answered by respond in the next episode.
func runEpisodes(t *testing.T, fn Orchestrator, first []*history.Event, respond func(a *Action) *history.Event) (*Outcome, []*history.Event) {
	t.Helper()
	var hist []*history.Event
	newEvents := first
	for episode := 0; episode < 50; episode++ {
		x := New(fn)
		at := t0.Add(time.Duration(episode) * time.Second)
		news := append([]*history.Event{orchStarted(at)}, newEvents...)
		out := x.Apply(hist, news)
		x.Close()
		hist = append(hist, news...)
		newEvents = nil
		for _, a := range out.Actions {
			hist = append(hist, a.Event(at))
			if r := respond(a); r != nil {
				newEvents = append(newEvents, r)
			}
		}
		hist = append(hist, orchCompleted())
		if out.Done {
			return out, hist
		}
		if len(newEvents) == 0 {
			t.Fatalf("episode %d: orchestration is stuck: no actions, not done", episode)
		}
	}
	t.Fatal("orchestration did not finish in 50 episodes")
	return nil, nil
}

func sayHello(a *Action) *history.Event {
	city := strings.Trim(*a.Input, `[]"`)
	return taskCompleted(a.ID, `"Hello `+city+`!"`)
}

func TestSequenceRunsToCompletion(t *testing.T) {
	out, hist := runEpisodes(t, helloCities, []*history.Event{started("HelloCities", nil)}, sayHello)
	if out.Status != history.StatusCompleted {
		t.Fatalf("status = %v, want Completed (failure %v)", out.Status, out.Failure)
	}
	if got, want := *out.Output, `["Hello Tokyo!","Hello Seattle!","Hello London!"]`; got != want {
		t.Fatalf("output = %s, want %s", got, want)
	}
	if out.CompletionID != 3 {
		t.Fatalf("completion id = %d, want 3 (after task ids 0, 1, 2)", out.CompletionID)
	}
	var ids []int
	for _, e := range hist {
		if e.Type == history.TaskScheduled {
			ids = append(ids, e.EventID)
		}
	}
	if fmt.Sprint(ids) != "[0 1 2]" {
		t.Fatalf("TaskScheduled ids = %v, want [0 1 2]", ids)
	}
}

func TestFirstEpisodeSchedulesFirstTaskOnly(t *testing.T) {
	x := New(helloCities)
	defer x.Close()
	out := x.Apply(nil, []*history.Event{orchStarted(t0), started("HelloCities", nil)})
	if out.Done || len(out.Actions) != 1 {
		t.Fatalf("got done=%v actions=%d, want one action and not done", out.Done, len(out.Actions))
	}
	a := out.Actions[0]
	if a.ID != 0 || a.Kind != ScheduleTask || a.Name != "SayHello" || *a.Input != `["Tokyo"]` {
		t.Fatalf("action = %+v", a)
	}
}

func TestCachedExecutorContinuesWithoutReplay(t *testing.T) {
	x := New(helloCities)
	defer x.Close()
	out := x.Apply(nil, []*history.Event{orchStarted(t0), started("HelloCities", nil)})
	for i := 0; i < 3; i++ {
		if len(out.Actions) != 1 {
			t.Fatalf("step %d: %d actions", i, len(out.Actions))
		}
		out = x.Apply(nil, []*history.Event{orchStarted(t0), sayHello(out.Actions[0])})
	}
	if !out.Done || *out.Output != `["Hello Tokyo!","Hello Seattle!","Hello London!"]` {
		t.Fatalf("outcome = %+v", out)
	}
}

func scheduled(id int, name string) *history.Event {
	return &history.Event{Type: history.TaskScheduled, EventID: id, Name: name, Timestamp: t0}
}

func TestNonDeterminismOnDifferentName(t *testing.T) {
	hist := []*history.Event{orchStarted(t0), started("HelloCities", nil), scheduled(0, "SayGoodbye"), orchCompleted()}
	x := New(helloCities)
	defer x.Close()
	out := x.Apply(hist, []*history.Event{orchStarted(t0), taskCompleted(0, `"x"`)})
	if !out.Done || out.Status != history.StatusFailed {
		t.Fatalf("want Failed, got %+v", out)
	}
	if !errors.Is(out.Err, ErrNonDeterministic) {
		t.Fatalf("err = %v, want ErrNonDeterministic", out.Err)
	}
	if out.Failure.ErrorType != NonDeterministicErrorType || !strings.Contains(out.Failure.ErrorMessage, `"SayGoodbye"`) || !strings.Contains(out.Failure.ErrorMessage, `"SayHello"`) {
		t.Fatalf("failure = %+v", out.Failure)
	}
	if len(out.Actions) != 0 {
		t.Fatalf("a failed replay must not emit actions, got %d", len(out.Actions))
	}
}

func TestNonDeterminismOnDifferentKind(t *testing.T) {
	hist := []*history.Event{orchStarted(t0), started("HelloCities", nil),
		{Type: history.TimerCreated, EventID: 0, FireAt: t0, Timestamp: t0}, orchCompleted()}
	x := New(helloCities)
	defer x.Close()
	out := x.Apply(hist, nil)
	if !errors.Is(out.Err, ErrNonDeterministic) || !strings.Contains(out.Failure.ErrorMessage, "TimerCreated") {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestNonDeterminismOnMissingAction(t *testing.T) {
	fn := func(c *Context) (*string, error) { return str("1"), nil }
	hist := []*history.Event{orchStarted(t0), started("X", nil), scheduled(0, "SayHello"), orchCompleted()}
	x := New(fn)
	defer x.Close()
	out := x.Apply(hist, nil)
	// The code finished before reaching the scheduled event: replay does
	// not accept a history it cannot produce.
	if out.Status != history.StatusFailed || !errors.Is(out.Err, ErrNonDeterministic) {
		t.Fatalf("outcome = %+v", out)
	}
	fn2 := func(c *Context) (*string, error) {
		c.Await(c.CreateTimer(t0))
		return nil, nil
	}
	hist2 := []*history.Event{orchStarted(t0), started("X", nil),
		{Type: history.TimerCreated, EventID: 0, FireAt: t0, Timestamp: t0}, scheduled(1, "Extra"), orchCompleted()}
	x2 := New(fn2)
	defer x2.Close()
	out2 := x2.Apply(hist2, nil)
	if !errors.Is(out2.Err, ErrNonDeterministic) || !strings.Contains(out2.Failure.ErrorMessage, "no action with sequence number 1") {
		t.Fatalf("outcome = %+v", out2)
	}
}

func TestPanicFailsWithMessageAndStack(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		var m map[string]int
		m["boom"] = 1
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	out := x.Apply(nil, []*history.Event{orchStarted(t0), started("P", nil)})
	if out.Status != history.StatusFailed || out.Failure.ErrorType != "panic" {
		t.Fatalf("outcome = %+v", out)
	}
	if !strings.Contains(out.Failure.ErrorMessage, "assignment to entry in nil map") || out.Failure.StackTrace == nil || !strings.Contains(*out.Failure.StackTrace, "executor_test.go") {
		t.Fatalf("failure = %+v", out.Failure)
	}
}

func TestErrorFailsInstance(t *testing.T) {
	fn := func(c *Context) (*string, error) { return nil, errors.New("bad input") }
	x := New(fn)
	defer x.Close()
	out := x.Apply(nil, []*history.Event{orchStarted(t0), started("E", nil)})
	if out.Status != history.StatusFailed || out.Failure.ErrorMessage != "bad input" || out.Failure.ErrorType != "error" || out.CompletionID != 0 {
		t.Fatalf("outcome = %+v / %+v", out, out.Failure)
	}
}

func TestTaskFailureReachesCode(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		f := c.ScheduleTask("Fail", "", nil)
		c.Await(f)
		_, fail, _ := f.Result()
		if fail == nil {
			return nil, errors.New("expected a failure")
		}
		return str(`"caught: ` + fail.ErrorMessage + `"`), nil
	}
	out, _ := runEpisodes(t, fn, []*history.Event{started("C", nil)}, func(a *Action) *history.Event {
		return &history.Event{Type: history.TaskFailed, EventID: -1, TaskScheduledID: a.ID, Reason: str("nope"),
			Failure: &history.FailureDetails{ErrorType: "X", ErrorMessage: "nope"}}
	})
	if *out.Output != `"caught: nope"` {
		t.Fatalf("output = %s", *out.Output)
	}
}

// approval waits for an event or a timer, whichever comes first.
func approval(c *Context) (*string, error) {
	ev := c.WaitForEvent("Approval")
	timer := c.CreateTimer(c.CurrentUTCDateTime().Add(time.Hour))
	c.Await(ev, timer)
	if ev.Done() {
		r, _, _ := ev.Result()
		return r, nil
	}
	c.CancelWait(ev)
	return str(`"timed out"`), nil
}

func TestEventBeatsTimer(t *testing.T) {
	x := New(approval)
	defer x.Close()
	out := x.Apply(nil, []*history.Event{orchStarted(t0), started("A", nil)})
	if len(out.Actions) != 1 || out.Actions[0].Kind != CreateTimer || !out.Actions[0].FireAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("actions = %+v", out.Actions)
	}
	out = x.Apply(nil, []*history.Event{orchStarted(t0), raised("APPROVAL", "true")})
	if !out.Done || *out.Output != "true" {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestTimerBeatsEvent(t *testing.T) {
	x := New(approval)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("A", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), {Type: history.TimerFired, EventID: -1, TimerID: 0, FireAt: t0.Add(time.Hour)}})
	if !out.Done || *out.Output != `"timed out"` {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestEventsBufferedInOrderAndWaitersNewestFirst(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		// Two events arrive before anyone waits: they are taken oldest first.
		c.Await(c.CreateTimer(t0))
		a := c.WaitForEvent("e")
		b := c.WaitForEvent("E")
		ra, _, _ := a.Result()
		rb, _, _ := b.Result()
		// Two waiters, then one event: the newest waiter gets it.
		w1 := c.WaitForEvent("f")
		w2 := c.WaitForEvent("f")
		c.Await(w1, w2)
		got := "w1"
		if w2.Done() {
			got = "w2"
		}
		s := fmt.Sprintf(`"%s%s %s"`, *ra, *rb, got)
		return &s, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("B", nil), raised("e", "1"), raised("e", "2")})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), {Type: history.TimerFired, EventID: -1, TimerID: 0}})
	if out.Done {
		t.Fatalf("done too early: %+v", out)
	}
	out = x.Apply(nil, []*history.Event{orchStarted(t0), raised("F", "x")})
	if !out.Done || *out.Output != `"12 w2"` {
		t.Fatalf("outcome = %+v output=%v", out, out.Output)
	}
}

func TestSuspendHoldsEventsUntilResume(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		f := c.WaitForEvent("go")
		c.Await(f)
		return str(`"went"`), nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("S", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), {Type: history.ExecutionSuspended, EventID: -1}, raised("go", "1")})
	if out.Done {
		t.Fatal("a suspended orchestration must not take the event")
	}
	out = x.Apply(nil, []*history.Event{orchStarted(t0), {Type: history.ExecutionResumed, EventID: -1}})
	if !out.Done || *out.Output != `"went"` {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestTerminateEndsAndUnwinds(t *testing.T) {
	deferred := false
	fn := func(c *Context) (*string, error) {
		defer func() { deferred = true }()
		c.Await(c.WaitForEvent("never"))
		return nil, nil
	}
	x := New(fn)
	x.Apply(nil, []*history.Event{orchStarted(t0), started("T", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), {Type: history.ExecutionTerminated, EventID: -1, Input: str(`"stop"`)}})
	if !out.Done || out.Status != history.StatusTerminated || *out.Output != `"stop"` {
		t.Fatalf("outcome = %+v", out)
	}
	if !deferred {
		t.Fatal("the blocked coroutine's deferred calls did not run")
	}
}

func TestContinueAsNewCarriesUnconsumedEvents(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.Await(c.CreateTimer(t0))
		c.ContinueAsNew(str("7"), true)
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("C", str("8"))})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), raised("late", "1"), {Type: history.TimerFired, EventID: -1, TimerID: 0}})
	if !out.Done || out.Status != history.StatusContinuedAsNew || *out.Output != "7" {
		t.Fatalf("outcome = %+v", out)
	}
	if len(out.CarryOver) != 1 || out.CarryOver[0].Name != "late" {
		t.Fatalf("carry-over = %+v", out.CarryOver)
	}
}

func TestUnknownCompletionIgnored(t *testing.T) {
	x := New(helloCities)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("H", nil)})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), taskCompleted(42, `"?"`)})
	if out.Done || len(out.Actions) != 0 {
		t.Fatalf("outcome = %+v", out)
	}
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		x := New(helloCities)
		x.Apply(nil, []*history.Event{orchStarted(t0), started("H", nil)})
		x.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("goroutines: %d before, %d after closing 50 executors", before, n)
	}
}

func TestCurrentTimeFollowsEpisodes(t *testing.T) {
	var seen []time.Time
	var replaying []bool
	fn := func(c *Context) (*string, error) {
		replaying = append(replaying, c.IsReplaying())
		seen = append(seen, c.CurrentUTCDateTime())
		c.Await(c.CreateTimer(c.CurrentUTCDateTime().Add(time.Minute)))
		seen = append(seen, c.CurrentUTCDateTime())
		replaying = append(replaying, c.IsReplaying())
		return nil, nil
	}
	hist := []*history.Event{orchStarted(t0), started("T", nil), {Type: history.TimerCreated, EventID: 0, FireAt: t0.Add(time.Minute)}, orchCompleted()}
	x := New(fn)
	defer x.Close()
	out := x.Apply(hist, []*history.Event{orchStarted(t0.Add(time.Minute)), {Type: history.TimerFired, TimerID: 0, EventID: -1}})
	if !out.Done || len(seen) != 2 || !seen[0].Equal(t0) || !seen[1].Equal(t0.Add(time.Minute)) {
		t.Fatalf("seen = %v, outcome %+v", seen, out)
	}
	if fmt.Sprint(replaying) != "[true false]" {
		t.Fatalf("IsReplaying = %v, want [true false]", replaying)
	}
}

// Events of the same batch that come after the one the execution consumed
// before continuing as new are carried over too (they arrived, unconsumed).
func TestContinueAsNewCarriesEventsLaterInTheBatch(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.Await(c.WaitForEvent("op"))
		c.ContinueAsNew(str("1"), true)
		return nil, nil
	}
	x := New(fn)
	defer x.Close()
	x.Apply(nil, []*history.Event{orchStarted(t0), started("C", str("0"))})
	out := x.Apply(nil, []*history.Event{orchStarted(t0), raised("op", `"a"`), raised("op", `"b"`), raised("op", `"c"`)})
	if !out.Done || out.Status != history.StatusContinuedAsNew {
		t.Fatalf("outcome = %+v", out)
	}
	if len(out.CarryOver) != 2 || *out.CarryOver[0].Input != `"b"` || *out.CarryOver[1].Input != `"c"` {
		t.Fatalf("carry-over = %+v", out.CarryOver)
	}
}

// External events an execution never waited for — buffered before it
// ended, or arriving in the batch after it ended — are named in the
// outcome of the episode that ends it; a continue-as-new carries them
// instead.
func TestUnawaitedEventsAreNamedAtTheEnd(t *testing.T) {
	fn := func(c *Context) (*string, error) {
		c.Await(c.WaitForEvent("a"))
		return str(`"done"`), nil
	}
	x := New(fn)
	defer x.Close()
	out := x.Apply(nil, []*history.Event{orchStarted(t0), started("W", nil), raised("b", "1")})
	if out.Done || len(out.Unawaited) != 0 {
		t.Fatalf("while running: %+v", out)
	}
	out = x.Apply(nil, []*history.Event{orchStarted(t0), raised("a", "2"), raised("c", "3")})
	if !out.Done || out.Status != history.StatusCompleted {
		t.Fatalf("outcome = %+v", out)
	}
	if fmt.Sprint(out.Unawaited) != "[b c]" {
		t.Fatalf("unawaited = %v, want [b c]", out.Unawaited)
	}

	can := New(func(c *Context) (*string, error) {
		c.Await(c.WaitForEvent("a"))
		c.ContinueAsNew(str("1"), true)
		return nil, nil
	})
	defer can.Close()
	can.Apply(nil, []*history.Event{orchStarted(t0), started("W", nil), raised("b", "1")})
	out = can.Apply(nil, []*history.Event{orchStarted(t0), raised("a", "2")})
	if !out.Done || out.Status != history.StatusContinuedAsNew || len(out.Unawaited) != 0 || len(out.CarryOver) != 1 {
		t.Fatalf("continue-as-new: %+v", out)
	}
}
