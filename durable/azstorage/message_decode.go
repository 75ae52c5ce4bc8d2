package azstorage

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/godurable/functions/durable/history"
)

// utf8BOM is the byte order mark some writers put before JSON text.
var utf8BOM = []byte("\xef\xbb\xbf")

// decodeMessage reads a queue message body written by any Durable Task
// writer. A body that starts with '{' (after an optional
// byte order mark and white space) is JSON; anything else is base64 of
// the UTF-8 JSON. Reading is lenient the way Newtonsoft.Json is: "$type"
// may carry an assembly suffix (", DurableTask.Core") or be anywhere in
// its object, member names match exactly or else case-insensitively,
// unknown members are ignored, missing ones take their defaults, and
// enums may be integers or names. The history event's class comes from
// its "$type" (or, without one, from its EventType); an unknown class is
// an error.
//
// A large-message wrapper (no TaskMessage, CompressedBlobName set) is
// returned as such: see MessageData.IsLargeMessageWrapper.
func decodeMessage(body []byte) (*MessageData, error) {
	text, err := messageJSONText(body)
	if err != nil {
		return nil, err
	}
	root, err := parseJSONObject(text)
	if err != nil {
		return nil, fmt.Errorf("azstorage: decode message: %w", err)
	}
	r := &memberReader{get: root.lookup}
	m := &MessageData{
		ActivityID:               r.string("ActivityId"),
		CompressedBlobName:       r.stringPtr("CompressedBlobName"),
		SequenceNumber:           r.int64("SequenceNumber"),
		Episode:                  r.intPtr("Episode"),
		SerializableTraceContext: r.stringPtr("SerializableTraceContext"),
	}
	if s := r.object("Sender"); s != nil {
		m.Sender = &history.OrchestrationInstance{}
		*m.Sender, err = instanceFromObject(s)
		if err != nil {
			return nil, fmt.Errorf("azstorage: decode message: Sender: %w", err)
		}
	}
	tm := r.object("TaskMessage")
	if r.err != nil {
		return nil, fmt.Errorf("azstorage: decode message: %w", r.err)
	}
	if tm == nil {
		if !m.IsLargeMessageWrapper() {
			return nil, fmt.Errorf("azstorage: decode message: it has neither a TaskMessage nor a CompressedBlobName")
		}
		return m, nil
	}
	if m.TaskMessage, err = taskMessageFromObject(tm); err != nil {
		return nil, fmt.Errorf("azstorage: decode message: %w", err)
	}
	return m, nil
}

// messageJSONText strips a byte order mark and white space from a queue
// message body and base64-decodes it unless it already is a JSON object.
func messageJSONText(body []byte) ([]byte, error) {
	text := bytes.TrimSpace(bytes.TrimPrefix(body, utf8BOM))
	if len(text) == 0 {
		return nil, fmt.Errorf("azstorage: decode message: the body is empty")
	}
	if text[0] == '{' {
		return text, nil
	}
	compact := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, text)
	dec, err := base64.StdEncoding.DecodeString(string(compact))
	if err != nil {
		var err2 error
		if dec, err2 = base64.RawStdEncoding.DecodeString(string(compact)); err2 != nil {
			return nil, fmt.Errorf("azstorage: decode message: the body is neither JSON nor base64: %w", err)
		}
	}
	dec = bytes.TrimSpace(bytes.TrimPrefix(dec, utf8BOM))
	if len(dec) == 0 || dec[0] != '{' {
		return nil, fmt.Errorf("azstorage: decode message: the base64 body does not hold a JSON object")
	}
	return dec, nil
}

