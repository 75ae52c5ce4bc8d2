package durable

import (
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replay"
)

// episode is one orchestration episode turned into a checkpoint: the pure
// part of the orchestration dispatcher, as DurableTask.Core does it. Given
// the work item, the time and the replay outcome it lays out the history
// the episode appends and the messages it sends.
type episode struct {
	started   *history.Event // the execution's ExecutionStarted
	now       time.Time
	newEvents []*history.Event // OrchestratorStarted + inbound events, as applied
	outcome   *replay.Outcome
	suspended bool // the instance is suspended after the episode
	newExecID func() string
	// storeInputs keeps activity and sub-orchestration inputs in the
	// TaskScheduled and SubOrchestrationInstanceCreated history events
	// (storeInputsInOrchestrationHistory); by default, as in Durable
	// Functions, only the messages carry them.
	storeInputs bool
}

// checkpoint builds the backend checkpoint of the episode.
func (ep *episode) checkpoint() *backend.Checkpoint {
	cp := &backend.Checkpoint{}
	self := *ep.started.Instance
	// Inbound events went through the executor, so Durable Task stores
	// them with IsPlayed set; OrchestratorStarted and the events created
	// below are stored unplayed.
	for _, e := range ep.newEvents {
		e.IsPlayed = e.Type != history.OrchestratorStarted
	}
	events := append([]*history.Event(nil), ep.newEvents...)
	for _, a := range ep.outcome.Actions {
		e := a.Event(ep.now)
		stored := e
		if a.Kind == replay.CreateSubOrchestration {
			// Core gives the child the parent's tags merged under its own.
			stored.Tags = mergeTags(a.Tags, ep.started.Tags)
		}
		if !ep.storeInputs && (a.Kind == replay.ScheduleTask || a.Kind == replay.CreateSubOrchestration) {
			c := *e
			c.Input = nil
			stored = &c
		}
		events = append(events, stored)
		switch a.Kind {
		case replay.ScheduleTask:
			cp.Outbound = append(cp.Outbound, backend.OutboundMessage{Event: e, Target: self})
		case replay.CreateTimer:
			fired := &history.Event{Type: history.TimerFired, EventID: -1, Timestamp: ep.now, TimerID: a.ID, FireAt: a.FireAt}
			cp.Timers = append(cp.Timers, backend.OutboundMessage{Event: fired, Target: self, VisibleAt: a.FireAt})
		case replay.CreateSubOrchestration:
			// No Generation: Core leaves it unset on a child's start, so
			// the child's Instances row keeps the value it has.
			child := history.OrchestrationInstance{InstanceID: a.InstanceID, ExecutionID: ep.newExecID()}
			start := &history.Event{
				Type: history.ExecutionStarted, EventID: -1, Timestamp: ep.now,
				Instance: &child, Name: a.Name, Version: a.Version, Input: a.Input, Tags: e.Tags,
				Parent: &history.ParentInstance{Name: ep.started.Name, Version: ep.started.Version, Instance: self, TaskScheduleID: a.ID},
			}
			cp.Outbound = append(cp.Outbound, backend.OutboundMessage{Event: start, Target: child})
		case replay.SendEvent:
			raised := &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: ep.now, Name: a.Name, Input: a.Input}
			cp.Outbound = append(cp.Outbound, backend.OutboundMessage{Event: raised, Target: history.OrchestrationInstance{InstanceID: a.InstanceID}})
		}
	}
	cp.State = backend.InstanceUpdate{RuntimeStatus: history.StatusRunning, CustomStatus: ep.outcome.CustomStatus}
	if ep.suspended {
		cp.State.RuntimeStatus = history.StatusSuspended
	}
	out := ep.outcome
	if out.Done {
		typ := history.ExecutionCompleted
		if out.Status == history.StatusContinuedAsNew {
			typ = history.ContinueAsNew
		}
		result := out.Output
		if out.Status == history.StatusFailed && out.Failure != nil {
			// Durable Functions' wording, which is also the instance's output.
			msg := ep.failedResult(out.Failure)
			result = &msg
		}
		events = append(events, &history.Event{
			Type: typ, EventID: out.CompletionID, Timestamp: ep.now,
			OrchestrationStatus: out.Status, Result: result, Failure: out.Failure,
		})
		cp.State.RuntimeStatus = out.Status
		cp.State.Output = result
		if out.Status.IsTerminal() {
			cp.State.CompletedTime = ep.now
			if p := ep.started.Parent; p != nil {
				cp.Outbound = append(cp.Outbound, backend.OutboundMessage{Event: ep.parentNotice(out), Target: p.Instance})
			}
		}
	}
	events = append(events, &history.Event{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: ep.now})
	cp.NewEvents = events
	return cp
}

