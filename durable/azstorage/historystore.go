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
	blobs        []string // large-message blobs of these rows
}

// loadHistory reads an instance's current execution. With an
// expected execution id that is not the stored one, the history is empty
// but the sentinel's ETag is still returned, so the next write is guarded.
func (b *Backend) loadHistory(ctx context.Context, instanceID, expectedExecID string) (*storedHistory, error) {
	rows, err := b.queryRows(ctx, b.names.HistoryTable(), partitionKeyFilter(instanceID), nil)
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
		names, err := b.restoreLargeProperties(ctx, r)
		if err != nil {
			return nil, err
		}
		out.blobs = append(out.blobs, names...)
		e, err := rowToEvent(r)
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

// maxBatchBytes is the estimated size at which DurableTask closes a
// history batch, well under the Table service's 4 MB transaction limit.
const maxBatchBytes = 3 * 1024 * 1024

// estimatedRowBytes is a history row's share of a transaction: at least
// DurableTask's tracking-store estimate (1 KB for the fixed-size columns
// plus the UTF-16 bytes of each non-empty variable-size column), and at
// least the row's encoded size plus that 1 KB with every byte of a
// multi-byte UTF-8 character counted twice. Text of three-byte characters
// takes more on the wire than in UTF-16, and the storage emulator
// (Azurite) measures a request by re-encoding its bytes, which doubles
// those; counting them twice keeps a batch under 4 MB for both.
func estimatedRowBytes(row map[string]any) int {
	n := 0
	for _, col := range variableSizeColumns {
		if v, ok := row[col].(string); ok && v != "" {
			n += 2 * utf16Length(v)
		}
	}
	if body, err := encodeBatchEntity(row); err == nil {
		wire := len(body)
		for _, c := range body {
			if c >= 0x80 {
				wire++
			}
		}
		n = max(n, wire)
	}
	return 1024 + n
}

// writeHistory appends an episode's events in batches cut as
// DurableTask cuts them: at 99 rows, or once a batch holds more than an
// estimated 3 MB (estimatedRowBytes). Each batch carries the sentinel,
// guarded by its ETag (Add when none exists yet), so a concurrent writer
// makes the whole batch fail with backend.ErrConflict and change nothing.
func (b *Backend) writeHistory(ctx context.Context, st *workItemState, instanceID, executionID string, first int, events []*history.Event) error {
	pk := EscapePartitionKey(instanceID)
	now := time.Now().UTC()
	for i := 0; i < len(events); {
		batch := tableBatch{Table: b.names.HistoryTable(), PartitionKey: pk}
		size := 0
		for i < len(events) && len(batch.Ops) < maxRowsPerBatch && size <= maxBatchBytes {
			row, err := eventRow(instanceID, executionID, first+i, storedForm(events[i]))
			if err != nil {
				return fmt.Errorf("azstorage: history of %q: %w", instanceID, err)
			}
			props, err := b.offloadLargeProperties(ctx, row)
			if err != nil {
				return err
			}
			for _, p := range props {
				st.blobs.names = append(st.blobs.names, p.BlobName)
			}
			if len(props) > 0 {
				if st.blobs.offloaded == nil {
					st.blobs.offloaded = map[*history.Event][]largeProperty{}
				}
				st.blobs.offloaded[events[i]] = props
			}
			batch.Ops = append(batch.Ops, tableOp{Kind: opUpsertReplace, Entity: row})
			size += estimatedRowBytes(row)
			i++
		}
		final := i == len(events)
		sentinel := sentinelRow(instanceID, executionID, final, now)
		if st.sentinelETag == "" {
			batch.Ops = append(batch.Ops, tableOp{Kind: opAdd, Entity: sentinel})
		} else {
			batch.Ops = append(batch.Ops, tableOp{Kind: opUpdateMerge, Entity: sentinel, ETag: st.sentinelETag})
		}
		res, err := b.c.submitBatch(ctx, batch)
		if err != nil {
			if isBatchConflict(err) {
				return fmt.Errorf("azstorage: history of %q: %w: %w", instanceID, backend.ErrConflict, err)
			}
			return fmt.Errorf("azstorage: write history of %q: %w", instanceID, err)
		}
		st.sentinelETag = res[len(res)-1].ETag
	}
	return nil
}

// storedForm is the event as the History table holds it. A failed
// orchestration's ExecutionCompleted keeps its Result (Durable Functions'
// "Orchestrator function 'X' failed: …", also the instance's Output) and
// no FailureDetails, as Durable Functions writes it; DurableTask's reading
// of the Output (FailureDetails, else Result) then gives the same text.
func storedForm(e *history.Event) *history.Event {
	if e.Type == history.ExecutionCompleted && e.OrchestrationStatus == history.StatusFailed && e.Failure != nil && e.Result != nil {
		c := *e
		c.Failure = nil
		return &c
	}
	return e
}