func taskMessageFromObject(o jsonObject) (*TaskMessage, error) {
	r := &memberReader{get: o.lookup}
	tm := &TaskMessage{SequenceNumber: r.int64("SequenceNumber")}
	if inst := r.object("OrchestrationInstance"); inst != nil {
		var err error
		if tm.OrchestrationInstance, err = instanceFromObject(inst); err != nil {
			return nil, fmt.Errorf("TaskMessage.OrchestrationInstance: %w", err)
		}
	}
	if ec := r.object("OrchestrationExecutionContext"); ec != nil {
		er := &memberReader{get: ec.lookup}
		tm.ExecutionContext = &ExecutionContext{OrchestrationTags: er.stringMap("OrchestrationTags")}
		if er.err != nil {
			return nil, fmt.Errorf("TaskMessage.OrchestrationExecutionContext: %w", er.err)
		}
	}
	ev := r.object("Event")
	if r.err != nil {
		return nil, fmt.Errorf("TaskMessage: %w", r.err)
	}
	if ev == nil {
		return nil, fmt.Errorf("the TaskMessage has no Event")
	}
	typ, err := eventTypeOfObject(ev)
	if err != nil {
		return nil, err
	}
	e, err := eventFromMembers(typ, &memberReader{get: ev.lookup})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typ.ClassName(), err)
	}
	tm.Event = e
	return tm, nil
}

// eventTypeOfObject finds a queued event's type: from its "$type" class
// name when present (the class decides, as in .NET), else from its
// EventType member.
func eventTypeOfObject(o jsonObject) (history.EventType, error) {
	if v, ok := o.lookup("$type"); ok && v != nil {
		name, ok := v.(string)
		if !ok {
			return 0, fmt.Errorf("the event's $type is a %s, not a string", jsonKind(v))
		}
		return eventTypeForTypeName(name)
	}
	if _, ok := o.lookup(mEventType); !ok {
		return 0, fmt.Errorf("the event has neither a $type nor an EventType")
	}
	r := &memberReader{get: o.lookup}
	t := r.eventType(mEventType)
	return t, r.err
}

// eventTypeForTypeName maps a .NET type name such as
// "DurableTask.Core.History.TaskScheduledEvent, DurableTask.Core" to its
// event type; any assembly suffix is ignored.
func eventTypeForTypeName(typeName string) (history.EventType, error) {
	full := typeName
	if i := strings.IndexByte(full, ','); i >= 0 {
		full = full[:i]
	}
	full = strings.TrimSpace(full)
	class := full[strings.LastIndexByte(full, '.')+1:]
	t, ok := history.EventTypeForClass(class)
	if !ok {
		return 0, fmt.Errorf("unknown history event class %q", typeName)
	}
	return t, nil
}

// eventFromMembers builds an event of type t from its class's data
// members, read through r. It serves queue messages (nested objects) and
// table rows (complex members as JSON text) alike.
func eventFromMembers(t history.EventType, r *memberReader) (*history.Event, error) {
	members, err := eventMembers(t)
	if err != nil {
		return nil, err
	}
	e := &history.Event{Type: t}
	for _, m := range members {
		setEventMember(e, m, r)
	}
	if r.err != nil {
		return nil, r.err
	}
	adoptExceptionDetails(e)
	return e, nil
}

