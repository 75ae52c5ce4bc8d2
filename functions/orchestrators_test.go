package functions

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/durabletest"
	"github.com/godurable/functions/durable/history"
)

// These tests run every sample orchestrator with durabletest: in memory,
// on a virtual clock, with the real engine. All of them together take a
// few milliseconds, hour- and day-long timers included.

func newTester(t *testing.T) *durabletest.Tester {
	t.Helper()
	r := durable.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	return durabletest.New(t, r)
}

func TestHelloCities(t *testing.T) {
	tt := newTester(t)
	inst := tt.Execute("HelloCities", nil)
	got := durabletest.Output[[]string](inst)
	if strings.Join(got, "|") != "Hello Tokyo!|Hello Seattle!|Hello London!" {
		t.Fatalf("output = %q", got)
	}
}

func TestHelloCitiesWithAMockedActivity(t *testing.T) {
	tt := newTester(t)
	hello := tt.OnActivity("SayHello").Do(durabletest.Func(func(city string) (string, error) { return "Hi " + city, nil }))
	got := durabletest.Output[[]string](tt.Execute("HelloCities", nil))
	cities, err := durabletest.Inputs[string](hello)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "Hi Tokyo|Hi Seattle|Hi London" || hello.Calls() != 3 || strings.Join(cities, ",") != "Tokyo,Seattle,London" {
		t.Fatalf("output %q, calls %d, inputs %q", got, hello.Calls(), cities)
	}
}

func TestHelloCitiesActivityFailure(t *testing.T) {
	tt := newTester(t)
	tt.OnActivity("SayHello").ReturnError(errors.New("no network"))
	inst := tt.Execute("HelloCities", nil)
	f := inst.Failure()
	// The orchestrator wraps the task failure ("greeting Tokyo: %w"): the
	// failure keeps the wrapper's message, with the task failure, and the
	// activity's own failure below it, as inner failures.
	if inst.RuntimeStatus() != durable.StatusFailed || f == nil || !strings.HasPrefix(f.ErrorMessage, "greeting Tokyo: ") ||
		f.InnerFailure == nil || f.InnerFailure.ErrorType != durable.ErrorTypeTaskFailed ||
		f.InnerFailure.InnerFailure == nil || f.InnerFailure.InnerFailure.ErrorMessage != "no network" {
		t.Fatalf("status %s, failure %+v", inst.RuntimeStatus(), f)
	}
	var failed *durable.OrchestrationFailedError
	if !errors.As(inst.Err(), &failed) || failed.InstanceID != inst.ID() {
		t.Fatalf("Err() = %v", inst.Err())
	}
}

func TestFanOutFanIn(t *testing.T) {
	tt := newTester(t)
	inst := tt.Execute("FanOutFanIn", 50)
	if got := durabletest.Output[int](inst); got != 42925 {
		t.Fatalf("sum of squares 1..50 = %d", got)
	}
	if n := strings.Count(eventTypes(inst.History()), "TaskCompleted"); n != 50 {
		t.Fatalf("%d TaskCompleted events, want 50", n)
	}
}

func TestApprovalApprovedAfterTwoHours(t *testing.T) {
	tt := newTester(t)
	start := tt.Now()
	inst := tt.Start("Approval", ApprovalInput{TimeoutSeconds: 72 * 3600})
	inst.RaiseEventAfter(2*time.Hour, "Approval", true)
	tt.RunUntilDone(inst)
	if got := durabletest.Output[string](inst); got != "approved" {
		t.Fatalf("output = %q", got)
	}
	if d := tt.Now().Sub(start); d != 2*time.Hour {
		t.Fatalf("virtual time moved %v, want 2h", d)
	}
}

func TestApprovalTimesOutAfter72Hours(t *testing.T) {
	tt := newTester(t)
	start := tt.Now()
	inst := tt.Execute("Approval", ApprovalInput{TimeoutSeconds: 72 * 3600})
	if got := durabletest.Output[string](inst); got != "timed out" {
		t.Fatalf("output = %q", got)
	}
	if d := tt.Now().Sub(start); d != 72*time.Hour {
		t.Fatalf("virtual time moved %v, want 72h", d)
	}
	if got := durabletest.CustomStatus[string](inst); got != "waiting for approval" {
		t.Fatalf("custom status = %q", got)
	}
}

func TestApprovalRejectedJustBeforeTheDeadline(t *testing.T) {
	tt := newTester(t)
	inst := tt.Start("Approval", ApprovalInput{TimeoutSeconds: 3600})
	tt.Advance(59 * time.Minute)
	if inst.RuntimeStatus() != durable.StatusRunning {
		t.Fatalf("after 59 minutes the instance is %s", inst.RuntimeStatus())
	}
	inst.RaiseEvent("Approval", false)
	tt.RunUntilIdle()
	if got := durabletest.Output[string](inst); got != "rejected" {
		t.Fatalf("output = %q", got)
	}
}

