package durable

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/godurable/functions/durable/history"
)

type shipment struct {
	Item  string `json:"item"`
	Count int    `json:"count"`
}

var (
	handleShip = NewActivity("HandleShip", func(_ context.Context, s shipment) (string, error) {
		return strings.Repeat(s.Item, s.Count), nil
	})
	handleStock = NewEntity("HandleStock", func(ctx *EntityContext) (any, error) { return nil, nil })
	handleTake  = NewEntityOperation[int, bool](handleStock, "take")
	handleChild = NewOrchestrator("HandleChild", func(ctx *OrchestrationContext, n int) (int, error) { return n, nil })
	handleFlow  = NewOrchestrator("HandleFlow", func(ctx *OrchestrationContext, s shipment) (string, error) {
		if err := handleTake.Signal(ctx, s.Item, s.Count); err != nil {
			return "", err
		}
		if _, err := handleChild.Call(ctx, s.Count, WithChildInstanceID("child")).Await(); err != nil {
			return "", err
		}
		return handleShip.Call(ctx, s).Await()
	})
	// Declared and never registered: the worker names it at start.
	handleForgotten = NewActivity("HandleForgotten", func(_ context.Context, _ int) (int, error) { return 0, nil })
)

func TestHandlesRegisterAndCallByName(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(handleShip, handleStock, handleChild, handleFlow); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(handleShip); err == nil || !strings.Contains(err.Error(), "HandleShip") {
		t.Fatalf("registering twice: %v", err)
	}
	d := newDriver(t, r)
	d.start(handleFlow.Name(), shipment{Item: "ab", Count: 2})
	d.run()
	// The sub-orchestration and the signal leave as messages.
	var child, signal bool
	for _, m := range d.sent {
		switch {
		case m.Event.Type == history.ExecutionStarted && m.Target.InstanceID == "child" && m.Event.Name == "HandleChild":
			child = true
		case m.Event.Type == history.EventRaised && m.Target.InstanceID == "@handlestock@ab" &&
			strings.Contains(history.Deref(m.Event.Input), `"take"`):
			signal = true
		}
	}
	if !child || !signal {
		t.Fatalf("sent %d messages; child start %v, entity signal %v", len(d.sent), child, signal)
	}
	d.inbox = append(d.inbox, &history.Event{Type: history.SubOrchestrationInstanceCompleted, EventID: -1, TaskScheduledID: 1, Result: history.Str("2")})
	d.run()
	if d.state.RuntimeStatus != StatusCompleted || d.output() != `"abab"` {
		t.Fatalf("state %v output %s; history %s", d.state.RuntimeStatus, d.output(), d.eventTypes())
	}
	st := &InstanceStatus{Output: d.state.Output}
	if out, err := handleFlow.Output(st); err != nil || out != "abab" {
		t.Fatalf("Output = %q, %v", out, err)
	}
}

func TestWorkerNamesDeclaredButUnregisteredHandles(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(handleShip, handleStock, handleChild, handleFlow); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.Unregistered(), ",")
	if !strings.Contains(got, "activity HandleForgotten") || strings.Contains(got, "HandleShip") || strings.Contains(got, "HandleFlow") {
		t.Fatalf("Unregistered = %s", got)
	}
	var logs bytes.Buffer
	warnUnregistered(slog.New(slog.NewTextHandler(&logs, nil)), r)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "HandleForgotten") {
		t.Fatalf("logs: %s", logs.String())
	}
	_ = handleForgotten
}

func TestRegisterReportsEveryBadHandle(t *testing.T) {
	var nilFn func(context.Context, int) (int, error)
	err := NewRegistry().Register(NewActivity("", nilFn), NewOrchestrator[int, int]("NoFn", nil), nil)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"activity name is empty", `"NoFn" has a nil function`, "nil function handle"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 3 {
		t.Errorf("want the three errors joined: %v", err)
	}
}
