package handler

import (
	"github.com/godurable/functions/durable/history"
)

// historyOptions are the status query's history switches.
type historyOptions struct {
	showInput  bool // showInput: inputs stay in (default true)
	showOutput bool // showHistoryOutput: results are included
}

// historyEvents turns an instance's history into the historyEvents of the
// status API, as Durable Functions shapes them: OrchestratorStarted and
// OrchestratorCompleted are dropped, each TaskScheduled or
// SubOrchestrationInstanceCreated is folded into its completion (which
// gains FunctionName, ScheduledTime and Input), ExecutionStarted names its
// FunctionName, results appear only with showHistoryOutput, inputs only
// with showInput, and EventId/IsPlayed are left out.
func historyEvents(events []*history.Event, o historyOptions) []object {
	scheduled := map[int]*history.Event{}
	for _, e := range events {
		if e.Type == history.TaskScheduled || e.Type == history.SubOrchestrationInstanceCreated {
			scheduled[e.EventID] = e
		}
	}
	out := []object{}
	for _, e := range events {
		ob := object{{"EventType", e.Type.String()}}
		add := func(name string, v any) { ob = append(ob, member{name, v}) }
		input := func(s *string) {
			if o.showInput {
				add("Input", jsonValue(s))
			}
		}
		result := func(s *string) {
			if o.showOutput {
				add("Result", jsonValue(s))
			}
		}
		folded := func() {
			if s := scheduled[e.TaskScheduledID]; s != nil {
				add("FunctionName", s.Name)
				add("ScheduledTime", history.FormatTime(s.Timestamp))
				input(s.Input)
			}
		}
		switch e.Type {
		case history.OrchestratorStarted, history.OrchestratorCompleted, history.TaskScheduled, history.SubOrchestrationInstanceCreated:
			continue
		case history.ExecutionStarted:
			add("FunctionName", e.Name)
			input(e.Input)
			if e.ScheduledStartTime != nil {
				add("ScheduledStartTime", history.FormatTime(*e.ScheduledStartTime))
			}
		case history.ExecutionCompleted, history.ContinueAsNew:
			add("OrchestrationStatus", e.OrchestrationStatus.String())
			result(e.Result)
			if e.Failure != nil {
				add("FailureDetails", failureObject(e.Failure))
			}
		case history.TaskCompleted, history.SubOrchestrationInstanceCompleted:
			result(e.Result)
			folded()
		case history.TaskFailed, history.SubOrchestrationInstanceFailed:
			add("Reason", e.Reason)
			add("Details", e.Details)
			folded()
		case history.TimerCreated, history.TimerFired:
			add("FireAt", history.FormatTime(e.FireAt))
		case history.EventRaised:
			add("Name", e.Name)
			input(e.Input)
		case history.EventSent:
			add("InstanceId", e.InstanceID)
			add("Name", e.Name)
			input(e.Input)
		case history.ExecutionTerminated:
			input(e.Input)
		case history.ExecutionSuspended, history.ExecutionResumed, history.ExecutionRewound:
			add("Reason", e.Reason)
		case history.GenericEvent:
			add("Data", e.Data)
		}
		add("Timestamp", history.FormatTime(e.Timestamp))
		out = append(out, ob)
	}
	return out
}

func failureObject(f *history.FailureDetails) object {
	if f == nil {
		return nil
	}
	ob := object{{"ErrorType", f.ErrorType}, {"ErrorMessage", f.ErrorMessage}, {"StackTrace", f.StackTrace}}
	if f.InnerFailure != nil {
		ob = append(ob, member{"InnerFailure", failureObject(f.InnerFailure)})
	}
	return append(ob, member{"IsNonRetriable", f.IsNonRetriable})
}
