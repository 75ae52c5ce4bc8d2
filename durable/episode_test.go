package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// episodeDriver runs an orchestration through Worker.runEpisode the way a
// backend would deliver its messages, without storage: activities run
// inline, timers fire when the driver's clock passes them, and events are
// injected by the test. It checks the pure dispatcher logic only; storage
// behaviour is tested against Azurite in package azstorage.
type episodeDriver struct {
	t       *testing.T
	w       *Worker
	now     time.Time
	hist    []*history.Event
	inbox   []*history.Event
	timers  []backend.OutboundMessage
	sent    []backend.OutboundMessage
	state   backend.InstanceUpdate
	started *history.Event
}

func newDriver(t *testing.T, reg *Registry) *episodeDriver {
	w := NewWorker(nil, reg, WorkerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d := &episodeDriver{t: t, w: w, now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	w.clock = func() time.Time { return d.now }
	n := 0
	w.newID = func() string { n++; return fmt.Sprintf("exec%d", n) }
	return d
}

func (d *episodeDriver) start(name string, input any) {
	in, err := marshalPayload(input)
	if err != nil {
		d.t.Fatal(err)
	}
	d.inbox = append(d.inbox, &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: d.now, Name: name, Input: in,
		Instance: &history.OrchestrationInstance{InstanceID: "inst", ExecutionID: "exec0"}})
}

// run processes episodes until nothing is left to deliver; activities are
// answered within the same round, timers fire only when advance moves the
// clock past them.
func (d *episodeDriver) run() {
	for round := 0; round < 200 && len(d.inbox) > 0; round++ {
		wi := &backend.OrchestrationWorkItem{InstanceID: "inst", History: d.hist, NewEvents: d.inbox}
		d.inbox = nil
		cp := d.w.runEpisode(wi)
		if cp.ContinuedAsNew {
			d.hist = nil
		}
		d.hist = append(d.hist, cp.NewEvents...)
		if cp.NewEvents != nil {
			d.state = cp.State
		}
		d.timers = append(d.timers, cp.Timers...)
		for _, m := range cp.Outbound {
			if m.Event.Type == history.TaskScheduled {
				d.inbox = append(d.inbox, d.w.runActivity(context.Background(), &backend.ActivityWorkItem{Instance: m.Target, Scheduled: m.Event}))
			} else {
				d.sent = append(d.sent, m)
			}
		}
	}
}

// advance moves the clock and delivers the timers that are due.
func (d *episodeDriver) advance(by time.Duration) {
	d.now = d.now.Add(by)
	var keep []backend.OutboundMessage
	for _, tm := range d.timers {
		if !tm.VisibleAt.After(d.now) {
			d.inbox = append(d.inbox, tm.Event)
		} else {
			keep = append(keep, tm)
		}
	}
	d.timers = keep
	d.run()
}

func (d *episodeDriver) raise(name string, data any) {
	in, _ := marshalPayload(data)
	d.inbox = append(d.inbox, &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: d.now, Name: name, Input: in})
	d.run()
}

func (d *episodeDriver) output() string { return history.Deref(d.state.Output) }

func (d *episodeDriver) eventTypes() string {
	var s []string
	for _, e := range d.hist {
		s = append(s, e.Type.String())
	}
	return strings.Join(s, ",")
}

func testRegistry(t *testing.T) *Registry {
	r := NewRegistry()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.AddActivity("SayHello", Activity(func(ctx context.Context, city string) (string, error) {
		return "Hello " + city + "!", nil
	})))
	must(r.AddActivity("Square", Activity(func(ctx context.Context, n int) (int, error) { return n * n, nil })))
	must(r.AddActivity("Fail", Activity(func(ctx context.Context, _ any) (any, error) { return nil, errors.New("always fails") })))
	must(r.AddOrchestrator("HelloCities", Orchestrator(func(ctx *OrchestrationContext, _ any) ([]string, error) {
		var out []string
		for _, c := range []string{"Tokyo", "Seattle", "London"} {
			s, err := CallActivity[string](ctx, "SayHello", c).Await()
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	})))
	return r
}

