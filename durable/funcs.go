package durable

import "context"

// OrchestratorFunc is an orchestrator in untyped form: it reads its input
// from the context and returns its output as a JSON-marshalable value.
// Adapt a typed function with Orchestrator.
type OrchestratorFunc func(ctx *OrchestrationContext) (any, error)

// ActivityFunc is an activity in untyped form. Adapt a typed function with
// Activity.
type ActivityFunc func(ctx context.Context, input []byte) (any, error)

// OrchestrationContext is placeholder until the replay engine lands.
type OrchestrationContext struct{}