// parentNotice is the completion message a sub-orchestration sends its parent.
func (ep *episode) parentNotice(out *replay.Outcome) *history.Event {
	id := ep.started.Parent.TaskScheduleID
	if out.Status == history.StatusCompleted {
		return &history.Event{Type: history.SubOrchestrationInstanceCompleted, EventID: -1, Timestamp: ep.now, TaskScheduledID: id, Result: out.Output}
	}
	f := out.Failure
	if f == nil { // terminated, canceled: the reason, and no exception
		f = &history.FailureDetails{ErrorType: out.Status.String(), ErrorMessage: "sub-orchestration ended " + out.Status.String() + ": " + history.Deref(out.Output)}
		reason := history.Deref(out.Output)
		return &history.Event{Type: history.SubOrchestrationInstanceFailed, EventID: -1, Timestamp: ep.now, TaskScheduledID: id, Reason: &reason, Failure: f}
	}
	// As Durable Functions: Reason is the child's result text ("Orchestrator
	// function 'X' failed: …") and Details its error as .NET exception JSON.
	reason := ep.failedResult(f)
	details := history.ExceptionJSON(f)
	return &history.Event{Type: history.SubOrchestrationInstanceFailed, EventID: -1, Timestamp: ep.now, TaskScheduledID: id,
		Reason: &reason, Details: &details, Failure: f}
}

// continuedHistory is the first events of the execution that follows a
// continue-as-new: a fresh ExecutionStarted with the new input, plus the
// external events carried over.
func (ep *episode) continuedHistory() []*history.Event {
	s := ep.started
	inst := history.OrchestrationInstance{InstanceID: s.Instance.InstanceID, ExecutionID: ep.newExecID()}
	start := &history.Event{
		Type: history.ExecutionStarted, EventID: -1, Timestamp: ep.now, Instance: &inst,
		Parent: s.Parent, Name: s.Name, Version: s.Version, Input: ep.outcome.Output, Tags: cloneTags(s.Tags),
	}
	return append([]*history.Event{start}, ep.outcome.CarryOver...)
}

// fireAndForgetTag marks an instance started without a parent waiting for
// it; Core does not pass it on to children.
const fireAndForgetTag = "FireAndForget"

// mergeTags is Core's tag merge for a sub-orchestration: the call's own
// tags, then the parent's that it does not set, FireAndForget left out.
func mergeTags(own, parent map[string]string) map[string]string {
	if parent == nil {
		return own
	}
	out := make(map[string]string, len(own)+len(parent))
	for k, v := range parent {
		if k != fireAndForgetTag {
			out[k] = v
		}
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

func cloneTags(tags map[string]string) map[string]string {
	if tags == nil {
		return nil
	}
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		out[k] = v
	}
	return out
}

// failedResult is the Result of a failed orchestration's ExecutionCompleted
// as Durable Functions writes it, which is also the instance's Output.
func (ep *episode) failedResult(f *history.FailureDetails) string {
	return "Orchestrator function '" + ep.started.Name + "' failed: " + f.ErrorMessage
}