func TestHelloCitiesHistory(t *testing.T) {
	d := newDriver(t, testRegistry(t))
	d.start("HelloCities", nil)
	d.run()
	if d.state.RuntimeStatus != StatusCompleted || d.output() != `["Hello Tokyo!","Hello Seattle!","Hello London!"]` {
		t.Fatalf("state = %v %s", d.state.RuntimeStatus, d.output())
	}
	want := "OrchestratorStarted,ExecutionStarted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,ExecutionCompleted,OrchestratorCompleted"
	if got := d.eventTypes(); got != want {
		t.Fatalf("history:\n got %s\nwant %s", got, want)
	}
	for _, e := range d.hist {
		// The messages carried the inputs (the output names the cities);
		// history keeps none, as Durable Functions by default.
		if e.Type == history.TaskScheduled && e.Input != nil {
			t.Fatalf("TaskScheduled #%d input = %s, want none in history", e.EventID, *e.Input)
		}
		if e.Type == history.ExecutionCompleted && (e.EventID != 3 || e.OrchestrationStatus != StatusCompleted) {
			t.Fatalf("ExecutionCompleted = %+v", e)
		}
	}
}

func TestFanOutFanIn(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddOrchestrator("FanOut", Orchestrator(func(ctx *OrchestrationContext, n int) (int, error) {
		var tasks []*Task[int]
		for i := 1; i <= n; i++ {
			tasks = append(tasks, CallActivity[int](ctx, "Square", i))
		}
		vals, err := WhenAllOf(ctx, tasks...)
		if err != nil {
			return 0, err
		}
		sum := 0
		for _, v := range vals {
			sum += v
		}
		return sum, nil
	}))
	d := newDriver(t, r)
	d.start("FanOut", 100)
	d.run()
	if d.output() != "338350" {
		t.Fatalf("output = %s (status %v)", d.output(), d.state.RuntimeStatus)
	}
}

func TestRetryUsesDurableTimersAndGivesUp(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddOrchestrator("Retry", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		_, err := CallActivity[any](ctx, "Fail", nil, WithRetry(RetryPolicy{MaxAttempts: 3, FirstRetryInterval: 10 * time.Second, BackoffCoefficient: 2})).Await()
		var tf *TaskFailedError
		if !errors.As(err, &tf) {
			return "", fmt.Errorf("want TaskFailedError, got %v", err)
		}
		return tf.Details.ErrorMessage, nil
	}))
	d := newDriver(t, r)
	d.start("Retry", nil)
	d.run()
	if len(d.timers) != 1 || !d.timers[0].VisibleAt.Equal(d.now.Add(10*time.Second)) {
		t.Fatalf("after the first failure want one 10s timer, got %+v", d.timers)
	}
	d.advance(10 * time.Second)
	if len(d.timers) != 1 || !d.timers[0].VisibleAt.Equal(d.now.Add(20*time.Second)) {
		t.Fatalf("after the second failure want one 20s timer, got %+v", d.timers)
	}
	d.advance(20 * time.Second)
	if d.state.RuntimeStatus != StatusCompleted || d.output() != `"always fails"` {
		t.Fatalf("state = %v %s", d.state.RuntimeStatus, d.output())
	}
	if n := strings.Count(d.eventTypes(), "TaskFailed"); n != 3 {
		t.Fatalf("want 3 TaskFailed events, got %d: %s", n, d.eventTypes())
	}
}

func TestUnhandledFailureFailsInstance(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddOrchestrator("Crash", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		return CallActivity[any](ctx, "Fail", nil).Await()
	}))
	d := newDriver(t, r)
	d.start("Crash", nil)
	d.run()
	if d.state.RuntimeStatus != StatusFailed || d.output() != `Orchestrator function 'Crash' failed: The activity function 'Fail' failed: "always fails". See the function execution logs for additional details.` {
		t.Fatalf("state = %v %q", d.state.RuntimeStatus, d.output())
	}
	last := d.hist[len(d.hist)-2]
	if last.Type != history.ExecutionCompleted || last.Failure == nil || last.Failure.InnerFailure == nil ||
		last.Failure.InnerFailure.ErrorMessage != "always fails" {
		t.Fatalf("ExecutionCompleted = %+v", last)
	}
}

