package replaycheck_test

import (
	"context"
	"fmt"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replaycheck"
)

// A history recorded with one version of an orchestrator, replayed against
// a version that calls its activities in another order.
func ExampleCheck() {
	version := func(first, second string) *durable.Registry {
		r := durable.NewRegistry()
		for _, n := range []string{"Pack", "Ship"} {
			_ = r.AddActivity(n, durable.Activity(func(ctx context.Context, _ any) (any, error) { return nil, nil }))
		}
		_ = r.AddOrchestrator("Deliver", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (any, error) {
			if _, err := durable.CallActivity[any](ctx, first, nil).Await(); err != nil {
				return nil, err
			}
			return durable.CallActivity[any](ctx, second, nil).Await()
		}))
		return r
	}
	// A stored history: GetHistory of a task hub, an export file
	// (ReadHistories) or the status API's JSON (ParseStatusJSON). Here it
	// is written by hand, as the engine records it.
	id := &history.OrchestrationInstance{InstanceID: "delivery-7", ExecutionID: "e1"}
	h := []*history.Event{
		{Type: history.OrchestratorStarted, EventID: -1},
		{Type: history.ExecutionStarted, EventID: -1, Name: "Deliver", Instance: id},
		{Type: history.TaskScheduled, EventID: 0, Name: "Pack"},
		{Type: history.OrchestratorCompleted, EventID: -1},
		{Type: history.OrchestratorStarted, EventID: -1},
		{Type: history.TaskCompleted, EventID: -1, TaskScheduledID: 0},
		{Type: history.TaskScheduled, EventID: 1, Name: "Ship"},
		{Type: history.OrchestratorCompleted, EventID: -1},
	}
	m, _ := replaycheck.Check(version("Pack", "Ship"), "", h)
	fmt.Println("same code:", m == nil)
	m, _ = replaycheck.Check(version("Ship", "Pack"), "", h)
	fmt.Println(m.InstanceID, m.EventIndex, m.Event.Name)
	// Output:
	// same code: true
	// delivery-7 2 Pack
}
