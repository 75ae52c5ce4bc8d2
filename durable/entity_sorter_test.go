package durable

import (
	"encoding/json"

	"github.com/godurable/functions/durable/history"
	"testing"
	"time"
)

func TestSorterDeliversInOrderAndDropsDuplicates(t *testing.T) {
	parent, exec := "orch", "e1"
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	req := func(i int) entityRequest {
		r := entityRequest{ID: string(rune('a' + i)), Parent: &parent, ParentExecution: &exec,
			Timestamp: dotNetTime(base.Add(time.Duration(i) * time.Second)), Predecessor: minDotNetTime}
		if i > 0 {
			r.Predecessor = dotNetTime(base.Add(time.Duration(i-1) * time.Second))
		}
		return r
	}
	var s messageSorter
	w := defaultReorderWindow
	ids := func(rs []entityRequest) string {
		out := ""
		for _, r := range rs {
			out += r.ID
		}
		return out
	}
	if got := ids(s.receive(req(0), w)); got != "a" {
		t.Fatalf("first: %q", got)
	}
	if got := ids(s.receive(req(2), w)); got != "" {
		t.Fatalf("ahead of its predecessor, c must wait: %q", got)
	}
	if got := ids(s.receive(req(1), w)); got != "bc" {
		t.Fatalf("b releases c: %q", got)
	}
	if got := ids(s.receive(req(1), w)); got != "" {
		t.Fatalf("a re-sent b is a duplicate: %q", got)
	}
	other := "e2" // a new execution of the sender starts a new sequence
	r := req(0)
	r.ParentExecution = &other
	if got := ids(s.receive(r, w)); got != "a" {
		t.Fatalf("new execution: %q", got)
	}
	if got := ids(s.receive(entityRequest{ID: "z", Timestamp: minDotNetTime, Predecessor: minDotNetTime}, w)); got != "z" {
		t.Fatalf("client signals are not sorted: %q", got)
	}
}

// An orchestrator that fails inside a critical section still releases it.
func TestLocksReleasedWhenOrchestratorFails(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Fails", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		if _, err := LockEntities(ctx, NewEntityID("Counter", "x")); err != nil {
			return nil, err
		}
		panic("inside the lock")
	}))
	d := newDriver(t, r)
	d.start("Fails", nil)
	d.run()
	if len(d.sent) != 1 || d.sent[0].Event.Name != "op" {
		t.Fatalf("lock request: %+v", d.sent)
	}
	var req entityRequest
	_ = json.Unmarshal([]byte(*d.sent[0].Event.Input), &req)
	grant := `{"result":"Lock Acquisition Completed"}`
	d.inbox = append(d.inbox, &history.Event{Type: history.EventRaised, EventID: -1, Name: req.ID, Input: &grant})
	d.run()
	if d.state.RuntimeStatus != StatusFailed || len(d.sent) != 2 || d.sent[1].Event.Name != "release" || d.sent[1].Target.InstanceID != "@counter@x" {
		t.Fatalf("status %v, sent %+v", d.state.RuntimeStatus, d.sent)
	}
}
