package azstorage

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/history"
)

// EncodeMessage writes m as DurableTask.AzureStorage writes a MessageData:
// compact JSON as Newtonsoft.Json produces it with
// TypeNameHandling.Objects, "$type" first on every object (but not on
// Sender), members in .NET's order, enums as integers, DateTimes in
// round-trip form with "Z", and null members written as null except
// Episode and Sender, which are left out when nil. Dictionary keys (tags)
// are written in sorted order. The result is the raw UTF-8 queue body
// that DurableTask.AzureStorage 2.x writes; see encodeMessageBase64 for
// hubs shared with 1.x workers.
func EncodeMessage(m *MessageData) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("azstorage: encode message: nil MessageData")
	}
	w := &jsonWriter{buf: make([]byte, 0, 1024)}
	w.beginObject()
	w.str("$type", typeMessageData)
	activity := m.ActivityID
	if activity == "" {
		activity = emptyGUID
	}
	w.str("ActivityId", activity)
	w.name("TaskMessage")
	if m.TaskMessage == nil {
		w.nullValue()
	} else if err := writeTaskMessage(w, m.TaskMessage); err != nil {
		return nil, err
	}
	w.strPtr("CompressedBlobName", m.CompressedBlobName)
	w.int("SequenceNumber", m.SequenceNumber)
	if m.Episode != nil {
		w.int("Episode", int64(*m.Episode))
	}
	if m.Sender != nil {
		w.name("Sender")
		w.beginObject() // TypeNameHandling.None on this property: no $type
		w.str("InstanceId", m.Sender.InstanceID)
		w.str("ExecutionId", m.Sender.ExecutionID)
		w.endObject()
	}
	w.strPtr("SerializableTraceContext", m.SerializableTraceContext)
	w.endObject()
	return w.bytes(), nil
}

// encodeMessageBase64 is EncodeMessage's body in base64, the form
// DurableTask.AzureStorage 1.x (Durable Functions 2.x) writes and the only
// one it reads. Every version reads it.
func encodeMessageBase64(m *MessageData) (string, error) {
	raw, err := EncodeMessage(m)
	if err != nil {
		return "", err
	}
	return encodeBase64(raw), nil
}

