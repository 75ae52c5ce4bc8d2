package azstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

func (b *Backend) instances() *aztables.Client { return b.c.Table.NewClient(b.names.InstancesTable()) }

// updateInstanceRow merges an episode's status into the Instances row
// (checkpoint writer).
func (b *Backend) updateInstanceRow(ctx context.Context, instanceID, executionID string, cp *backend.Checkpoint, offloaded map[*history.Event][]largeProperty, guard *rowETag) error {
	row := checkpointInstanceRowNow(b.opts.TaskHub, instanceID, executionID, cp.NewEvents, cp.State)
	b.pointAtHistoryBlobs(row, cp.NewEvents, offloaded)
	if guard != nil {
		return b.writeGuardedRow(ctx, instanceID, row, guard)
	}
	return b.mergeInstanceRow(ctx, instanceID, row, "update")
}

// mergeInstanceRow offloads the row's large columns and InsertOrMerges it;
// what names the write in errors ("update", "repair").
func (b *Backend) mergeInstanceRow(ctx context.Context, instanceID string, row map[string]any, what string) error {
	if err := b.offloadInstanceColumns(ctx, row); err != nil {
		return err
	}
	body, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("azstorage: encode instance row of %q: %w", instanceID, err)
	}
	if _, err := b.instances().UpsertEntity(ctx, body, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeMerge}); err != nil {
		return fmt.Errorf("azstorage: %s instance row of %q: %w", what, instanceID, err)
	}
	return nil
}

// repairFinishedRow brings the Instances row of a finished instance in
// line with its history when they disagree (repair):
// a worker that died between writing the final history and the row left
// the row Pending or Running. The custom status is left as stored.
func (b *Backend) repairFinishedRow(ctx context.Context, instanceID string, h *storedHistory, rows *instanceRowOnce) error {
	var end *history.Event
	for _, e := range h.events {
		if e.Type == history.ExecutionCompleted || e.Type == history.ExecutionTerminated {
			end = e
		}
	}
	if end == nil {
		return nil
	}
	status := history.StatusTerminated
	if end.Type == history.ExecutionCompleted {
		status = end.OrchestrationStatus
	}
	st, found, err := rows.get(ctx, b, instanceID)
	if err != nil && !found {
		return err
	}
	if err == nil && found && st.RuntimeStatus == status && strings.EqualFold(st.ExecutionID, h.executionID) {
		return nil
	}
	upd := backend.InstanceUpdate{CompletedTime: end.Timestamp}
	if end.Type == history.ExecutionCompleted && end.Failure != nil && end.Result != nil {
		// The checkpoint wrote the engine's failure text (the completion's
		// Result) as the Output; the repaired row shows the same.
		upd.Output = end.Result
	}
	row := checkpointInstanceRowNow(b.opts.TaskHub, instanceID, h.executionID, h.events, upd)
	delete(row, "CustomStatus")
	if err := b.mergeInstanceRow(ctx, instanceID, row, "repair"); err != nil {
		return err
	}
	b.log.Info("repaired the Instances row of a finished instance", "instanceId", instanceID, "runtimeStatus", status.String())
	*rows = instanceRowOnce{} // read again if needed
	return nil
}

// readInstanceRow reads an instance's row; found is false when there is
// none. This process's row updates of the instance are written first
// (instancewriter.go).
func (b *Backend) readInstanceRow(ctx context.Context, instanceID string) (row map[string]any, etag azcore.ETag, found bool, err error) {
	b.settleRow(ctx, instanceID)
	return b.getInstanceRow(ctx, instanceID, nil)
}

// readStatusRow reads an instance's row for its status: this process's
// row write in flight first, and the quiet updates still waiting added to
// what is read (instancewriter.go). The ETag is that of the stored row.
func (b *Backend) readStatusRow(ctx context.Context, instanceID string) (row map[string]any, found bool, err error) {
	waiting := b.pendingRowColumns(ctx, instanceID)
	row, _, found, err = b.getInstanceRow(ctx, instanceID, waiting)
	return row, found, err
}

