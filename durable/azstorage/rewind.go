package azstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// RewindInstance implements backend.Backend as DurableTask.AzureStorage's
// legacy rewind does (RewindHistoryAsync and RewindTaskOrchestrationAsync):
//
//   - in the current execution's history, every TaskFailed,
//     SubOrchestrationInstanceFailed and failed ExecutionCompleted row, and
//     the TaskScheduled row a TaskFailed answers, becomes a GenericEvent
//     row with Reason "Rewound: {old EventType}", its other columns kept,
//     so that replay skips it and the orchestrator calls the activity again;
//   - the SubOrchestrationInstanceCreated row of a failed sub-orchestration
//     keeps its type and only gets that Reason, and the child is rewound the
//     same way, recursively: the parent then waits for the rewound child;
//   - each rewound instance's Instances row goes back to Pending;
//   - a GenericEvent message whose Data is the reason wakes each of the
//     deepest rewound instances (the ones without failed children).
func (b *Backend) RewindInstance(ctx context.Context, instanceID, reason string) error {
	row, _, found, err := b.readInstanceRow(ctx, instanceID)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("azstorage: rewind %q: %w", instanceID, backend.ErrInstanceNotFound)
	}
	st, err := RowToInstanceState(row)
	if err != nil {
		return err
	}
	if st.RuntimeStatus != history.StatusFailed {
		return fmt.Errorf("azstorage: rewind %q: it is %s, not Failed: %w", instanceID, st.RuntimeStatus, ErrNotRewindable)
	}
	leaves, rewound, err := b.rewindHistory(ctx, instanceID, 0)
	if err != nil {
		return err
	}
	if !rewound {
		return fmt.Errorf("azstorage: rewind %q: its history has no failure to rewind: %w", instanceID, ErrNotRewindable)
	}
	for _, id := range leaves {
		data := reason
		wake := &history.Event{Type: history.GenericEvent, EventID: -1, Timestamp: time.Now().UTC(), Data: &data}
		if err := b.SendEvent(ctx, history.OrchestrationInstance{InstanceID: id}, wake); err != nil {
			return fmt.Errorf("azstorage: rewind %q: wake %q: %w", instanceID, id, err)
		}
	}
	return nil
}

// maxRewindDepth bounds the recursion into sub-orchestrations.
const maxRewindDepth = 64