func TestEventWithTimeout(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Approval", Orchestrator(func(ctx *OrchestrationContext, secs int) (string, error) {
		ok, err := WaitForExternalEvent[bool](ctx, "Approval", WithTimeout(time.Duration(secs)*time.Second)).Await()
		switch {
		case errors.Is(err, ErrTimeout):
			return "timed out", nil
		case err != nil:
			return "", err
		case ok:
			return "approved", nil
		}
		return "rejected", nil
	}))
	d := newDriver(t, r)
	d.start("Approval", 30)
	d.run()
	d.raise("approval", true)
	if d.output() != `"approved"` {
		t.Fatalf("output = %s", d.output())
	}
	d2 := newDriver(t, r)
	d2.start("Approval", 30)
	d2.run()
	d2.advance(30 * time.Second)
	if d2.output() != `"timed out"` {
		t.Fatalf("output = %s", d2.output())
	}
}

func TestLongTimerHops(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Sleeper", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		if _, err := CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(10*24*time.Hour)).Await(); err != nil {
			return "", err
		}
		return "woke", nil
	}))
	d := newDriver(t, r)
	d.start("Sleeper", nil)
	d.run()
	if len(d.timers) != 1 || d.timers[0].VisibleAt.Sub(d.now) != 3*24*time.Hour {
		t.Fatalf("want a 3-day hop, got %+v", d.timers)
	}
	d.advance(3 * 24 * time.Hour)
	if len(d.timers) != 1 || d.timers[0].VisibleAt.Sub(d.now) != 7*24*time.Hour-0 && d.timers[0].VisibleAt.Sub(d.now) != 3*24*time.Hour {
		t.Fatalf("second hop = %+v", d.timers)
	}
	for i := 0; i < 5 && d.output() == ""; i++ {
		d.advance(3 * 24 * time.Hour)
	}
	if d.output() != `"woke"` {
		t.Fatalf("output = %s", d.output())
	}
	if n := strings.Count(d.eventTypes(), "TimerCreated"); n != 3 {
		t.Fatalf("10 days = 3 + 3 + 4: want 3 TimerCreated, got %d", n)
	}
}

func TestContinueAsNew(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Countdown", Orchestrator(func(ctx *OrchestrationContext, n int) (string, error) {
		if err := ctx.SetCustomStatus(n); err != nil {
			return "", err
		}
		if n == 0 {
			return "done", nil
		}
		if _, err := CreateTimer(ctx, ctx.CurrentUTCDateTime()).Await(); err != nil {
			return "", err
		}
		return "", ctx.ContinueAsNew(n - 1)
	}))
	d := newDriver(t, r)
	d.start("Countdown", 3)
	d.run()
	for i := 0; i < 5 && d.output() != `"done"`; i++ {
		d.advance(time.Second)
	}
	if d.output() != `"done"` || history.Deref(d.state.CustomStatus) != "0" {
		t.Fatalf("output %s custom %v", d.output(), history.Deref(d.state.CustomStatus))
	}
	if got := d.hist[1]; got.Type != history.ExecutionStarted || *got.Input != "0" {
		t.Fatalf("last generation starts with %+v", got)
	}
}

func TestUnknownOrchestratorFails(t *testing.T) {
	d := newDriver(t, NewRegistry())
	d.start("Nope", nil)
	d.run()
	if d.state.RuntimeStatus != StatusFailed || !strings.Contains(d.output(), `"Nope" is not registered`) {
		t.Fatalf("state %v %s", d.state.RuntimeStatus, d.output())
	}
}

func TestSubOrchestrationMessages(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddOrchestrator("Parent", Orchestrator(func(ctx *OrchestrationContext, _ any) ([]string, error) {
		return CallSubOrchestrator[[]string](ctx, "HelloCities", nil, WithChildInstanceID(ctx.InstanceID()+":child")).Await()
	}))
	d := newDriver(t, r)
	d.start("Parent", nil)
	d.run()
	if len(d.sent) != 1 {
		t.Fatalf("sent = %+v", d.sent)
	}
	m := d.sent[0]
	if m.Event.Type != history.ExecutionStarted || m.Target.InstanceID != "inst:child" || m.Event.Parent == nil ||
		m.Event.Parent.TaskScheduleID != 0 || m.Event.Parent.Instance.InstanceID != "inst" || m.Event.Name != "HelloCities" {
		t.Fatalf("child start = %+v / %+v", m.Target, m.Event)
	}
	out, _ := json.Marshal([]string{"a"})
	d.inbox = append(d.inbox, &history.Event{Type: history.SubOrchestrationInstanceCompleted, EventID: -1, TaskScheduledID: 0, Result: history.Str(string(out))})
	d.run()
	if d.output() != `["a"]` {
		t.Fatalf("output = %s", d.output())
	}
}

