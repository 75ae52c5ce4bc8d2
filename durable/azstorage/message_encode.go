package azstorage

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/godurable/functions/durable/history"
)

// EncodeMessage writes m as Newtonsoft.Json writes a MessageData with
// TypeNameHandling.Objects: compact, "$type" first on every object,
// members in .NET's order, enums as integers, nulls written (except
// Episode and Sender, omitted when nil).
func EncodeMessage(m *MessageData) ([]byte, error) {
	w := &jsonWriter{}
	w.open()
	w.String("$type", typeMessageData)
	w.String("ActivityId", m.ActivityID)
	if m.TaskMessage == nil {
		w.Null("TaskMessage")
	} else if err := writeTaskMessage(w, m.TaskMessage); err != nil {
		return nil, err
	}
	w.StringPtr("CompressedBlobName", m.CompressedBlobName)
	w.Int("SequenceNumber", m.SequenceNumber)
	if m.Episode != nil {
		w.Int("Episode", int64(*m.Episode))
	}
	if m.Sender != nil {
		w.key("Sender")
		w.open() // no $type: TypeNameHandling.None on this property
		w.String("InstanceId", m.Sender.InstanceID)
		w.String("ExecutionId", m.Sender.ExecutionID)
		w.close()
	}
	w.StringPtr("SerializableTraceContext", m.SerializableTraceContext)
	w.close()
	return []byte(w.b.String()), nil
}

func writeTaskMessage(w *jsonWriter, tm *TaskMessage) error {
	w.key("TaskMessage")
	w.open()
	w.String("$type", typeTaskMessage)
	if tm.Event == nil {
		return fmt.Errorf("azstorage: encode message: TaskMessage has no event")
	}
	w.key("Event")
	if err := writeEvent(w, tm.Event); err != nil {
		return err
	}
	w.Int("SequenceNumber", tm.SequenceNumber)
	w.key("OrchestrationInstance")
	writeInstance(w, tm.OrchestrationInstance)
	if tm.ExecutionContext == nil {
		w.Null("OrchestrationExecutionContext")
	} else {
		w.key("OrchestrationExecutionContext")
		w.open()
		w.String("$type", typeExecutionContext)
		w.key("OrchestrationTags")
		writeStringDict(w, tm.ExecutionContext.OrchestrationTags, true)
		w.close()
	}
	w.close()
	return nil
}

func writeInstance(w *jsonWriter, i history.OrchestrationInstance) {
	w.open()
	w.String("$type", typeInstance)
	w.String("InstanceId", i.InstanceID)
	w.NullableString("ExecutionId", i.ExecutionID)
	w.close()
}

func writeStringDict(w *jsonWriter, m map[string]string, typed bool) {
	w.open()
	if typed {
		w.String("$type", typeStringDictionary)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.String(k, m[k])
	}
	w.close()
}

func writeTags(w *jsonWriter, k string, tags map[string]string) {
	if tags == nil {
		w.Null(k)
		return
	}
	w.key(k)
	writeStringDict(w, tags, true)
}

func writeFailure(w *jsonWriter, k string, f *history.FailureDetails, typed bool) error {
	if f == nil {
		w.Null(k)
		return nil
	}
	w.key(k)
	w.open()
	if typed {
		w.String("$type", typeFailureDetails)
	}
	w.String("ErrorType", f.ErrorType)
	w.String("ErrorMessage", f.ErrorMessage)
	w.StringPtr("StackTrace", f.StackTrace)
	if err := writeFailure(w, "InnerFailure", f.InnerFailure, typed); err != nil {
		return err
	}
	w.Bool("IsNonRetriable", f.IsNonRetriable)
	if f.Properties == nil {
		w.Null("Properties")
	} else {
		w.key("Properties")
		w.open()
		if typed {
			w.String("$type", typeObjectDictionary)
		}
		keys := make([]string, 0, len(f.Properties))
		for k := range f.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, pk := range keys {
			b, err := json.Marshal(f.Properties[pk])
			if err != nil {
				return fmt.Errorf("azstorage: failure property %q: %w", pk, err)
			}
			w.Raw(pk, b)
		}
		w.close()
	}
	w.close()
	return nil
}

func writeTrace(w *jsonWriter, k string, t *history.TraceContext, typed bool) {
	if t == nil {
		w.Null(k)
		return
	}
	w.key(k)
	w.open()
	if typed {
		w.String("$type", typeTraceContext)
	}
	w.String("TraceParent", t.TraceParent)
	w.StringPtr("TraceState", t.TraceState)
	w.StringPtr("Id", t.ID)
	w.StringPtr("SpanId", t.SpanID)
	w.TimePtr("ActivityStartTime", t.ActivityStartTime)
	w.close()
}