// encodeBase64 is the base64 (standard alphabet, padded) form of an
// encoded message body.
func encodeBase64(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

func writeTaskMessage(w *jsonWriter, tm *TaskMessage) error {
	if tm.Event == nil {
		return fmt.Errorf("azstorage: encode message: the TaskMessage has no event")
	}
	w.beginObject()
	w.str("$type", typeTaskMessage)
	w.name("Event")
	if err := writeEventObject(w, tm.Event); err != nil {
		return fmt.Errorf("azstorage: encode message: %w", err)
	}
	w.int("SequenceNumber", tm.SequenceNumber)
	w.name("OrchestrationInstance")
	writeInstanceObject(w, tm.OrchestrationInstance, true)
	w.name("OrchestrationExecutionContext")
	if tm.ExecutionContext == nil {
		w.nullValue()
	} else {
		w.beginObject()
		w.str("$type", typeExecutionContext)
		w.name("OrchestrationTags")
		writeTagsObject(w, tm.ExecutionContext.OrchestrationTags, true)
		w.endObject()
	}
	w.endObject()
	return nil
}

// writeEventObject writes a history event as its DurableTask.Core class:
// "$type" and then every data member in the class's order.
func writeEventObject(w *jsonWriter, e *history.Event) error {
	members, err := eventMembers(e.Type)
	if err != nil {
		return err
	}
	w.beginObject()
	w.str("$type", typeHistoryPrefix+e.Type.ClassName())
	for _, m := range members {
		w.name(m)
		if err := writeMessageValue(w, eventMemberValue(e, m)); err != nil {
			return fmt.Errorf("%s.%s: %w", e.Type.ClassName(), m, err)
		}
	}
	w.endObject()
	return nil
}

// writeMessageValue writes one member value in queue form: enums as
// integers and complex values as objects with "$type".
func writeMessageValue(w *jsonWriter, v any) error {
	switch x := v.(type) {
	case history.EventType:
		w.intValue(int64(x))
	case history.OrchestrationStatus:
		w.intValue(int64(x))
	case int:
		w.intValue(int64(x))
	case bool:
		w.boolValue(x)
	case string:
		w.stringValue(x)
	case *string:
		if x == nil {
			w.nullValue()
		} else {
			w.stringValue(*x)
		}
	case *int:
		if x == nil {
			w.nullValue()
		} else {
			w.intValue(int64(*x))
		}
	case time.Time:
		w.stringValue(formatDotNetTime(x))
	case *time.Time:
		if x == nil {
			w.nullValue()
		} else {
			w.stringValue(formatDotNetTime(*x))
		}
	case map[string]string:
		writeTagsObject(w, x, true)
	case *history.OrchestrationInstance:
		if x == nil {
			w.nullValue()
		} else {
			writeInstanceObject(w, *x, true)
		}
	case *history.ParentInstance:
		writeParentObject(w, x, true)
	case *history.FailureDetails:
		return writeFailureObject(w, x, true)
	case *history.TraceContext:
		writeTraceObject(w, x, true)
	case complexNull:
		w.nullValue()
	default:
		return fmt.Errorf("unsupported member value of type %T", v)
	}
	return nil
}

// The complex member writers below serve both forms: typed (queue
// messages, "$type" first) and untyped (table columns, Newtonsoft's
// default settings).

func writeInstanceObject(w *jsonWriter, inst history.OrchestrationInstance, typed bool) {
	w.beginObject()
	if typed {
		w.str("$type", typeInstance)
	}
	w.str("InstanceId", inst.InstanceID)
	w.strOrNull("ExecutionId", inst.ExecutionID)
	w.endObject()
}

func writeParentObject(w *jsonWriter, p *history.ParentInstance, typed bool) {
	if p == nil {
		w.nullValue()
		return
	}
	w.beginObject()
	if typed {
		w.str("$type", typeParentInstance)
	}
	w.str("Name", p.Name)
	w.name("OrchestrationInstance")
	writeInstanceObject(w, p.Instance, typed)
	w.int("TaskScheduleId", int64(p.TaskScheduleID))
	w.str("Version", p.Version)
	w.endObject()
}

// writeTagsObject writes a Dictionary<string,string>: null for nil, keys
// sorted (Go maps have no insertion order to keep).
func writeTagsObject(w *jsonWriter, tags map[string]string, typed bool) {
	if tags == nil {
		w.nullValue()
		return
	}
	w.beginObject()
	if typed {
		w.str("$type", typeStringDictionary)
	}
	for _, k := range sortedKeys(tags) {
		w.str(k, tags[k])
	}
	w.endObject()
}

func writeFailureObject(w *jsonWriter, f *history.FailureDetails, typed bool) error {
	if f == nil {
		w.nullValue()
		return nil
	}
	w.beginObject()
	if typed {
		w.str("$type", typeFailureDetails)
	}
	w.str("ErrorType", f.ErrorType)
	w.str("ErrorMessage", f.ErrorMessage)
	w.strPtr("StackTrace", f.StackTrace)
	w.name("InnerFailure")
	if err := writeFailureObject(w, f.InnerFailure, typed); err != nil {
		return err
	}
	w.bool("IsNonRetriable", f.IsNonRetriable)
	w.name("Properties")
	if f.Properties == nil {
		w.nullValue()
	} else {
		w.beginObject()
		if typed {
			w.str("$type", typeObjectDictionary)
		}
		for _, k := range sortedKeys(f.Properties) {
			w.name(k)
			if err := w.anyValue(f.Properties[k]); err != nil {
				return fmt.Errorf("failure property %q: %w", k, err)
			}
		}
		w.endObject()
	}
	w.endObject()
	return nil
}

// maxTraceStateLength is the longest TraceState DistributedTraceContext
// keeps; its setter turns longer values into null.
const maxTraceStateLength = 513

func writeTraceObject(w *jsonWriter, t *history.TraceContext, typed bool) {
	if t == nil {
		w.nullValue()
		return
	}
	w.beginObject()
	if typed {
		w.str("$type", typeTraceContext)
	}
	w.str("TraceParent", t.TraceParent)
	state := t.TraceState
	if state != nil && utf16Length(*state) > maxTraceStateLength {
		state = nil
	}
	w.strPtr("TraceState", state)
	w.strPtr("Id", t.ID)
	w.strPtr("SpanId", t.SpanID)
	w.name("ActivityStartTime") // a DateTimeOffset?: written with an offset
	if t.ActivityStartTime == nil {
		w.nullValue()
	} else {
		w.stringValue(formatDotNetTimeOffset(*t.ActivityStartTime))
	}
	w.endObject()
}