func TestRetryHandlePredicateStopsRetries(t *testing.T) {
	r := testRegistry(t)
	calls := 0
	_ = r.AddOrchestrator("NoRetry", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		_, err := CallActivity[any](ctx, "Fail", nil, WithRetry(RetryPolicy{MaxAttempts: 5, FirstRetryInterval: time.Second,
			Handle: func(err error) bool { calls++; return !strings.Contains(err.Error(), "always fails") }})).Await()
		if err == nil {
			return "", errors.New("want an error")
		}
		return "gave up", nil
	}))
	d := newDriver(t, r)
	d.start("NoRetry", nil)
	d.run()
	if d.output() != `"gave up"` || len(d.timers) != 0 || strings.Count(d.eventTypes(), "TaskScheduled") != 1 {
		t.Fatalf("output %s, timers %d, history %s", d.output(), len(d.timers), d.eventTypes())
	}
}

func TestRetryTimeoutStopsRetries(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddOrchestrator("Timeout", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		_, err := CallActivity[any](ctx, "Fail", nil, WithRetry(RetryPolicy{MaxAttempts: 100, FirstRetryInterval: 10 * time.Second, RetryTimeout: 25 * time.Second})).Await()
		return fmt.Sprint(err != nil), nil
	}))
	d := newDriver(t, r)
	d.start("Timeout", nil)
	d.run()
	for i := 0; i < 10 && d.output() == ""; i++ {
		d.advance(10 * time.Second)
	}
	if d.output() != `"true"` || strings.Count(d.eventTypes(), "TaskScheduled") != 4 {
		t.Fatalf("output %s, history %s (attempts at 0s, 10s, 20s, 30s; after 30s the 25s timeout has passed)", d.output(), d.eventTypes())
	}
}

func TestSendEventIsRecordedAndSent(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Sender", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		if err := ctx.SendEvent("target-1", "Ping", map[string]int{"n": 1}); err != nil {
			return "", err
		}
		return ctx.NewGUID(), nil
	}))
	d := newDriver(t, r)
	d.start("Sender", nil)
	d.run()
	if len(d.sent) != 1 || d.sent[0].Event.Type != history.EventRaised || d.sent[0].Target.InstanceID != "target-1" ||
		d.sent[0].Target.ExecutionID != "" || *d.sent[0].Event.Input != `{"n":1}` || d.sent[0].Event.Name != "Ping" {
		t.Fatalf("sent = %+v", d.sent)
	}
	if !strings.Contains(d.eventTypes(), "EventSent,ExecutionCompleted") {
		t.Fatalf("history = %s", d.eventTypes())
	}
	want := uuidV5(guidNamespace, "inst_2024-05-01T12:00:00.0000000Z_0")
	if d.output() != `"`+want+`"` {
		t.Fatalf("NewGUID = %s, want %s", d.output(), want)
	}
}

func TestReplaySafeLoggerLogsOnce(t *testing.T) {
	var buf strings.Builder
	r := testRegistry(t)
	_ = r.AddOrchestrator("Logs", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		ctx.Logger().Info("before")
		if _, err := CallActivity[string](ctx, "SayHello", "x").Await(); err != nil {
			return "", err
		}
		ctx.Logger().Info("after")
		return "ok", nil
	}))
	d := newDriver(t, r)
	d.w.log = slog.New(slog.NewTextHandler(&buf, nil))
	d.start("Logs", nil)
	d.run()
	if strings.Count(buf.String(), "msg=before") != 1 || strings.Count(buf.String(), "msg=after") != 1 {
		t.Fatalf("log:\n%s", buf.String())
	}
}
