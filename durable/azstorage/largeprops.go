package azstorage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf16"
)

// largeRowProperties are the history columns that may be offloaded to
// blobs (VariableSizeEntityProperties).
var largeRowProperties = []string{"Name", "Input", "Result", "Output", "Reason", "Details", "Correlation", "FailureDetails", "Tags"}

// maxTablePropertyChars is the UTF-16 length past which a string column is
// offloaded (64 KiB per property, less headroom: 30 720 characters).
const maxTablePropertyChars = 30 * 1024

func utf16Len(s string) int {
	if len(s) <= maxTablePropertyChars {
		return len(s) // cheap bound: UTF-16 units never exceed UTF-8 bytes
	}
	n := 0
	for _, r := range s {
		n += len(utf16.Encode([]rune{r}))
	}
	return n
}

// offloadLargeProperties moves oversized columns of a history row into
// gzip blobs: the column becomes "" and {Prop}BlobName names the blob.
func (b *Backend) offloadLargeProperties(ctx context.Context, row map[string]any) error {
	for _, p := range largeRowProperties {
		v, ok := row[p].(string)
		if !ok || utf16Len(v) <= maxTablePropertyChars {
			continue
		}
		pk, _ := row["PartitionKey"].(string)
		rk, _ := row["RowKey"].(string)
		et, _ := row["EventType"].(string)
		name := fmt.Sprintf("%s/history-%s-%s-%08X-%s.json.gz", pk, rk, et, rand.Uint32(), p)
		if err := b.uploadCompressed(ctx, name, []byte(v)); err != nil {
			return err
		}
		row[p] = ""
		row[p+"BlobName"] = name
	}
	return nil
}

// restoreLargeProperties downloads the blobs named by {Prop}BlobName
// columns back into their columns.
func (b *Backend) restoreLargeProperties(ctx context.Context, row map[string]any) error {
	for k, v := range row {
		name, ok := v.(string)
		if !ok || name == "" || !strings.HasSuffix(k, "BlobName") || strings.Contains(k, "@") {
			continue
		}
		data, err := b.downloadCompressed(ctx, name)
		if err != nil {
			return err
		}
		row[strings.TrimSuffix(k, "BlobName")] = string(data)
	}
	return nil
}