func TestCountdownContinuesAsNew(t *testing.T) {
	tt := newTester(t)
	inst := tt.Execute("Countdown", 5)
	if got := durabletest.Output[string](inst); got != "done" {
		t.Fatalf("output = %q", got)
	}
	if cs := durabletest.CustomStatus[int](inst); cs != 0 {
		t.Fatalf("custom status = %d", cs)
	}
	h := inst.History()
	if h[1].Type != history.ExecutionStarted || history.Deref(h[1].Input) != "0" {
		t.Fatalf("the last generation starts with %s %s", h[1].Type, history.Deref(h[1].Input))
	}
}

func TestRetryFlakyRetriesOnDurableTimers(t *testing.T) {
	tt := newTester(t)
	flaky := tt.OnActivity("Flaky").Return(nil) // replaced below
	attempts := 0
	flaky.Do(func(json.RawMessage) (any, error) {
		attempts++
		if attempts <= 2 {
			return nil, errors.New("flaky")
		}
		return attempts, nil
	})
	start := tt.Now()
	inst := tt.Execute("RetryFlaky", FlakyInput{FailTimes: 2})
	if got := durabletest.Output[int](inst); got != 3 || flaky.Calls() != 3 {
		t.Fatalf("output %d after %d calls", got, flaky.Calls())
	}
	// 200 ms, then 300 ms (coefficient 1.5) between the attempts.
	if d := tt.Now().Sub(start); d != 500*time.Millisecond {
		t.Fatalf("retries took %v of virtual time, want 500ms", d)
	}
}

func TestRetryFlakyWithTheRealActivity(t *testing.T) {
	tt := newTester(t)
	inst := tt.Execute("RetryFlaky", FlakyInput{FailTimes: 1})
	if got := durabletest.Output[int](inst); got != 2 {
		t.Fatalf("attempts = %d", got)
	}
}

func TestCatchFailure(t *testing.T) {
	tt := newTester(t)
	if got := durabletest.Output[string](tt.Execute("CatchFailure", nil)); got != "caught: this activity always fails" {
		t.Fatalf("output = %q", got)
	}
}

func TestCrashFailsWithTheActivityFailure(t *testing.T) {
	tt := newTester(t)
	inst := tt.Execute("Crash", nil)
	f := inst.Failure()
	if f == nil || f.InnerFailure == nil || f.InnerFailure.ErrorMessage != "this activity always fails" {
		t.Fatalf("failure = %+v", f)
	}
}

func TestCallFlakyRewound(t *testing.T) {
	tt := newTester(t)
	calls := 0
	tt.OnActivity("Flaky").Do(func(json.RawMessage) (any, error) {
		calls++
		if calls == 1 {
			return nil, errors.New("first call fails")
		}
		return calls, nil
	})
	inst := tt.Execute("CallFlaky", FlakyInput{FailTimes: 1})
	if inst.RuntimeStatus() != durable.StatusFailed {
		t.Fatalf("first run: %s", inst.RuntimeStatus())
	}
	inst.Rewind("the dependency is back")
	tt.RunUntilDone(inst)
	if got := durabletest.Output[int](inst); got != 2 {
		t.Fatalf("after rewind: %d", got)
	}
}

func TestParentChild(t *testing.T) {
	tt := newTester(t)
	inst := tt.Execute("ParentChild", nil)
	if got := durabletest.Output[[]string](inst); len(got) != 3 || got[0] != "Hello Tokyo!" {
		t.Fatalf("output = %q", got)
	}
	child := tt.Instance(inst.ID() + ":child")
	if child.RuntimeStatus() != durable.StatusCompleted {
		t.Fatalf("child is %s", child.RuntimeStatus())
	}
}

func TestParentChildWithAMockedChild(t *testing.T) {
	tt := newTester(t)
	child := tt.OnSubOrchestrator("HelloCities").Return([]string{"mocked"})
	if got := durabletest.Output[[]string](tt.Execute("ParentChild", nil)); len(got) != 1 || got[0] != "mocked" || child.Calls() != 1 {
		t.Fatalf("output = %q, child calls %d", got, child.Calls())
	}
	failing := newTester(t)
	failing.OnSubOrchestrator("HelloCities").ReturnError(errors.New("child broke"))
	inst := failing.Execute("ParentChild", nil)
	if f := inst.Failure(); f == nil || !strings.Contains(f.ErrorMessage, "child broke") {
		t.Fatalf("failure = %+v", f)
	}
}

