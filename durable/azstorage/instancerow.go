package azstorage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// PendingInstanceRow is the Instances row a client writes when it creates
// an instance (spec §5.2): status Pending, with the same execution id and
// generation as the ExecutionStarted message it enqueued.
func PendingInstanceRow(hub string, start *history.Event) map[string]any {
	row := map[string]any{
		"PartitionKey":  EscapePartitionKey(start.Instance.InstanceID),
		"RowKey":        "",
		"Name":          start.Name,
		"Version":       start.Version,
		"RuntimeStatus": history.StatusPending.String(),
		"TaskHubName":   hub,
		"ExecutionId":   start.Instance.ExecutionID,
		"Tags":          tagsColumn(start.Tags),
	}
	setStr(row, "Input", start.Input)
	setTime(row, "CreatedTime", start.Timestamp)
	setTime(row, "LastUpdatedTime", time.Now().UTC())
	if start.ScheduledStartTime != nil {
		setTime(row, "ScheduledStartTime", *start.ScheduledStartTime)
	}
	if start.Generation != nil {
		row["Generation"] = *start.Generation
	}
	return row
}

// CheckpointInstanceRow is the merge an episode applies to the Instances
// row (spec §5.2, checkpoint writer): the always-written columns plus, per
// new event, the columns that event changes.
func CheckpointInstanceRow(hub, instanceID, executionID string, events []*history.Event, upd backend.InstanceUpdate) map[string]any {
	row := map[string]any{
		"PartitionKey": EscapePartitionKey(instanceID),
		"RowKey":       "",
		"ExecutionId":  executionID,
		"TaskHubName":  hub,
		"CustomStatus": "null",
	}
	if upd.CustomStatus != nil {
		row["CustomStatus"] = *upd.CustomStatus
	}
	last := time.Now().UTC()
	if len(events) > 0 {
		last = events[len(events)-1].Timestamp
	}
	setTime(row, "LastUpdatedTime", last)
	// The episode's resulting status; the per-event rules below refine
	// the columns that go with it.
	row["RuntimeStatus"] = upd.RuntimeStatus.String()
	completed := upd.CompletedTime
	if completed.IsZero() {
		completed = time.Now().UTC()
	}
	for _, e := range events {
		switch e.Type {
		case history.ExecutionStarted:
			row["Name"], row["Version"] = e.Name, e.Version
			setTime(row, "CreatedTime", e.Timestamp)
			row["RuntimeStatus"] = history.StatusRunning.String()
			row["Tags"] = tagsColumn(e.Tags)
			if e.Generation != nil {
				row["Generation"] = *e.Generation
			}
			if e.ScheduledStartTime != nil {
				setTime(row, "ScheduledStartTime", *e.ScheduledStartTime)
			}
			setStr(row, "Input", e.Input)
		case history.ExecutionCompleted, history.ContinueAsNew:
			row["RuntimeStatus"] = e.OrchestrationStatus.String()
			if e.Type == history.ExecutionCompleted {
				setTime(row, "CompletedTime", completed)
			}
			out := e.Result
			if e.OrchestrationStatus == history.StatusFailed && upd.Output != nil {
				out = upd.Output
			}
			setOutput(row, out)
		case history.ExecutionTerminated:
			row["RuntimeStatus"] = history.StatusTerminated.String()
			setTime(row, "CompletedTime", completed)
			setOutput(row, e.Input)
		case history.ExecutionSuspended:
			row["RuntimeStatus"] = history.StatusSuspended.String()
			setOutput(row, e.Reason)
		case history.ExecutionResumed:
			row["RuntimeStatus"] = history.StatusRunning.String()
			setOutput(row, e.Reason)
		}
	}
	return row
}

func setOutput(row map[string]any, v *string) {
	if v == nil {
		row["Output"] = "null"
		return
	}
	row["Output"] = *v
}

// RowToInstanceState reads an Instances row.
func RowToInstanceState(row map[string]any) (*backend.InstanceState, error) {
	o := obj(row)
	pk, _ := row["PartitionKey"].(string)
	st := &backend.InstanceState{
		InstanceID:  UnescapePartitionKey(pk),
		ExecutionID: o.str("ExecutionId"),
		Name:        o.str("Name"),
		Version:     o.str("Version"),
		Input:       o.strPtr("Input"),
		Output:      o.strPtr("Output"),
		Generation:  int(o.int64("Generation")),
	}
	if cs := o.strPtr("CustomStatus"); cs != nil && *cs != "null" {
		st.CustomStatus = cs
	}
	if st.Output != nil && *st.Output == "null" {
		st.Output = nil
	}
	status := o.str("RuntimeStatus")
	if status != "" {
		s, err := history.ParseStatus(status, true)
		if err != nil {
			return nil, fmt.Errorf("instance %q: %w", st.InstanceID, err)
		}
		st.RuntimeStatus = s
	}
	var err error
	for k, dst := range map[string]*time.Time{"CreatedTime": &st.CreatedTime, "LastUpdatedTime": &st.LastUpdatedTime, "CompletedTime": &st.CompletedTime} {
		if *dst, err = o.time(k); err != nil {
			return nil, fmt.Errorf("instance %q: %w", st.InstanceID, err)
		}
	}
	if o.get("ScheduledStartTime") != nil {
		t, err := o.time("ScheduledStartTime")
		if err != nil {
			return nil, err
		}
		st.ScheduledStartTime = &t
	}
	if s := o.str("Tags"); s != "" && s != "null" {
		_ = json.Unmarshal([]byte(s), &st.Tags)
	}
	return st, nil
}
