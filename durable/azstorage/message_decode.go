package azstorage

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/godurable/functions/durable/history"
)

// DecodeMessage reads a queue message body written by any Durable Task
// writer (spec §2.1–2.3): raw JSON when it starts with '{', base64 of the
// JSON otherwise; "$type" with or without an assembly suffix; unknown
// members ignored; member names matched exactly, then case-insensitively.
func DecodeMessage(body []byte) (*MessageData, error) {
	body = bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(body) == 0 {
		return nil, fmt.Errorf("azstorage: decode message: empty body")
	}
	if body[0] != '{' {
		dec, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			return nil, fmt.Errorf("azstorage: decode message: neither JSON nor base64: %w", err)
		}
		body = bytes.TrimSpace(bytes.TrimPrefix(dec, []byte("\xef\xbb\xbf")))
	}
	var root obj
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&root); err != nil {
		return nil, fmt.Errorf("azstorage: decode message: %w", err)
	}
	if root == nil {
		return nil, fmt.Errorf("azstorage: decode message: not a JSON object")
	}
	m := &MessageData{
		ActivityID:               root.str("ActivityId"),
		CompressedBlobName:       root.strPtr("CompressedBlobName"),
		SequenceNumber:           root.int64("SequenceNumber"),
		SerializableTraceContext: root.strPtr("SerializableTraceContext"),
	}
	if root.has("Episode") && root.get("Episode") != nil {
		ep := int(root.int64("Episode"))
		m.Episode = &ep
	}
	if s := root.obj("Sender"); s != nil {
		m.Sender = &history.OrchestrationInstance{InstanceID: s.str("InstanceId"), ExecutionID: s.str("ExecutionId")}
	}
	if tm := root.obj("TaskMessage"); tm != nil {
		t := &TaskMessage{SequenceNumber: tm.int64("SequenceNumber")}
		if oi := tm.obj("OrchestrationInstance"); oi != nil {
			t.OrchestrationInstance = history.OrchestrationInstance{InstanceID: oi.str("InstanceId"), ExecutionID: oi.str("ExecutionId")}
		}
		if ec := tm.obj("OrchestrationExecutionContext"); ec != nil {
			t.ExecutionContext = &ExecutionContext{OrchestrationTags: ec.strMap("OrchestrationTags")}
		}
		ev := tm.obj("Event")
		if ev == nil {
			return nil, fmt.Errorf("azstorage: decode message: TaskMessage has no Event")
		}
		e, err := decodeEvent(ev)
		if err != nil {
			return nil, err
		}
		t.Event = e
		m.TaskMessage = t
	}
	return m, nil
}

// obj is a decoded JSON object with lenient accessors.
type obj map[string]any

func (o obj) get(k string) any {
	if v, ok := o[k]; ok {
		return v
	}
	for mk, v := range o {
		if strings.EqualFold(mk, k) {
			return v
		}
	}
	return nil
}

func (o obj) has(k string) bool {
	if _, ok := o[k]; ok {
		return true
	}
	for mk := range o {
		if strings.EqualFold(mk, k) {
			return true
		}
	}
	return false
}

func (o obj) str(k string) string {
	if s, ok := o.get(k).(string); ok {
		return s
	}
	return ""
}

func (o obj) strPtr(k string) *string {
	switch v := o.get(k).(type) {
	case string:
		return &v
	case nil:
		return nil
	default:
		// A payload that is JSON rather than a JSON string: keep its text.
		b, _ := json.Marshal(v)
		s := string(b)
		return &s
	}
}

func (o obj) int64(k string) int64 {
	switch v := o.get(k).(type) {
	case json.Number:
		n, _ := v.Int64()
		return n
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

func (o obj) boolean(k string) bool {
	switch v := o.get(k).(type) {
	case bool:
		return v
	case string:
		b, _ := strconv.ParseBool(v)
		return b
	}
	return false
}

func (o obj) obj(k string) obj {
	if m, ok := o.get(k).(map[string]any); ok {
		return obj(m)
	}
	return nil
}

func (o obj) strMap(k string) map[string]string {
	m := o.obj(k)
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for mk, v := range m {
		if mk == "$type" {
			continue
		}
		if s, ok := v.(string); ok {
			out[mk] = s
		}
	}
	return out
}

func (o obj) time(k string) (time.Time, error) {
	s, ok := o.get(k).(string)
	if !ok || s == "" {
		return time.Time{}, nil
	}
	t, err := ParseDotNetTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("azstorage: %s: %w", k, err)
	}
	return t, nil
}

// enumValue reads an enum written as an integer (or, leniently, a name).
func (o obj) enumValue(k string, parse func(string) (int, error)) (int, error) {
	switch v := o.get(k).(type) {
	case json.Number:
		n, err := v.Int64()
		return int(n), err
	case float64:
		return int(v), nil
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n, nil
		}
		return parse(v)
	}
	return 0, fmt.Errorf("azstorage: %s is missing", k)
}

// className strips the namespace and any assembly suffix from a $type.
func className(t string) string {
	if i := strings.IndexByte(t, ','); i >= 0 {
		t = t[:i]
	}
	t = strings.TrimSpace(t)
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		t = t[i+1:]
	}
	return t
}

func decodeEvent(o obj) (*history.Event, error) {
	var typ history.EventType
	if t, ok := o["$type"].(string); ok {
		c := className(t)
		et, ok := history.EventTypeForClass(c)
		if !ok {
			return nil, fmt.Errorf("azstorage: decode message: unknown history event class %q", t)
		}
		typ = et
	} else {
		n, err := o.enumValue("EventType", func(s string) (int, error) {
			t, err := history.ParseEventType(s)
			return int(t), err
		})
		if err != nil {
			return nil, fmt.Errorf("azstorage: decode message: event has neither $type nor EventType: %w", err)
		}
		typ = history.EventType(n)
		if !typ.Valid() {
			return nil, fmt.Errorf("azstorage: decode message: unknown event type %d", n)
		}
	}
	return eventFromObject(typ, o, parseFailureObj, parseTraceObj, parseParentObj, o.strMap)
}