func writeParent(w *jsonWriter, p *history.ParentInstance, typed bool) {
	if p == nil {
		w.Null("ParentInstance")
		return
	}
	w.key("ParentInstance")
	w.open()
	if typed {
		w.String("$type", typeParentInstance)
	}
	writeParentBody(w, p, typed)
	w.close()
}

// writeEvent writes a history event with its class's members in .NET
// order: fields, then properties (EventType first), then the base members.
func writeEvent(w *jsonWriter, e *history.Event) error {
	class := e.Type.ClassName()
	if class == "" {
		return fmt.Errorf("azstorage: encode message: event type %v has no class", e.Type)
	}
	w.open()
	w.String("$type", typeHistoryPrefix+class)
	switch e.Type {
	case history.ExecutionStarted:
		inst := history.OrchestrationInstance{}
		if e.Instance != nil {
			inst = *e.Instance
		}
		w.key("OrchestrationInstance")
		writeInstance(w, inst)
		w.Int("EventType", int64(e.Type))
		writeParent(w, e.Parent, true)
		w.String("Name", e.Name)
		w.String("Version", e.Version)
		w.StringPtr("Input", e.Input)
		writeTags(w, "Tags", e.Tags)
		w.StringPtr("Correlation", e.Correlation)
		writeTrace(w, "ParentTraceContext", e.ParentTraceContext, true)
		w.TimePtr("ScheduledStartTime", e.ScheduledStartTime)
		w.IntPtr("Generation", e.Generation)
		w.Bool("GenerateNewTrace", e.GenerateNewTrace)
	case history.GenericEvent:
		w.StringPtr("Data", e.Data)
		w.Int("EventType", int64(e.Type))
	default:
		w.Int("EventType", int64(e.Type))
		if err := writeEventProperties(w, e); err != nil {
			return err
		}
	}
	w.Int("EventId", int64(e.EventID))
	w.Bool("IsPlayed", e.IsPlayed)
	w.Time("Timestamp", e.Timestamp)
	w.close()
	return nil
}

func writeEventProperties(w *jsonWriter, e *history.Event) error {
	switch e.Type {
	case history.ExecutionCompleted, history.ContinueAsNew:
		w.Int("OrchestrationStatus", int64(e.OrchestrationStatus))
		w.StringPtr("Result", e.Result)
		return writeFailure(w, "FailureDetails", e.Failure, true)
	case history.ExecutionTerminated:
		w.StringPtr("Input", e.Input)
	case history.TaskScheduled:
		w.String("Name", e.Name)
		w.String("Version", e.Version)
		w.StringPtr("Input", e.Input)
		writeTrace(w, "ParentTraceContext", e.ParentTraceContext, true)
		writeTags(w, "Tags", e.Tags)
	case history.TaskCompleted, history.SubOrchestrationInstanceCompleted:
		w.Int("TaskScheduledId", int64(e.TaskScheduledID))
		w.StringPtr("Result", e.Result)
	case history.TaskFailed, history.SubOrchestrationInstanceFailed:
		w.Int("TaskScheduledId", int64(e.TaskScheduledID))
		w.StringPtr("Reason", e.Reason)
		w.StringPtr("Details", e.Details)
		return writeFailure(w, "FailureDetails", e.Failure, true)
	case history.SubOrchestrationInstanceCreated:
		w.String("Name", e.Name)
		w.String("Version", e.Version)
		w.String("InstanceId", e.InstanceID)
		w.StringPtr("Input", e.Input)
		w.StringPtr("ClientSpanId", e.ClientSpanID)
		writeTags(w, "Tags", e.Tags)
	case history.TimerCreated:
		w.Time("FireAt", e.FireAt)
	case history.TimerFired:
		w.Int("TimerId", int64(e.TimerID))
		w.Time("FireAt", e.FireAt)
	case history.EventSent:
		w.String("InstanceId", e.InstanceID)
		w.String("Name", e.Name)
		w.StringPtr("Input", e.Input)
	case history.EventRaised:
		w.String("Name", e.Name)
		w.StringPtr("Input", e.Input)
		writeTrace(w, "ParentTraceContext", e.ParentTraceContext, true)
	case history.ExecutionSuspended, history.ExecutionResumed:
		w.StringPtr("Reason", e.Reason)
	case history.ExecutionRewound:
		w.StringPtr("Reason", e.Reason)
		w.StringPtr("ParentExecutionId", e.ParentExecutionID)
		w.NullableString("InstanceId", e.InstanceID)
		writeTrace(w, "ParentTraceContext", e.ParentTraceContext, true)
	}
	return nil
}
