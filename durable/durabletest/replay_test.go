package durabletest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/durabletest"
)

func steps(t *testing.T, calls ...string) *durable.Registry {
	r := durable.NewRegistry()
	for _, n := range []string{"Reserve", "Charge"} {
		if err := r.AddActivity(n, durable.Activity(func(ctx context.Context, _ any) (string, error) { return "ok", nil })); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddOrchestrator("Order", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		for _, c := range calls {
			if _, err := durable.CallActivity[string](ctx, c, nil).Await(); err != nil {
				return "", err
			}
		}
		return "done", nil
	})); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReplayFailsTheTest(t *testing.T) {
	h := durabletest.New(t, steps(t, "Reserve", "Charge")).Execute("Order", nil).History()
	durabletest.Replay(t, steps(t, "Reserve", "Charge"), h) // unchanged: passes
	got := report(t, func(ft testing.TB) { durabletest.Replay(ft, steps(t, "Charge"), h) })
	if !strings.Contains(got, "instance Order-1 (Order): history event 2, TaskScheduled Reserve (EventId 0)") {
		t.Fatalf("reported %q", got)
	}
}
