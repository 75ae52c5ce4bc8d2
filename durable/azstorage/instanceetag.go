package azstorage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/godurable/functions/durable/backend"
)

// rowETag is the Instances row a work item saw when it was fetched
// (Options.UseInstanceTableETag): its ETag, or found false when there
// was no row.
type rowETag struct {
	etag  azcore.ETag
	found bool
}

// readRowETag reads the ETag of an instance's row for a work item.
func (b *Backend) readRowETag(ctx context.Context, instanceID string) (*rowETag, error) {
	_, etag, found, err := b.readInstanceRow(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	return &rowETag{etag: etag, found: found}, nil
}

// writeGuardedRow writes a checkpoint's Instances row only if the row is
// still the one the work item saw: a merge with If-Match on its ETag, or
// an insert when there was no row. A row another writer changed (a worker
// that stalled between its history write and this update, while another
// one moved the instance on) fails the checkpoint with ErrConflict and
// the Table service's 412 or 409, as DurableTask's UseInstanceTableEtag
// does, instead of writing a stale status over a newer one.
func (b *Backend) writeGuardedRow(ctx context.Context, instanceID string, row map[string]any, guard *rowETag) error {
	if err := b.offloadInstanceColumns(ctx, row); err != nil {
		return err
	}
	body, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("azstorage: encode instance row of %q: %w", instanceID, err)
	}
	var resp struct{ ETag azcore.ETag }
	if guard.found {
		r, err := b.instances().UpdateEntity(ctx, body, &aztables.UpdateEntityOptions{IfMatch: &guard.etag, UpdateMode: aztables.UpdateModeMerge})
		if err != nil {
			return guardedRowError(instanceID, err)
		}
		resp.ETag = r.ETag
	} else {
		r, err := b.instances().AddEntity(ctx, body, nil)
		if err != nil {
			return guardedRowError(instanceID, err)
		}
		resp.ETag = r.ETag
	}
	guard.etag, guard.found = resp.ETag, true
	return nil
}

func guardedRowError(instanceID string, err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) && (re.StatusCode == 412 || re.StatusCode == 409) {
		return fmt.Errorf("azstorage: the Instances row of %q changed since the work item was fetched: %w: %w", instanceID, backend.ErrConflict, err)
	}
	return fmt.Errorf("azstorage: update instance row of %q: %w", instanceID, err)
}