// eventFromObject fills an event of type typ from an object's members; the
// complex members are read with the given parsers, so queue JSON (nested
// objects) and table rows (JSON strings) share this code.
func eventFromObject(typ history.EventType, o obj,
	failure func(any) (*history.FailureDetails, error),
	trace func(any) (*history.TraceContext, error),
	parent func(any) (*history.ParentInstance, error),
	tags func(string) map[string]string,
) (*history.Event, error) {
	e := &history.Event{Type: typ, EventID: int(o.int64("EventId")), IsPlayed: o.boolean("IsPlayed")}
	var err error
	if e.Timestamp, err = o.time("Timestamp"); err != nil {
		return nil, err
	}
	e.Name, e.Version = o.str("Name"), o.str("Version")
	e.Input, e.Result = o.strPtr("Input"), o.strPtr("Result")
	e.Reason, e.Details, e.Data = o.strPtr("Reason"), o.strPtr("Details"), o.strPtr("Data")
	e.Correlation, e.ClientSpanID = o.strPtr("Correlation"), o.strPtr("ClientSpanId")
	e.ParentExecutionID = o.strPtr("ParentExecutionId")
	e.TaskScheduledID = int(o.int64("TaskScheduledId"))
	e.TimerID = int(o.int64("TimerId"))
	e.GenerateNewTrace = o.boolean("GenerateNewTrace")
	if e.FireAt, err = o.time("FireAt"); err != nil {
		return nil, err
	}
	if e.Failure, err = failure(o.get("FailureDetails")); err != nil {
		return nil, err
	}
	if e.ParentTraceContext, err = trace(o.get("ParentTraceContext")); err != nil {
		return nil, err
	}
	if typ == history.ExecutionStarted {
		if e.Parent, err = parent(o.get("ParentInstance")); err != nil {
			return nil, err
		}
		e.Instance = &history.OrchestrationInstance{}
		if oi, err := asObj(o.get("OrchestrationInstance")); err != nil {
			return nil, err
		} else if oi != nil {
			*e.Instance = history.OrchestrationInstance{InstanceID: oi.str("InstanceId"), ExecutionID: oi.str("ExecutionId")}
		}
		e.Tags = tags("Tags")
		if o.get("ScheduledStartTime") != nil {
			t, err := o.time("ScheduledStartTime")
			if err != nil {
				return nil, err
			}
			if !t.IsZero() {
				e.ScheduledStartTime = &t
			}
		}
		if o.get("Generation") != nil {
			g := int(o.int64("Generation"))
			e.Generation = &g
		}
	} else {
		e.Tags = tags("Tags")
		e.InstanceID = o.str("InstanceId")
	}
	if typ == history.ExecutionCompleted || typ == history.ContinueAsNew {
		n, err := o.enumValue("OrchestrationStatus", func(s string) (int, error) {
			st, err := history.ParseStatus(s, true)
			return int(st), err
		})
		if err != nil {
			return nil, err
		}
		e.OrchestrationStatus = history.OrchestrationStatus(n)
	}
	return e, nil
}

// asObj accepts a nested object or a JSON string holding one ("null" and
// null give nil).
func asObj(v any) (obj, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return obj(x), nil
	case string:
		if x == "" || x == "null" {
			return nil, nil
		}
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(x))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, fmt.Errorf("azstorage: embedded JSON %.60q: %w", x, err)
		}
		return obj(m), nil
	}
	return nil, fmt.Errorf("azstorage: expected an object, got %T", v)
}

func parseFailureObj(v any) (*history.FailureDetails, error) {
	o, err := asObj(v)
	if err != nil || o == nil {
		return nil, err
	}
	f := &history.FailureDetails{ErrorType: o.str("ErrorType"), ErrorMessage: o.str("ErrorMessage"),
		StackTrace: o.strPtr("StackTrace"), IsNonRetriable: o.boolean("IsNonRetriable")}
	if f.InnerFailure, err = parseFailureObj(o.get("InnerFailure")); err != nil {
		return nil, err
	}
	if p := o.obj("Properties"); p != nil {
		f.Properties = map[string]any{}
		for k, v := range p {
			if k != "$type" {
				f.Properties[k] = v
			}
		}
	}
	return f, nil
}

func parseTraceObj(v any) (*history.TraceContext, error) {
	o, err := asObj(v)
	if err != nil || o == nil {
		return nil, err
	}
	t := &history.TraceContext{TraceParent: o.str("TraceParent"), TraceState: o.strPtr("TraceState"), ID: o.strPtr("Id"), SpanID: o.strPtr("SpanId")}
	if o.get("ActivityStartTime") != nil {
		at, err := o.time("ActivityStartTime")
		if err != nil {
			return nil, err
		}
		t.ActivityStartTime = &at
	}
	return t, nil
}

func parseParentObj(v any) (*history.ParentInstance, error) {
	o, err := asObj(v)
	if err != nil || o == nil {
		return nil, err
	}
	p := &history.ParentInstance{Name: o.str("Name"), Version: o.str("Version"), TaskScheduleID: int(o.int64("TaskScheduleId"))}
	if oi := o.obj("OrchestrationInstance"); oi != nil {
		p.Instance = history.OrchestrationInstance{InstanceID: oi.str("InstanceId"), ExecutionID: oi.str("ExecutionId")}
	}
	return p, nil
}
