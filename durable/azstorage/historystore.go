package azstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// maxRowsPerBatch is DurableTask.AzureStorage's history batch size: 99
// event rows plus the sentinel in one entity-group transaction.
const maxRowsPerBatch = 99

// storedHistory is one execution's history as loaded from the History table.
type storedHistory struct {
	events       []*history.Event
	executionID  string
	sentinelETag string
}

// loadHistory reads an instance's current execution (spec §4.5). With an
// expected execution id that is not the stored one, the history is empty
// but the sentinel's ETag is still returned, so the next write is guarded.
func (b *Backend) loadHistory(ctx context.Context, instanceID, expectedExecID string) (*storedHistory, error) {
	rows, err := b.queryRows(ctx, b.names.HistoryTable(), PartitionKeyFilter(instanceID), nil)
	if err != nil {
		return nil, fmt.Errorf("azstorage: load history of %q: %w", instanceID, err)
	}
	out := &storedHistory{}
	var events []map[string]any
	for _, r := range rows {
		if r["RowKey"] == "sentinel" {
			out.executionID, _ = r["ExecutionId"].(string)
			out.sentinelETag, _ = r["odata.etag"].(string)
			continue
		}
		events = append(events, r)
	}
	sort.Slice(events, func(i, j int) bool { return events[i]["RowKey"].(string) < events[j]["RowKey"].(string) })
	if out.executionID == "" && len(events) > 0 {
		out.executionID, _ = events[0]["ExecutionId"].(string)
	}
	if expectedExecID != "" && expectedExecID != out.executionID {
		return out, nil
	}
	for _, r := range events {
		if id, _ := r["ExecutionId"].(string); id != out.executionID {
			break // stale rows of a longer, older generation
		}
		if err := b.restoreLargeProperties(ctx, r); err != nil {
			return nil, err
		}
		e, err := RowToEvent(r)
		if err != nil {
			return nil, fmt.Errorf("azstorage: history of %q, row %v: %w", instanceID, r["RowKey"], err)
		}
		out.events = append(out.events, e)
	}
	return out, nil
}

// queryRows lists a table's rows matching filter, as decoded JSON objects
// (annotations such as odata.etag included).
func (b *Backend) queryRows(ctx context.Context, table, filter string, sel *string) ([]map[string]any, error) {
	tc := b.c.Table.NewClient(table)
	opts := &aztables.ListEntitiesOptions{Filter: &filter, Select: sel}
	pager := tc.NewListEntitiesPager(opts)
	var rows []map[string]any
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			if isNotFound(err) {
				return rows, nil
			}
			return nil, err
		}
		for _, raw := range page.Entities {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, fmt.Errorf("decode row of %s: %w", table, err)
			}
			rows = append(rows, m)
		}
	}
	return rows, nil
}

// writeHistory appends an episode's events (spec §4.4): batches of at most
// 99 rows, each with the sentinel guarded by its ETag (Add when none
// exists yet), so a concurrent writer makes the whole batch fail with
// backend.ErrConflict and change nothing.
func (b *Backend) writeHistory(ctx context.Context, st *workItemState, instanceID, executionID string, first int, events []*history.Event) error {
	pk := EscapePartitionKey(instanceID)
	now := time.Now().UTC()
	for start := 0; start < len(events); start += maxRowsPerBatch {
		end := min(start+maxRowsPerBatch, len(events))
		final := end == len(events)
		batch := TableBatch{Table: b.names.HistoryTable(), PartitionKey: pk}
		for i := start; i < end; i++ {
			row, err := EventRow(instanceID, executionID, first+i, events[i])
			if err != nil {
				return fmt.Errorf("azstorage: history of %q: %w", instanceID, err)
			}
			if err := b.offloadLargeProperties(ctx, row); err != nil {
				return err
			}
			batch.Ops = append(batch.Ops, TableOp{Kind: OpUpsertReplace, Entity: row})
		}
		sentinel := SentinelRow(instanceID, executionID, final, now)
		if st.sentinelETag == "" {
			batch.Ops = append(batch.Ops, TableOp{Kind: OpAdd, Entity: sentinel})
		} else {
			batch.Ops = append(batch.Ops, TableOp{Kind: OpUpdateMerge, Entity: sentinel, ETag: st.sentinelETag})
		}
		res, err := b.c.SubmitBatch(ctx, batch)
		if err != nil {
			if IsConflict(err) {
				return fmt.Errorf("azstorage: history of %q: %w: %w", instanceID, backend.ErrConflict, err)
			}
			return fmt.Errorf("azstorage: write history of %q: %w", instanceID, err)
		}
		st.sentinelETag = res[len(res)-1].ETag
	}
	return nil
}