// setEventMember reads one data member into e; conversion errors are
// recorded in r.
func setEventMember(e *history.Event, member string, r *memberReader) {
	switch member {
	case mEventType, mState:
		// The class determines the type; State is not modelled.
	case mEventID:
		e.EventID = r.int(member)
	case mIsPlayed:
		e.IsPlayed = r.bool(member)
	case mTimestamp:
		e.Timestamp = r.time(member)
	case mOrchestrationInstance:
		if o := r.object(member); o != nil {
			inst, err := instanceFromObject(o)
			r.fail(member, err)
			e.Instance = &inst
		}
	case mParentInstance:
		if o := r.object(member); o != nil {
			p, err := parentFromObject(o)
			r.fail(member, err)
			e.Parent = p
		}
	case mName:
		e.Name = r.string(member)
	case mVersion:
		e.Version = r.string(member)
	case mInput:
		e.Input = r.stringPtr(member)
	case mTags:
		e.Tags = r.stringMap(member)
	case mCorrelation:
		e.Correlation = r.stringPtr(member)
	case mParentTraceContext:
		if o := r.object(member); o != nil {
			tc, err := traceFromObject(o)
			r.fail(member, err)
			e.ParentTraceContext = tc
		}
	case mScheduledStartTime:
		e.ScheduledStartTime = r.timePtr(member)
	case mGeneration:
		e.Generation = r.intPtr(member)
	case mGenerateNewTrace:
		e.GenerateNewTrace = r.bool(member)
	case mOrchestrationStatus:
		e.OrchestrationStatus = r.status(member)
	case mResult:
		e.Result = r.stringPtr(member)
	case mFailureDetails:
		if o := r.object(member); o != nil {
			f, err := failureFromObject(o)
			r.fail(member, err)
			e.Failure = f
		}
	case mTaskScheduledID:
		e.TaskScheduledID = r.int(member)
	case mReason:
		e.Reason = r.stringPtr(member)
	case mDetails:
		e.Details = r.stringPtr(member)
	case mInstanceID:
		e.InstanceID = r.string(member)
	case mClientSpanID:
		e.ClientSpanID = r.stringPtr(member)
	case mFireAt:
		e.FireAt = r.time(member)
	case mTimerID:
		e.TimerID = r.int(member)
	case mData:
		e.Data = r.stringPtr(member)
	case mParentExecutionID:
		e.ParentExecutionID = r.stringPtr(member)
	default:
		r.fail(member, fmt.Errorf("no field for this member"))
	}
}

func instanceFromObject(o jsonObject) (history.OrchestrationInstance, error) {
	r := &memberReader{get: o.lookup}
	inst := history.OrchestrationInstance{InstanceID: r.string("InstanceId"), ExecutionID: r.string("ExecutionId")}
	return inst, r.err
}

func parentFromObject(o jsonObject) (*history.ParentInstance, error) {
	r := &memberReader{get: o.lookup}
	p := &history.ParentInstance{Name: r.string("Name"), Version: r.string("Version"), TaskScheduleID: r.int("TaskScheduleId")}
	if inst := r.object("OrchestrationInstance"); inst != nil {
		var err error
		if p.Instance, err = instanceFromObject(inst); err != nil {
			return nil, fmt.Errorf("OrchestrationInstance: %w", err)
		}
	}
	return p, r.err
}

func failureFromObject(o jsonObject) (*history.FailureDetails, error) {
	r := &memberReader{get: o.lookup}
	f := &history.FailureDetails{
		ErrorType:      r.string("ErrorType"),
		ErrorMessage:   r.string("ErrorMessage"),
		StackTrace:     r.stringPtr("StackTrace"),
		IsNonRetriable: r.bool("IsNonRetriable"),
	}
	if inner := r.object("InnerFailure"); inner != nil {
		var err error
		if f.InnerFailure, err = failureFromObject(inner); err != nil {
			return nil, fmt.Errorf("InnerFailure: %w", err)
		}
	}
	if props := r.object("Properties"); props != nil {
		f.Properties = make(map[string]any, len(props))
		for k, v := range props {
			if k != "$type" {
				f.Properties[k] = plainJSONValue(v)
			}
		}
	}
	return f, r.err
}

func traceFromObject(o jsonObject) (*history.TraceContext, error) {
	r := &memberReader{get: o.lookup}
	tc := &history.TraceContext{
		TraceParent:       r.string("TraceParent"),
		TraceState:        r.stringPtr("TraceState"),
		ID:                r.stringPtr("Id"),
		SpanID:            r.stringPtr("SpanId"),
		ActivityStartTime: r.timePtr("ActivityStartTime"),
	}
	return tc, r.err
}

// parseJSONObject decodes JSON text that must be an object, keeping
// numbers as json.Number.
func parseJSONObject(text []byte) (jsonObject, error) {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the JSON is a %s, not an object", jsonKind(v))
	}
	return m, nil
}

// plainJSONValue turns a decoded value into plain Go data: integers as
// int64, other numbers as float64, objects (without "$type") as
// map[string]any.
func plainJSONValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k != "$type" {
				out[k] = plainJSONValue(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSONValue(e)
		}
		return out
	}
	return v
}
