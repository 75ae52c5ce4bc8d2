package azstorage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/history"
)

// edmTime is a DateTime column value with its type annotation.
func setTime(row map[string]any, k string, t time.Time) {
	row[k] = FormatDotNetTime(t)
	row[k+"@odata.type"] = "Edm.DateTime"
}

func setStr(row map[string]any, k string, v *string) {
	if v != nil {
		row[k] = *v
	}
}

// complexColumn is a complex member stored as JSON text without "$type"
// (Newtonsoft defaults); nil is the string "null".
func complexColumn(write func(w *jsonWriter)) string {
	w := &jsonWriter{}
	write(w)
	return w.b.String()
}

func tagsColumn(tags map[string]string) string {
	if tags == nil {
		return "null"
	}
	return complexColumn(func(w *jsonWriter) { writeStringDict(w, tags, false) })
}

// EventToRow builds the History table row of event number seq of an
// execution (spec §4.1–4.2).
func EventToRow(instanceID, executionID string, seq int, e *history.Event) map[string]any {
	row := map[string]any{
		"PartitionKey": EscapePartitionKey(instanceID),
		"RowKey":       RowKeyForSequence(seq),
		"ExecutionId":  executionID,
		"EventType":    e.Type.String(),
		"EventId":      e.EventID,
		"IsPlayed":     e.IsPlayed,
	}
	setTime(row, "_Timestamp", e.Timestamp)
	failure := func() string {
		return complexColumn(func(w *jsonWriter) { _ = writeFailure(w, "", e.Failure, false) })
	}
	trace := func() string {
		return complexColumn(func(w *jsonWriter) { writeTrace(w, "", e.ParentTraceContext, false) })
	}
	switch e.Type {
	case history.ExecutionStarted:
		inst := history.OrchestrationInstance{}
		if e.Instance != nil {
			inst = *e.Instance
		}
		row["OrchestrationInstance"] = complexColumn(func(w *jsonWriter) {
			w.open()
			w.String("InstanceId", inst.InstanceID)
			w.NullableString("ExecutionId", inst.ExecutionID)
			w.close()
		})
		row["ParentInstance"] = "null"
		if e.Parent != nil {
			row["ParentInstance"] = complexColumn(func(w *jsonWriter) {
				w.open()
				writeParentBody(w, e.Parent, false)
				w.close()
			})
		}
		row["Name"], row["Version"] = e.Name, e.Version
		setStr(row, "Input", e.Input)
		row["Tags"] = tagsColumn(e.Tags)
		setStr(row, "Correlation", e.Correlation)
		row["ParentTraceContext"] = trace()
		if e.ScheduledStartTime != nil {
			setTime(row, "ScheduledStartTime", *e.ScheduledStartTime)
		}
		if e.Generation != nil {
			row["Generation"] = *e.Generation
		}
		row["GenerateNewTrace"] = e.GenerateNewTrace
	case history.ExecutionCompleted, history.ContinueAsNew:
		row["OrchestrationStatus"] = e.OrchestrationStatus.String()
		setStr(row, "Result", e.Result)
		row["FailureDetails"] = failure()
	case history.ExecutionTerminated:
		setStr(row, "Input", e.Input)
	case history.ExecutionSuspended, history.ExecutionResumed:
		setStr(row, "Reason", e.Reason)
	case history.ExecutionRewound:
		setStr(row, "Reason", e.Reason)
		setStr(row, "ParentExecutionId", e.ParentExecutionID)
		if e.InstanceID != "" {
			row["InstanceId"] = e.InstanceID
		}
		row["ParentTraceContext"] = trace()
	case history.TaskScheduled:
		row["Name"], row["Version"] = e.Name, e.Version
		setStr(row, "Input", e.Input)
		row["ParentTraceContext"] = trace()
		row["Tags"] = tagsColumn(e.Tags)
	case history.TaskCompleted, history.SubOrchestrationInstanceCompleted:
		row["TaskScheduledId"] = e.TaskScheduledID
		setStr(row, "Result", e.Result)
	case history.TaskFailed, history.SubOrchestrationInstanceFailed:
		row["TaskScheduledId"] = e.TaskScheduledID
		setStr(row, "Reason", e.Reason)
		setStr(row, "Details", e.Details)
		row["FailureDetails"] = failure()
	case history.SubOrchestrationInstanceCreated:
		row["Name"], row["Version"], row["InstanceId"] = e.Name, e.Version, e.InstanceID
		setStr(row, "Input", e.Input)
		setStr(row, "ClientSpanId", e.ClientSpanID)
		row["Tags"] = tagsColumn(e.Tags)
	case history.TimerCreated:
		setTime(row, "FireAt", e.FireAt)
	case history.TimerFired:
		row["TimerId"] = e.TimerID
		setTime(row, "FireAt", e.FireAt)
	case history.EventSent:
		row["InstanceId"], row["Name"] = e.InstanceID, e.Name
		setStr(row, "Input", e.Input)
	case history.EventRaised:
		row["Name"] = e.Name
		setStr(row, "Input", e.Input)
		row["ParentTraceContext"] = trace()
	case history.GenericEvent:
		setStr(row, "Data", e.Data)
	}
	return row
}

// writeParentBody writes ParentInstance's members into an open object,
// with "$type" on the nested instance when typed (queue JSON) and without
// (table columns).
func writeParentBody(w *jsonWriter, p *history.ParentInstance, typed bool) {
	w.String("Name", p.Name)
	w.key("OrchestrationInstance")
	if typed {
		writeInstance(w, p.Instance)
	} else {
		w.open()
		w.String("InstanceId", p.Instance.InstanceID)
		w.NullableString("ExecutionId", p.Instance.ExecutionID)
		w.close()
	}
	w.Int("TaskScheduleId", int64(p.TaskScheduleID))
	w.String("Version", p.Version)
}

// RowToEvent reads a History table row back into an event. Missing columns
// take their defaults and "null" complex columns are nil.
func RowToEvent(row map[string]any) (*history.Event, error) {
	name, _ := row["EventType"].(string)
	typ, err := history.ParseEventType(name)
	if err != nil {
		return nil, err
	}
	o := obj{}
	for k, v := range row {
		if k != "Timestamp" {
			o[k] = v
		}
	}
	o["Timestamp"] = row["_Timestamp"]
	tags := func(k string) map[string]string {
		s, ok := o.get(k).(string)
		if !ok || s == "" || s == "null" {
			return nil
		}
		var m map[string]string
		if json.Unmarshal([]byte(s), &m) != nil {
			return nil
		}
		delete(m, "$type")
		return m
	}
	e, err := eventFromObject(typ, o, parseFailureObj, parseTraceObj, parseParentObj, tags)
	if err != nil {
		return nil, fmt.Errorf("row %v: %w", row["RowKey"], err)
	}
	return e, nil
}

// SentinelRow is the checkpoint guard row (RowKey "sentinel"). The
// completion timestamp is written only by a checkpoint's final batch.
func SentinelRow(instanceID, executionID string, final bool, now time.Time) map[string]any {
	row := map[string]any{
		"PartitionKey":         EscapePartitionKey(instanceID),
		"RowKey":               "sentinel",
		"ExecutionId":          executionID,
		"IsCheckpointComplete": final,
	}
	if final {
		setTime(row, "CheckpointCompletedTimestamp", now)
	}
	return row
}
