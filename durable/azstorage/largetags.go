package azstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/godurable/functions/durable/backend"
)

// tagsBlobColumn names the blob of an Instances row's Tags column when the
// tags are too large for a table property, as Durable Task stores them
// (its VariableSizeEntityProperties include Tags).
const tagsBlobColumn = "Tags" + blobNameColumnSuffix

// offloadTags moves an Instances row's oversized Tags column to a gzip blob
// "{PK}/history--Tags-{random:X8}-Tags.json.gz": the column becomes "" and
// TagsBlobName names the blob.
func (b *Backend) offloadTags(ctx context.Context, row map[string]any) error {
	v, ok := row["Tags"].(string)
	if !ok || !ExceedsTablePropertyLimit(v) {
		return nil
	}
	pk, _ := row["PartitionKey"].(string)
	name := fmt.Sprintf("%s/history--Tags-%08X-Tags.json.gz", pk, rand.Uint32())
	if err := b.uploadCompressed(ctx, name, []byte(v)); err != nil {
		return fmt.Errorf("azstorage: tags of %q: %w", pk, err)
	}
	row["Tags"] = ""
	row[tagsBlobColumn] = name
	return nil
}

// restoreTags puts the tags of a row whose Tags column was offloaded back
// into the column.
func (b *Backend) restoreTags(ctx context.Context, row map[string]any) error {
	name, ok := row[tagsBlobColumn].(string)
	if !ok || name == "" {
		return nil
	}
	data, err := b.downloadCompressed(ctx, name)
	if err != nil {
		return fmt.Errorf("azstorage: tags blob %s: %w", name, err)
	}
	row["Tags"] = string(data)
	delete(row, tagsBlobColumn)
	return nil
}

// decodeInstanceRow decodes a queried Instances row, with its tags.
func (b *Backend) decodeInstanceRow(ctx context.Context, raw []byte) (*backend.InstanceState, error) {
	var row map[string]any
	if err := json.Unmarshal(raw, &row); err != nil {
		return nil, fmt.Errorf("azstorage: decode instance row: %w", err)
	}
	if err := b.restoreTags(ctx, row); err != nil {
		return nil, err
	}
	b.inputBlobAsURL(row)
	st, err := RowToInstanceState(row)
	if err != nil {
		return nil, fmt.Errorf("azstorage: instance row %v: %w", row["PartitionKey"], err)
	}
	return st, nil
}
