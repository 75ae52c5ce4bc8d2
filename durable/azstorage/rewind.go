package azstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// RewindInstance implements backend.Backend the way DurableTask's legacy
// rewind does: each failed result, the scheduling event it answered and
// the failed ExecutionCompleted are rewritten as GenericEvent rows with
// Data "Rewound: <old type>", so on replay the orchestrator schedules the
// failed calls again as new work; the Instances row goes back to Pending
// and a GenericEvent message wakes the instance.
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
	h, err := b.loadHistory(ctx, instanceID, "")
	if err != nil {
		return err
	}
	failedIDs := map[int]bool{}
	for _, e := range h.events {
		if e.Type == history.TaskFailed || e.Type == history.SubOrchestrationInstanceFailed {
			failedIDs[e.TaskScheduledID] = true
		}
	}
	now := time.Now().UTC()
	pk := EscapePartitionKey(instanceID)
	batch := TableBatch{Table: b.names.HistoryTable(), PartitionKey: pk}
	for i, e := range h.events {
		rewound := false
		switch e.Type {
		case history.TaskFailed, history.SubOrchestrationInstanceFailed, history.ExecutionCompleted:
			rewound = true
		case history.TaskScheduled, history.SubOrchestrationInstanceCreated:
			rewound = failedIDs[e.EventID]
		}
		if !rewound {
			continue
		}
		data := "Rewound: " + e.Type.String()
		ge := &history.Event{Type: history.GenericEvent, EventID: e.EventID, Timestamp: e.Timestamp, Data: &data}
		batch.Ops = append(batch.Ops, TableOp{Kind: OpUpsertReplace, Entity: EventToRow(instanceID, h.executionID, i, ge)})
	}
	if len(batch.Ops) == 0 {
		return fmt.Errorf("azstorage: rewind %q: its history has no failure to rewind: %w", instanceID, ErrNotRewindable)
	}
	if h.sentinelETag != "" {
		batch.Ops = append(batch.Ops, TableOp{Kind: OpUpdateMerge, ETag: h.sentinelETag,
			Entity: map[string]any{"PartitionKey": pk, "RowKey": "sentinel", "ExecutionId": h.executionID}})
	}
	for start := 0; start < len(batch.Ops); start += maxBatchOps {
		part := batch
		part.Ops = batch.Ops[start:min(start+maxBatchOps, len(batch.Ops))]
		if _, err := b.c.SubmitBatch(ctx, part); err != nil {
			return fmt.Errorf("azstorage: rewind %q: %w", instanceID, err)
		}
	}
	merge, _ := json.Marshal(map[string]any{"PartitionKey": pk, "RowKey": "", "RuntimeStatus": history.StatusPending.String(), "Output": "null",
		"LastUpdatedTime": FormatDotNetTime(now), "LastUpdatedTime@odata.type": "Edm.DateTime"})
	if _, err := b.instances().UpsertEntity(ctx, merge, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeMerge}); err != nil {
		return fmt.Errorf("azstorage: rewind %q: instance row: %w", instanceID, err)
	}
	data := "Rewind: " + reason
	wake := &history.Event{Type: history.GenericEvent, EventID: -1, Timestamp: now, Data: &data}
	return b.SendEvent(ctx, history.OrchestrationInstance{InstanceID: instanceID}, wake)
}

// ErrNotRewindable: only a Failed instance with failures in its history
// can be rewound.
var ErrNotRewindable = fmt.Errorf("instance cannot be rewound")