// rewindHistory rewrites the failure rows of an instance's current
// execution and those of its failed sub-orchestrations, and sets their
// Instances rows to Pending. It returns the deepest rewound instances,
// and whether this instance had anything to rewind.
func (b *Backend) rewindHistory(ctx context.Context, instanceID string, depth int) (leaves []string, rewound bool, err error) {
	if depth > maxRewindDepth {
		return nil, false, fmt.Errorf("azstorage: rewind %q: sub-orchestrations nested more than %d deep", instanceID, maxRewindDepth)
	}
	rows, err := b.queryRows(ctx, b.names.HistoryTable(), PartitionKeyFilter(instanceID), nil)
	if err != nil {
		return nil, false, fmt.Errorf("azstorage: rewind %q: read history: %w", instanceID, err)
	}
	var events []map[string]any
	execID, lastStart := "", ""
	for _, r := range rows {
		rk, _ := r["RowKey"].(string)
		if rk == SentinelRowKey {
			continue
		}
		events = append(events, r)
		if r["EventType"] == history.OrchestratorStarted.String() && rk > lastStart {
			lastStart = rk
			execID, _ = r["ExecutionId"].(string)
		}
	}
	sort.Slice(events, func(i, j int) bool { return events[i]["RowKey"].(string) < events[j]["RowKey"].(string) })
	var current []map[string]any
	for _, r := range events {
		if r["ExecutionId"] != execID {
			break // rows of an older, longer execution
		}
		current = append(current, r)
	}
	find := func(eventType string, eventID any) map[string]any {
		for _, r := range current {
			if r["EventType"] == eventType && numberEqual(r["EventId"], eventID) {
				return r
			}
		}
		return nil
	}
	changed := map[string]map[string]any{} // by RowKey
	mark := func(r map[string]any, asGeneric bool) {
		r["Reason"] = "Rewound: " + r["EventType"].(string)
		if asGeneric {
			r["EventType"] = history.GenericEvent.String()
		}
		changed[r["RowKey"].(string)] = r
	}
	failedChildren := false
	for _, r := range current {
		typ, _ := r["EventType"].(string)
		failedRow := r["OrchestrationStatus"] == history.StatusFailed.String() ||
			typ == history.TaskFailed.String() || typ == history.SubOrchestrationInstanceFailed.String()
		if !failedRow {
			continue
		}
		switch typ {
		case history.TaskFailed.String():
			if s := find(history.TaskScheduled.String(), r["TaskScheduledId"]); s != nil {
				mark(s, true)
			}
		case history.SubOrchestrationInstanceFailed.String():
			failedChildren = true
			if s := find(history.SubOrchestrationInstanceCreated.String(), r["TaskScheduledId"]); s != nil {
				mark(s, false)
				if child, _ := s["InstanceId"].(string); child != "" {
					l, _, err := b.rewindHistory(ctx, child, depth+1)
					if err != nil {
						return nil, false, err
					}
					leaves = append(leaves, l...)
				}
			}
		}
		mark(r, true)
	}
	if len(changed) == 0 {
		return nil, false, nil
	}
	var ops []TableOp
	for _, r := range current {
		if c, ok := changed[r["RowKey"].(string)]; ok {
			etag, _ := c["odata.etag"].(string)
			ops = append(ops, TableOp{Kind: OpUpdateReplace, Entity: rewritableRow(c), ETag: etag})
		}
	}
	pk := EscapePartitionKey(instanceID)
	for start := 0; start < len(ops); start += maxBatchOps {
		batch := TableBatch{Table: b.names.HistoryTable(), PartitionKey: pk, Ops: ops[start:min(start+maxBatchOps, len(ops))]}
		if _, err := b.c.SubmitBatch(ctx, batch); err != nil {
			return nil, false, fmt.Errorf("azstorage: rewind %q: %w", instanceID, err)
		}
	}
	merge, _ := json.Marshal(map[string]any{"PartitionKey": pk, "RowKey": "", "RuntimeStatus": history.StatusPending.String(),
		"LastUpdatedTime": FormatDotNetTime(time.Now().UTC()), "LastUpdatedTime@odata.type": "Edm.DateTime"})
	if _, err := b.instances().UpdateEntity(ctx, merge, &aztables.UpdateEntityOptions{UpdateMode: aztables.UpdateModeMerge, IfMatch: &azcoreETagAny}); err != nil {
		return nil, false, fmt.Errorf("azstorage: rewind %q: instance row: %w", instanceID, err)
	}
	if !failedChildren {
		leaves = append(leaves, instanceID)
	}
	return leaves, true, nil
}

// rewritableRow is a row as read, ready to be written back: without the
// service's annotations and Timestamp, whole numbers as Int32 (the only
// untyped numbers history rows hold; Int64 and DateTime values keep their
// type annotations).
func rewritableRow(r map[string]any) map[string]any {
	out := make(map[string]any, len(r))
	for k, v := range r {
		if strings.HasPrefix(k, "odata.") || k == "Timestamp" || k == "Timestamp@odata.type" {
			continue
		}
		if f, ok := v.(float64); ok && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
			if _, annotated := r[k+"@odata.type"]; !annotated {
				v = int(f)
			}
		}
		out[k] = v
	}
	return out
}

func numberEqual(a, b any) bool {
	x, ok1 := a.(float64)
	y, ok2 := b.(float64)
	return ok1 && ok2 && x == y
}

// ErrNotRewindable: only a Failed instance with failures in its history
// can be rewound.
var ErrNotRewindable = fmt.Errorf("instance cannot be rewound")
