package durabletest

import (
	"github.com/godurable/functions/durable"
)

// Start schedules the orchestrator of a typed handle with a typed input,
// as Tester.Start does by name.
func Start[In, Out any](tt *Tester, o *durable.OrchestratorHandle[In, Out], input In, opts ...durable.StartOption) *Instance {
	tt.t.Helper()
	return tt.Start(o.Name(), input, opts...)
}

// Execute starts the orchestrator of a typed handle and runs it until it
// finishes or nothing more can happen, as Tester.Execute does by name.
// Read its typed result with Result.
func Execute[In, Out any](tt *Tester, o *durable.OrchestratorHandle[In, Out], input In, opts ...durable.StartOption) *Instance {
	tt.t.Helper()
	return tt.Execute(o.Name(), input, opts...)
}

// Result is the output of a Completed instance of a typed orchestrator
// (the test fails, saying why, otherwise); see Output.
func Result[In, Out any](o *durable.OrchestratorHandle[In, Out], i *Instance) Out {
	i.tt.t.Helper()
	return Output[Out](i)
}

// MockActivity replaces a typed activity with fn for this Tester.
func MockActivity[In, Out any](tt *Tester, a *durable.ActivityHandle[In, Out], fn func(input In) (Out, error)) *Mock {
	tt.t.Helper()
	return tt.OnActivity(a.Name()).Do(Func(fn))
}

// MockSubOrchestrator replaces a typed orchestrator, where it is called as
// a sub-orchestration, with fn for this Tester.
func MockSubOrchestrator[In, Out any](tt *Tester, o *durable.OrchestratorHandle[In, Out], fn func(input In) (Out, error)) *Mock {
	tt.t.Helper()
	return tt.OnSubOrchestrator(o.Name()).Do(Func(fn))
}
