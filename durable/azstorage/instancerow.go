package azstorage

import (
	"fmt"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// customStatusUnset is what DurableTask stores in CustomStatus when an
// orchestration has none: the text "null".
const customStatusUnset = "null"

// instanceRowKeys starts an Instances row: PartitionKey is the escaped
// instance ID and RowKey is empty.
func instanceRowKeys(instanceID string) map[string]any {
	return map[string]any{"PartitionKey": EscapePartitionKey(instanceID), "RowKey": ""}
}

// tagsColumnJSON is JsonConvert.SerializeObject(tags): {"k":"v"} with
// keys sorted, or "null".
func tagsColumnJSON(tags map[string]string) string {
	w := &jsonWriter{}
	writeTagsObject(w, tags, false)
	return string(w.bytes())
}

// setRowString stores a nullable string column; nil is left out.
func setRowString(row map[string]any, col string, v *string) {
	if v != nil {
		row[col] = *v
	}
}

// pendingInstanceRowNow is the Instances row a client writes when it creates
// an instance (client create), after enqueuing its
// ExecutionStarted message and with the same ExecutionId and Generation:
// Name, Version, RuntimeStatus "Pending", Input, CreatedTime (the event's
// Timestamp), LastUpdatedTime (now), TaskHubName, ScheduledStartTime,
// ExecutionId, Generation and Tags. Nil values are left out. The row is
// written with Insert, or Replace guarded by the old row's ETag.
func pendingInstanceRowNow(hub string, start *history.Event) map[string]any {
	return pendingInstanceRow(hub, start, time.Now())
}

func pendingInstanceRow(hub string, start *history.Event, now time.Time) map[string]any {
	var inst history.OrchestrationInstance
	if start.Instance != nil {
		inst = *start.Instance
	}
	row := instanceRowKeys(inst.InstanceID)
	setRowString(row, "Input", start.Input)
	setRowTime(row, "CreatedTime", start.Timestamp)
	row["Name"] = start.Name
	row["Version"] = start.Version
	row["RuntimeStatus"] = history.StatusPending.String()
	setRowTime(row, "LastUpdatedTime", now)
	row["TaskHubName"] = hub
	if start.ScheduledStartTime != nil {
		setRowTime(row, "ScheduledStartTime", *start.ScheduledStartTime)
	}
	row["ExecutionId"] = inst.ExecutionID
	if start.Generation != nil {
		row["Generation"] = *start.Generation
	}
	row["Tags"] = tagsColumnJSON(start.Tags)
	return row
}

// checkpointInstanceRowNow is the InsertOrMerge an episode applies to the
// Instances row (checkpoint writer).
//
// Always written: CustomStatus (upd.CustomStatus, or "null"), ExecutionId,
// LastUpdatedTime (the Timestamp of the episode's last new event) and
// TaskHubName. Then, for each new event in order:
//
//   - ExecutionStarted: Name, Version, CreatedTime (its Timestamp),
//     RuntimeStatus Running, Tags, Generation and ScheduledStartTime (when
//     set) and Input;
//   - ExecutionCompleted: RuntimeStatus (its OrchestrationStatus),
//     CompletedTime, Output (its FailureDetails as "{ErrorType}:
//     {ErrorMessage}" when it has them, else its Result);
//   - ContinueAsNew: RuntimeStatus ContinuedAsNew, Output (its Result);
//   - ExecutionTerminated: RuntimeStatus Terminated, CompletedTime, Output
//     (the reason);
//   - ExecutionSuspended / ExecutionResumed: RuntimeStatus Suspended /
//     Running, Output (the reason).
//
// Two departures from DurableTask, both for the engine's sake: when no
// event sets RuntimeStatus, upd.RuntimeStatus is written; and when
// upd.Output is set it is the Output written for a completion
// (ExecutionCompleted or ContinueAsNew), so the engine decides the text a
// failed instance shows. CompletedTime is upd.CompletedTime, or the
// current time when that is zero. A nil Output or Input is left out, so
// the merge keeps the stored value.
func checkpointInstanceRowNow(hub, instanceID, executionID string, events []*history.Event, upd backend.InstanceUpdate) map[string]any {
	return checkpointInstanceRow(hub, instanceID, executionID, events, upd, time.Now())
}

func checkpointInstanceRow(hub, instanceID, executionID string, events []*history.Event, upd backend.InstanceUpdate, now time.Time) map[string]any {
	row := instanceRowKeys(instanceID)
	row["CustomStatus"] = customStatusUnset
	setRowString(row, "CustomStatus", upd.CustomStatus)
	row["ExecutionId"] = executionID
	lastUpdated := now
	if n := len(events); n > 0 && !events[n-1].Timestamp.IsZero() {
		lastUpdated = events[n-1].Timestamp
	}
	setRowTime(row, "LastUpdatedTime", lastUpdated)
	row["TaskHubName"] = hub
	completed := upd.CompletedTime
	if completed.IsZero() {
		completed = now
	}
	status := func(s history.OrchestrationStatus) { row["RuntimeStatus"] = s.String() }
	completionOutput := func(out *string) {
		if upd.Output != nil {
			out = upd.Output
		}
		setRowString(row, "Output", out)
	}
	for _, e := range events {
		switch e.Type {
		case history.ExecutionStarted:
			row["Name"] = e.Name
			row["Version"] = e.Version
			setRowTime(row, "CreatedTime", e.Timestamp)
			status(history.StatusRunning)
			row["Tags"] = tagsColumnJSON(e.Tags)
			if e.Generation != nil {
				row["Generation"] = *e.Generation
			}
			if e.ScheduledStartTime != nil {
				setRowTime(row, "ScheduledStartTime", *e.ScheduledStartTime)
			}
			setRowString(row, "Input", e.Input)
		case history.ExecutionCompleted:
			status(e.OrchestrationStatus)
			setRowTime(row, "CompletedTime", completed)
			out := e.Result
			if e.Failure != nil {
				s := e.Failure.String()
				out = &s
			}
			completionOutput(out)
		case history.ContinueAsNew:
			status(history.StatusContinuedAsNew)
			completionOutput(e.Result)
		case history.ExecutionTerminated:
			status(history.StatusTerminated)
			setRowTime(row, "CompletedTime", completed)
			setRowString(row, "Output", e.Input)
		case history.ExecutionSuspended:
			status(history.StatusSuspended)
			setRowString(row, "Output", e.Reason)
		case history.ExecutionResumed:
			status(history.StatusRunning)
			setRowString(row, "Output", e.Reason)
		}
	}
	if _, ok := row["RuntimeStatus"]; !ok {
		status(upd.RuntimeStatus)
	}
	return row
}

// terminatedInstanceRow is the merge (If-Match *) DurableTask applies
// when an instance that never started is terminated:
// RuntimeStatus Terminated, LastUpdatedTime the event's Timestamp,
// CompletedTime now and Output the reason.
func terminatedInstanceRow(instanceID string, terminated *history.Event, now time.Time) map[string]any {
	row := instanceRowKeys(instanceID)
	row["RuntimeStatus"] = history.StatusTerminated.String()
	setRowTime(row, "LastUpdatedTime", terminated.Timestamp)
	setRowTime(row, "CompletedTime", now)
	setRowString(row, "Output", terminated.Input)
	return row
}

// instanceRow is the full Instances row of a state, for an InsertOrMerge
// that repairs or recreates the row (repair): every column of
// the Instances table that the state has a value for.
func instanceRow(hub string, st *backend.InstanceState) map[string]any {
	row := instanceRowKeys(st.InstanceID)
	row["Name"] = st.Name
	row["Version"] = st.Version
	setRowTime(row, "CreatedTime", st.CreatedTime)
	row["CustomStatus"] = customStatusUnset
	setRowString(row, "CustomStatus", st.CustomStatus)
	row["ExecutionId"] = st.ExecutionID
	setRowTime(row, "LastUpdatedTime", st.LastUpdatedTime)
	row["RuntimeStatus"] = st.RuntimeStatus.String()
	setRowTime(row, "CompletedTime", st.CompletedTime)
	row["Tags"] = tagsColumnJSON(st.Tags)
	row["TaskHubName"] = hub
	if st.ScheduledStartTime != nil {
		setRowTime(row, "ScheduledStartTime", *st.ScheduledStartTime)
	}
	setRowString(row, "Input", st.Input)
	setRowString(row, "Output", st.Output)
	row["Generation"] = st.Generation
	return row
}

// rowToInstanceState reads an Instances row, leniently:
// missing columns take their defaults; RuntimeStatus may be a name (in
// any case) or an integer; CustomStatus "null" means none; Tags is JSON
// text or "null". Input and Output are returned as stored, which may be
// blob URLs of large values. Rows as the aztables SDK returns them and
// rows built in Go are both accepted.
func rowToInstanceState(row map[string]any) (*backend.InstanceState, error) {
	pk, _ := row["PartitionKey"].(string)
	st := &backend.InstanceState{InstanceID: unescapePartitionKey(pk)}
	r := &memberReader{get: jsonObject(row).lookup}
	st.Name = r.string("Name")
	st.Version = r.string("Version")
	st.ExecutionID = r.string("ExecutionId")
	st.RuntimeStatus = r.status("RuntimeStatus")
	st.Input = r.stringPtr("Input")
	st.Output = r.stringPtr("Output")
	if cs := r.stringPtr("CustomStatus"); cs != nil && *cs != customStatusUnset {
		st.CustomStatus = cs
	}
	st.CreatedTime = r.time("CreatedTime")
	st.LastUpdatedTime = r.time("LastUpdatedTime")
	st.CompletedTime = r.time("CompletedTime")
	st.ScheduledStartTime = r.timePtr("ScheduledStartTime")
	st.Generation = r.int("Generation")
	st.Tags = r.stringMap("Tags")
	if r.err != nil {
		return nil, fmt.Errorf("azstorage: instance row of %q: %w", st.InstanceID, r.err)
	}
	return st, nil
}
