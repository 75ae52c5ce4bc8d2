package functions

import "github.com/godurable/functions/durable"

// ParentChild runs HelloCities as a sub-orchestration with the instance
// id "{parentId}:child" and returns its greetings.
func ParentChild(ctx *durable.OrchestrationContext, _ any) ([]string, error) {
	return durable.CallSubOrchestrator[[]string](ctx, "HelloCities", nil,
		durable.WithChildInstanceID(ctx.InstanceID()+":child")).Await()
}
