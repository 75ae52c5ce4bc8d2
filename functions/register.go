package functions

import (
	"errors"

	"github.com/godurable/functions/durable"
)

// Register adds every sample orchestrator and activity to r under the
// names clients and HTTP routes use.
func Register(r *durable.Registry) error {
	return errors.Join(
		r.AddOrchestrator("HelloCities", durable.Orchestrator(HelloCities)),
		r.AddActivity("SayHello", durable.Activity(SayHello)),
		r.AddOrchestrator("FanOutFanIn", durable.Orchestrator(FanOutFanIn)),
		r.AddActivity("Square", durable.Activity(Square)),
		r.AddOrchestrator("Approval", durable.Orchestrator(Approval)),
		r.AddOrchestrator("Countdown", durable.Orchestrator(Countdown)),
		r.AddOrchestrator("RetryFlaky", durable.Orchestrator(RetryFlaky)),
		r.AddActivity("Flaky", durable.Activity(Flaky)),
		r.AddOrchestrator("CallFlaky", durable.Orchestrator(CallFlaky)),
		r.AddOrchestrator("CatchFailure", durable.Orchestrator(CatchFailure)),
		r.AddOrchestrator("Crash", durable.Orchestrator(Crash)),
		r.AddActivity("AlwaysFails", durable.Activity(AlwaysFails)),
		r.AddOrchestrator("ParentChild", durable.Orchestrator(ParentChild)),
		r.AddOrchestrator("Sleeper", durable.Orchestrator(Sleeper)),
		r.AddOrchestrator("CrossAppCaller", durable.Orchestrator(CrossAppCaller)),
		r.AddActivity("StartRemoteOrchestration", durable.Activity(StartRemoteOrchestration)),
		r.AddActivity("CheckIsComplete", durable.Activity(CheckIsComplete)),
		r.AddOrchestrator("ProcessOrder", durable.Orchestrator(ProcessOrder)),
		r.AddEntity("Counter", Counter),
		r.AddOrchestrator("CounterWorkflow", durable.Orchestrator(CounterWorkflow)),
		r.AddActivity("ReserveItem", durable.Activity(ReserveItem)),
	)
}
