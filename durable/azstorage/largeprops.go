package azstorage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/godurable/functions/durable/history"
)

// offloadLargeProperties moves oversized columns of a row into gzip
// blobs: the column becomes "" and {Prop}BlobName names the blob. It
// returns the offloaded columns, values included.
func (b *Backend) offloadLargeProperties(ctx context.Context, row map[string]any) ([]largeProperty, error) {
	props, err := offloadRowProperties(row, rand.Uint32)
	if err != nil {
		return nil, err
	}
	for _, p := range props {
		if err := b.uploadCompressed(ctx, p.BlobName, []byte(p.Value)); err != nil {
			return nil, err
		}
	}
	return props, nil
}

// restoreLargeProperties downloads the blobs named by {Prop}BlobName
// columns back into their columns and returns the blobs' names.
func (b *Backend) restoreLargeProperties(ctx context.Context, row map[string]any) ([]string, error) {
	var names []string
	for k, v := range row {
		name, ok := v.(string)
		if !ok || name == "" || !strings.HasSuffix(k, "BlobName") || strings.Contains(k, "@") {
			continue
		}
		data, err := b.downloadCompressed(ctx, name)
		if err != nil {
			return nil, err
		}
		row[strings.TrimSuffix(k, "BlobName")] = string(data)
		names = append(names, name)
	}
	return names, nil
}

// executionBlobs are the large-message blobs of the history rows of an
// instance's current execution, as DurableTask's tracking store keeps
// them: once a continue-as-new has committed the next execution, the
// blobs of the replaced one are deleted. offloaded maps the events
// written by the episode being committed to their offloaded columns, so
// the Instances row can point at the same blobs.
type executionBlobs struct {
	names     []string
	offloaded map[*history.Event][]largeProperty
}

// deleteBlobs removes large-message blobs, logging the ones that fail: a
// leftover blob costs storage, not correctness.
func (b *Backend) deleteBlobs(ctx context.Context, instanceID string, names []string) {
	container := b.names.LargeMessagesContainer()
	_ = inParallel(len(names), func(i int) error {
		if _, err := b.c.Blob.DeleteBlob(ctx, container, names[i], nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
			b.log.Warn("deleting a blob of a replaced execution failed", "instanceId", instanceID, "blob", names[i], "error", err)
		}
		return nil
	})
}

// historyBlobColumn maps an Instances row column to the history column it
// copies for an event that sets it (DurableTask's
// SetInstancesTablePropertyFromHistoryProperty).
func historyBlobColumn(e *history.Event) (instanceCol, historyCol string) {
	switch e.Type {
	case history.ExecutionStarted:
		return "Input", "Input"
	case history.ExecutionCompleted, history.ContinueAsNew:
		return "Output", "Result"
	case history.ExecutionTerminated:
		return "Output", "Input"
	case history.ExecutionSuspended, history.ExecutionResumed:
		return "Output", "Reason"
	}
	return "", ""
}

// pointAtHistoryBlobs makes the Instances row's Input and Output, where
// they hold a value that the episode's history rows offloaded to a blob,
// the URL of that blob instead of a second copy, as DurableTask does.
func (b *Backend) pointAtHistoryBlobs(row map[string]any, events []*history.Event, offloaded map[*history.Event][]largeProperty) {
	for _, e := range events {
		icol, hcol := historyBlobColumn(e)
		if icol == "" {
			continue
		}
		for _, p := range offloaded[e] {
			if v, _ := row[icol].(string); p.Column == hcol && v == p.Value {
				row[icol] = b.blobURL(p.BlobName)
			}
		}
	}
}

// offloadInstanceColumns stores Input and Output values too large for a
// column in blobs and puts the blob's URL in the column, the
// form every reader dereferences.
func (b *Backend) offloadInstanceColumns(ctx context.Context, row map[string]any) error {
	for _, p := range []string{"Input", "Output"} {
		v, ok := row[p].(string)
		if !ok || !exceedsTablePropertyLimit(v) {
			continue
		}
		pk, _ := row["PartitionKey"].(string)
		name := fmt.Sprintf("%s/history--%s-%08X-%s.json.gz", pk, p, rand.Uint32(), p)
		if err := b.uploadCompressed(ctx, name, []byte(v)); err != nil {
			return err
		}
		row[p] = b.blobURL(name)
	}
	return b.offloadTags(ctx, row)
}

// blobURL is a large-message blob's URL as DurableTask writes it: the
// container URL and each path segment escaped like .NET's
// Uri.EscapeDataString, slashes kept.
func (b *Backend) blobURL(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = escapeDataString(s)
	}
	return b.c.Account.BlobEndpoint + "/" + b.names.LargeMessagesContainer() + "/" + strings.Join(segs, "/")
}

// escapeDataString percent-encodes everything but RFC 3986 unreserved
// characters.
func escapeDataString(s string) string {
	const hex = "0123456789ABCDEF"
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' {
			out.WriteByte(c)
			continue
		}
		out.WriteByte('%')
		out.WriteByte(hex[c>>4])
		out.WriteByte(hex[c&15])
	}
	return out.String()
}
