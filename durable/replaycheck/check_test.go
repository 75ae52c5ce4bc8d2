package replaycheck_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/durabletest"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replaycheck"
)

// version builds a registry whose "Order" orchestrator calls the given
// activities in turn, then waits for "Go" when wait is set.
func version(t *testing.T, calls []string, wait bool) *durable.Registry {
	r := durable.NewRegistry()
	for _, n := range []string{"Reserve", "Charge", "Ship", "Notify"} {
		name := n
		if err := r.AddActivity(name, durable.Activity(func(ctx context.Context, _ any) (string, error) { return name + " ok", nil })); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddOrchestrator("Order", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		for _, c := range calls {
			if _, err := durable.CallActivity[string](ctx, c, nil).Await(); err != nil {
				return "", err
			}
		}
		if wait {
			if _, err := durable.WaitForExternalEvent[string](ctx, "Go").Await(); err != nil {
				return "", err
			}
		}
		return "done", nil
	})); err != nil {
		t.Fatal(err)
	}
	return r
}

// record runs a version and returns the history it stored.
func record(t *testing.T, r *durable.Registry) []*history.Event {
	tt := durabletest.New(t, r)
	return tt.Execute("Order", nil).History()
}

func TestReplayReportsCodeChanges(t *testing.T) {
	completed := record(t, version(t, []string{"Reserve", "Charge", "Ship"}, false))
	waiting := record(t, version(t, []string{"Reserve", "Charge"}, true))
	cases := []struct {
		name     string
		h        []*history.Event
		code     *durable.Registry
		index    int // -1: replays clean
		event    string
		contains string
	}{
		{"unchanged completed", completed, version(t, []string{"Reserve", "Charge", "Ship"}, false), -1, "", ""},
		{"unchanged waiting", waiting, version(t, []string{"Reserve", "Charge"}, true), -1, "", ""},
		{"activity renamed", completed, version(t, []string{"Reserve", "Bill", "Ship"}, false), 6, "TaskScheduled Charge (EventId 1)",
			`"Bill"`},
		{"order swapped", completed, version(t, []string{"Charge", "Reserve", "Ship"}, false), 2, "TaskScheduled Reserve (EventId 0)", `"Charge"`},
		{"call removed", completed, version(t, []string{"Reserve", "Charge"}, false), 10, "TaskScheduled Ship (EventId 2)",
			"has already finished (Completed)"},
		{"call added", completed, version(t, []string{"Reserve", "Charge", "Ship", "Notify"}, false), 14, "ExecutionCompleted",
			"does not finish"},
		{"call added before a wait", waiting, version(t, []string{"Reserve", "Charge", "Ship"}, true), 11, "end of history",
			"also schedules TaskScheduled Ship (EventId 2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := replaycheck.Check(c.code, "", c.h)
			if err != nil {
				t.Fatal(err)
			}
			if c.index < 0 {
				if m != nil {
					t.Fatalf("unchanged code reported: %v", m)
				}
				return
			}
			if m == nil {
				t.Fatal("no mismatch reported")
			}
			if m.InstanceID != "Order-1" || m.Orchestrator != "Order" || m.EventIndex != c.index || !strings.Contains(m.Error(), c.event) ||
				!strings.Contains(m.Reason, c.contains) {
				t.Fatalf("mismatch = %v (index %d)", m, m.EventIndex)
			}
		})
	}
}

func TestReplayOfContinueAsNewAndTimers(t *testing.T) {
	r := durable.NewRegistry()
	_ = r.AddOrchestrator("Loop", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
		if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(time.Hour)).Await(); err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, ctx.ContinueAsNew(n - 1)
		}
		return 42, nil
	}))
	tt := durabletest.New(t, r)
	inst := tt.Start("Loop", 2)
	tt.Advance(90 * time.Minute) // the second generation waits on its timer
	for _, phase := range []string{"waiting", "done"} {
		if phase == "done" {
			tt.RunUntilDone(inst)
		}
		if m, err := replaycheck.Check(r, "", inst.History()); m != nil || err != nil {
			t.Fatalf("%s: %v, %v", phase, m, err)
		}
	}
}

func TestReplayOfAnUnknownOrchestrator(t *testing.T) {
	h := record(t, version(t, []string{"Reserve"}, false))
	m, err := replaycheck.Check(durable.NewRegistry(), "", h)
	if err != nil || m == nil || m.EventIndex != 1 || !strings.Contains(m.Reason, `no orchestrator named "Order"`) {
		t.Fatalf("mismatch %v, err %v", m, err)
	}
	if _, err := replaycheck.Check(durable.NewRegistry(), "x", nil); err == nil {
		t.Fatal("an empty history replayed")
	}
}
