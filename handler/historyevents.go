package handler

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/godurable/functions/durable/history"
)

// historyOptions are the status query's history switches.
type historyOptions struct {
	showInput  bool // showInput (default true): Input members stay in
	showOutput bool // showHistoryOutput (default false): results are included
	// childIDs (showChildInstanceIds, default false; not a Durable Functions
	// parameter): a folded sub-orchestration result keeps its child's
	// InstanceId, so a viewer can link to the child.
	childIDs bool
}

// historyEvents turns an instance's history into the historyEvents of the
// status API, the way Durable Functions builds them (DurableClient's
// GetDurableOrchestrationStatusAsync): each event starts as Durable Task's
// own JSON for it (nativeEvent), then, in history order,
//
//   - EventType becomes the enum's name (in place);
//   - TaskScheduled and SubOrchestrationInstanceCreated lose Version and are
//     remembered; a TaskCompleted/TaskFailed (resp. SubOrchestrationInstance-
//     Completed/Failed) naming one gains ScheduledTime, FunctionName and,
//     with showInput, Input (the scheduling event's, as a JSON string), all
//     appended, and the scheduling event is dropped; TaskScheduledId goes;
//   - Result of a completed task or sub-orchestration and of
//     ExecutionCompleted is kept only with showHistoryOutput, parsed as
//     JSON; ExecutionCompleted's OrchestrationStatus becomes a name;
//   - ExecutionStarted's Name moves to FunctionName (appended), and
//     OrchestrationInstance, ParentInstance, Version and Tags go;
//   - TimerFired loses TimerId;
//   - OrchestratorStarted and OrchestratorCompleted are dropped;
//   - without showInput every Input goes; EventId and IsPlayed always go.
//
// Other payloads (Input, Reason, Details…) stay the JSON strings they are
// in Durable Task's JSON; times are written as .NET writes UTC DateTimes.
// A TaskScheduled without a result yet stays in the list.
func historyEvents(events []*history.Event, o historyOptions) []object {
	type scheduledEvent struct {
		index int
		name  string
		time  time.Time
		input *string
		child string
	}
	scheduled := map[string]scheduledEvent{}
	key := func(t history.EventType, id int) string { return t.String() + "_" + strconv.Itoa(id) }
	drop := map[int]bool{}
	fold := func(ob *object, from history.EventType, e *history.Event) {
		s, ok := scheduled[key(from, e.TaskScheduledID)]
		if !ok {
			return
		}
		ob.set("ScheduledTime", history.FormatTime(s.time))
		ob.set("FunctionName", s.name)
		if o.showInput {
			ob.set("Input", s.input)
		}
		if o.childIDs && s.child != "" {
			ob.set("InstanceId", s.child)
		}
		drop[s.index] = true
	}
	result := func(ob *object, e *history.Event, keep bool) {
		if keep {
			ob.set("Result", jsonValue(e.Result))
		} else {
			ob.remove("Result")
		}
	}

	out := make([]object, len(events))
	for i, e := range events {
		ob := nativeEvent(e)
		ob.set("EventType", e.Type.String())
		switch e.Type {
		case history.TaskScheduled, history.SubOrchestrationInstanceCreated:
			scheduled[key(e.Type, e.EventID)] = scheduledEvent{i, e.Name, e.Timestamp, e.Input, e.InstanceID}
			ob.remove("Version")
		case history.TaskCompleted, history.TaskFailed:
			fold(&ob, history.TaskScheduled, e)
			ob.remove("TaskScheduledId")
			if e.Type == history.TaskCompleted {
				result(&ob, e, o.showOutput)
			}
		case history.SubOrchestrationInstanceCompleted, history.SubOrchestrationInstanceFailed:
			fold(&ob, history.SubOrchestrationInstanceCreated, e)
			ob.remove("TaskScheduledId")
			if e.Type == history.SubOrchestrationInstanceCompleted {
				result(&ob, e, o.showOutput)
			}
		case history.ExecutionStarted:
			ob.remove("Name")
			ob.set("FunctionName", e.Name)
			for _, m := range []string{"OrchestrationInstance", "ParentInstance", "Version", "Tags"} {
				ob.remove(m)
			}
		case history.ExecutionCompleted:
			ob.set("OrchestrationStatus", e.OrchestrationStatus.String())
			result(&ob, e, o.showOutput)
		case history.TimerFired:
			ob.remove("TimerId")
		case history.OrchestratorStarted, history.OrchestratorCompleted:
			drop[i] = true
		}
		if !o.showInput {
			ob.remove("Input")
		}
		ob.remove("EventId")
		ob.remove("IsPlayed")
		out[i] = ob
	}
	kept := make([]object, 0, len(out))
	for i, ob := range out {
		if !drop[i] {
			kept = append(kept, ob)
		}
	}
	return kept
}