func TestSleeperSleepsTenDays(t *testing.T) {
	tt := newTester(t)
	start := tt.Now()
	inst := tt.Execute("Sleeper", 10*24*3600)
	if got := durabletest.Output[string](inst); got != "woke" {
		t.Fatalf("output = %q", got)
	}
	if d := tt.Now().Sub(start); d != 240*time.Hour {
		t.Fatalf("virtual time moved %v, want 240h", d)
	}
}

func TestCrossAppCallerPollsUntilDone(t *testing.T) {
	tt := newTester(t)
	tt.OnActivity("StartRemoteOrchestration").Return("https://other.example/status/1")
	check := tt.OnActivity("CheckIsComplete").Return(
		RemoteStatus{}, RemoteStatus{}, RemoteStatus{Done: true, Output: json.RawMessage(`{"ok":true}`)})
	start := tt.Now()
	inst := tt.Execute("CrossAppCaller", CrossAppInput{StartURL: "https://other.example/start", PollSeconds: 60})
	got := durabletest.Output[map[string]bool](inst)
	if !got["ok"] || check.Calls() != 3 {
		t.Fatalf("output %v after %d polls", got, check.Calls())
	}
	if d := tt.Now().Sub(start); d != 2*time.Minute {
		t.Fatalf("two polls a minute apart took %v", d)
	}
	urls, _ := durabletest.Inputs[string](check)
	if urls[0] != "https://other.example/status/1" {
		t.Fatalf("CheckIsComplete got %q", urls)
	}
}

func TestCrossAppCallerGivesUp(t *testing.T) {
	tt := newTester(t)
	tt.OnActivity("StartRemoteOrchestration").Return("https://other.example/status/2")
	tt.OnActivity("CheckIsComplete").Return(RemoteStatus{})
	inst := tt.Execute("CrossAppCaller", CrossAppInput{PollSeconds: 3600, MaxPolls: 48})
	if f := inst.Failure(); f == nil || !strings.Contains(f.ErrorMessage, "did not complete after 48 polls") {
		t.Fatalf("failure = %+v", f)
	}
}

func TestProcessOrder(t *testing.T) {
	tt := newTester(t)
	got := durabletest.Output[map[string]string](tt.Execute("ProcessOrder", Order{ID: "7", Item: "book", Quantity: 2}))
	if got["orderId"] != "7" || got["status"] != "reserved 2 x book" {
		t.Fatalf("output = %v", got)
	}
	bad := tt.Execute("ProcessOrder", Order{ID: "8", Item: "book"})
	if f := bad.Failure(); f == nil || !strings.Contains(f.ErrorMessage, "quantity 0 is not positive") {
		t.Fatalf("failure = %+v", f)
	}
}

func TestCounterWorkflowTransfers(t *testing.T) {
	tt := newTester(t)
	from, to := durable.NewEntityID("Counter", "alice"), durable.NewEntityID("Counter", "bob")
	tt.SignalEntity(from, "add", 10)
	inst := tt.Execute("CounterWorkflow", Transfer{From: "alice", To: "bob", Amount: 4})
	if got := durabletest.Output[[2]int](inst); got != [2]int{6, 4} {
		t.Fatalf("balances = %v", got)
	}
	tt.RunUntilIdle()
	if n, ok := durabletest.EntityState[int](tt, to); !ok || n != 4 {
		t.Fatalf("bob = %d (exists %v)", n, ok)
	}
	short := tt.Execute("CounterWorkflow", Transfer{From: "bob", To: "alice", Amount: 5})
	if f := short.Failure(); f == nil || !strings.Contains(f.ErrorMessage, "holds 4, less than 5") {
		t.Fatalf("failure = %+v", f)
	}
}

func TestCounterScheduledSignal(t *testing.T) {
	tt := newTester(t)
	c := durable.NewEntityID("Counter", "later")
	if err := tt.Client().SignalEntity(t.Context(), c, "add", 3, durable.SignalAt(tt.Now().Add(36*time.Hour))); err != nil {
		t.Fatal(err)
	}
	tt.Advance(35 * time.Hour)
	if _, ok := durabletest.EntityState[int](tt, c); ok {
		t.Fatal("the signal arrived before its time")
	}
	tt.Advance(time.Hour)
	if n, ok := durabletest.EntityState[int](tt, c); !ok || n != 3 {
		t.Fatalf("counter = %d (exists %v)", n, ok)
	}
}

func eventTypes(h []*history.Event) string {
	var s []string
	for _, e := range h {
		s = append(s, e.Type.String())
	}
	return strings.Join(s, ",")
}
