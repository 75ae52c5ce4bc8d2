package azstorage

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/godurable/functions/durable/backend"
)

// statusReadAttempts bounds how often GetInstance reads an Instances row
// again because a payload blob it named was gone.
const statusReadAttempts = 3

// readInstanceState reads an instance's row and, with fetchPayloads, the
// Input and Output blobs it names. A blob can vanish between the row read
// and the download when the instance moved on meanwhile (a continue-as-new
// deletes the replaced execution's blobs once the row points at the new
// ones), so a missing blob makes it read the row again.
func (b *Backend) readInstanceState(ctx context.Context, instanceID string, fetchPayloads bool) (*backend.InstanceState, error) {
	var lastErr error
	for attempt := 0; attempt < statusReadAttempts; attempt++ {
		row, found, err := b.readStatusRow(ctx, instanceID)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("azstorage: %q: %w", instanceID, backend.ErrInstanceNotFound)
		}
		st, err := rowToInstanceState(row)
		if err != nil {
			return nil, fmt.Errorf("azstorage: instance row of %q: %w", instanceID, err)
		}
		if !fetchPayloads {
			return st, nil
		}
		if st.Input, err = b.dereferenceBlobURL(ctx, st.Input, true); err == nil {
			st.Output, err = b.dereferenceBlobURL(ctx, st.Output, false)
		}
		if err == nil {
			return st, nil
		}
		if !bloberror.HasCode(err, bloberror.BlobNotFound) {
			return nil, err
		}
		lastErr = err
	}
	return nil, lastErr
}