// nativeEvent is an event as Durable Task's Azure Storage provider returns
// history (GetOrchestrationHistoryAsync: Newtonsoft defaults, no type
// names): the class's fields, then its properties (EventType first), then
// HistoryEvent's EventId, IsPlayed and Timestamp; enums as integers,
// nulls written, payloads as strings.
func nativeEvent(e *history.Event) object {
	var ob object
	add := func(name string, v any) { ob = append(ob, member{name, v}) }
	switch e.Type {
	case history.ExecutionStarted:
		add("OrchestrationInstance", instanceObject(e.Instance))
		add("EventType", int(e.Type))
		add("ParentInstance", parentObject(e.Parent))
		add("Name", e.Name)
		add("Version", e.Version)
		add("Input", e.Input)
		add("Tags", tagsValue(e.Tags))
		add("Correlation", e.Correlation)
		add("ParentTraceContext", traceObject(e.ParentTraceContext))
		add("ScheduledStartTime", timePtr(e.ScheduledStartTime))
		add("Generation", e.Generation)
		add("GenerateNewTrace", e.GenerateNewTrace)
	case history.GenericEvent:
		add("Data", e.Data) // a field: before the properties
		add("EventType", int(e.Type))
	default:
		add("EventType", int(e.Type))
		switch e.Type {
		case history.ExecutionCompleted, history.ContinueAsNew:
			add("OrchestrationStatus", int(e.OrchestrationStatus))
			add("Result", e.Result)
			add("FailureDetails", failureObject(e.Failure))
		case history.ExecutionTerminated:
			add("Input", e.Input)
		case history.TaskScheduled:
			add("Name", e.Name)
			add("Version", e.Version)
			add("Input", e.Input)
			add("ParentTraceContext", traceObject(e.ParentTraceContext))
			add("Tags", tagsValue(e.Tags))
		case history.TaskCompleted, history.SubOrchestrationInstanceCompleted:
			add("TaskScheduledId", e.TaskScheduledID)
			add("Result", e.Result)
		case history.TaskFailed, history.SubOrchestrationInstanceFailed:
			add("TaskScheduledId", e.TaskScheduledID)
			add("Reason", e.Reason)
			add("Details", e.Details)
			add("FailureDetails", failureObject(e.Failure))
		case history.SubOrchestrationInstanceCreated:
			add("Name", e.Name)
			add("Version", e.Version)
			add("InstanceId", e.InstanceID)
			add("Input", e.Input)
			add("ClientSpanId", e.ClientSpanID)
			add("Tags", tagsValue(e.Tags))
		case history.TimerCreated:
			add("FireAt", history.FormatTime(e.FireAt))
		case history.TimerFired:
			add("TimerId", e.TimerID)
			add("FireAt", history.FormatTime(e.FireAt))
		case history.EventSent:
			add("InstanceId", e.InstanceID)
			add("Name", e.Name)
			add("Input", e.Input)
		case history.EventRaised:
			add("Name", e.Name)
			add("Input", e.Input)
			add("ParentTraceContext", traceObject(e.ParentTraceContext))
		case history.ExecutionSuspended, history.ExecutionResumed:
			add("Reason", e.Reason)
		case history.ExecutionRewound:
			add("Reason", e.Reason)
			add("ParentExecutionId", e.ParentExecutionID)
			add("InstanceId", nullIfEmpty(e.InstanceID))
			add("ParentTraceContext", traceObject(e.ParentTraceContext))
		}
	}
	add("EventId", e.EventID)
	add("IsPlayed", e.IsPlayed)
	add("Timestamp", history.FormatTime(e.Timestamp))
	return ob
}

func instanceObject(i *history.OrchestrationInstance) any {
	if i == nil {
		return nil
	}
	return object{{"InstanceId", i.InstanceID}, {"ExecutionId", nullIfEmpty(i.ExecutionID)}}
}

func parentObject(p *history.ParentInstance) any {
	if p == nil {
		return nil
	}
	return object{{"Name", p.Name}, {"OrchestrationInstance", instanceObject(&p.Instance)},
		{"TaskScheduleId", p.TaskScheduleID}, {"Version", p.Version}}
}

func traceObject(t *history.TraceContext) any {
	if t == nil {
		return nil
	}
	var start any
	if t.ActivityStartTime != nil {
		// A DateTimeOffset: Newtonsoft writes the offset, not Z.
		start = strings.TrimSuffix(history.FormatTime(*t.ActivityStartTime), "Z") + "+00:00"
	}
	return object{{"TraceParent", t.TraceParent}, {"TraceState", t.TraceState}, {"Id", t.ID},
		{"SpanId", t.SpanID}, {"ActivityStartTime", start}}
}

// failureObject is DurableTask.Core's FailureDetails as JSON.
func failureObject(f *history.FailureDetails) any {
	if f == nil {
		return nil
	}
	var props any
	if f.Properties != nil {
		keys := make([]string, 0, len(f.Properties))
		for k := range f.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p := object{}
		for _, k := range keys {
			p = append(p, member{k, f.Properties[k]})
		}
		props = p
	}
	return object{{"ErrorType", f.ErrorType}, {"ErrorMessage", f.ErrorMessage}, {"StackTrace", f.StackTrace},
		{"InnerFailure", failureObject(f.InnerFailure)}, {"IsNonRetriable", f.IsNonRetriable}, {"Properties", props}}
}

func tagsValue(tags map[string]string) any {
	if tags == nil {
		return nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ob := object{}
	for _, k := range keys {
		ob = append(ob, member{k, tags[k]})
	}
	return ob
}

func timePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return history.FormatTime(*t)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