// getInstanceRow reads an instance's row as stored, with the columns of
// overlay (if any) in place of the stored ones.
func (b *Backend) getInstanceRow(ctx context.Context, instanceID string, overlay map[string]any) (row map[string]any, etag azcore.ETag, found bool, err error) {
	resp, err := b.instances().GetEntity(ctx, EscapePartitionKey(instanceID), "", nil)
	if err != nil {
		if isNotFound(err) {
			return nil, "", false, nil
		}
		return nil, "", false, fmt.Errorf("azstorage: read instance row of %q: %w", instanceID, err)
	}
	if err := json.Unmarshal(resp.Value, &row); err != nil {
		return nil, "", false, fmt.Errorf("azstorage: decode instance row of %q: %w", instanceID, err)
	}
	maps.Copy(row, overlay)
	if err := b.restoreTags(ctx, row); err != nil {
		return nil, "", false, err
	}
	b.inputBlobAsURL(row)
	return row, resp.ETag, true, nil
}

type startVerdict int

const (
	startDefer startVerdict = iota
	startProcess
	startDiscard
)

// instanceRowOnce reads and decodes an instance's row at most once per
// work item. found with an error means the row exists but does not decode.
type instanceRowOnce struct {
	done  bool
	st    *backend.InstanceState
	found bool
	err   error
}

func (r *instanceRowOnce) get(ctx context.Context, b *Backend, instanceID string) (*backend.InstanceState, bool, error) {
	if !r.done {
		var row map[string]any
		row, _, r.found, r.err = b.readInstanceRow(ctx, instanceID)
		if r.found {
			r.st, r.err = rowToInstanceState(row)
		}
		r.done = true
	}
	return r.st, r.found, r.err
}

// isFreshStart reports a client's first start of an instance id: its
// Instances row is the Pending row of generation 0 written for this very
// execution, so no history can exist yet and reading it can be skipped.
// Only a first delivery is trusted: a wrong guess (a worker died between
// writing the history and the row) makes the first history batch add a
// sentinel that already exists; it fails with a conflict, the message is
// delivered again and then the history is read from storage.
func (b *Backend) isFreshStart(ctx context.Context, instanceID string, m *queueMessage, rows *instanceRowOnce) bool {
	e := m.data.TaskMessage.Event
	if m.dequeueCount != 1 || e.Parent != nil || (e.Generation != nil && *e.Generation != 0) {
		return false
	}
	st, found, err := rows.get(ctx, b, instanceID)
	return err == nil && found && st.Generation == 0 && st.RuntimeStatus == history.StatusPending &&
		strings.EqualFold(st.ExecutionID, m.data.TaskMessage.OrchestrationInstance.ExecutionID)
}

// RunningHere implements backend.RunningHinter: the instance's partition
// is owned here and its history is cached, which happens only after a
// committed episode that did not finish it.
func (b *Backend) RunningHere(instanceID string) bool {
	queue, _ := b.controlQueue(instanceID)
	return b.parts.owns(queue) && b.cache.has(instanceID)
}

// SendEvent implements backend.Backend: the event goes to the instance's
// control queue with the target's execution id (empty means "current").
func (b *Backend) SendEvent(ctx context.Context, to history.OrchestrationInstance, e *history.Event) error {
	queue, _ := b.controlQueue(to.InstanceID)
	return b.send(ctx, queue, b.newMessage(e, to, history.OrchestrationInstance{}, nil), 0)
}

// GetInstance implements backend.Backend.
func (b *Backend) GetInstance(ctx context.Context, instanceID string, fetchPayloads bool) (*backend.InstanceState, error) {
	return b.readInstanceState(ctx, instanceID, fetchPayloads)
}

// GetHistory implements backend.Backend.
func (b *Backend) GetHistory(ctx context.Context, instanceID string) ([]*history.Event, error) {
	h, err := b.loadHistory(ctx, instanceID, "")
	if err != nil {
		return nil, err
	}
	return h.events, nil
}

var azcoreETagAny = azcore.ETagAny

// inputBlobAsURL reads an Instances row whose Input is in a blob named by
// InputBlobName (a client-created row, see CreateInstance) as if Input
// held the blob's URL, the form every reader dereferences.
func (b *Backend) inputBlobAsURL(row map[string]any) {
	if name, _ := row["Input"+blobNameColumnSuffix].(string); name != "" {
		if v, _ := row["Input"].(string); v == "" {
			row["Input"] = b.blobURL(name)
		}
	}
}
