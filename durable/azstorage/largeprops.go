package azstorage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
)

// offloadLargeProperties moves oversized columns of a history row into
// gzip blobs: the column becomes "" and {Prop}BlobName names the blob.
func (b *Backend) offloadLargeProperties(ctx context.Context, row map[string]any) error {
	props, err := OffloadLargeProperties(row, rand.Uint32)
	if err != nil {
		return err
	}
	for _, p := range props {
		if err := b.uploadCompressed(ctx, p.BlobName, []byte(p.Value)); err != nil {
			return err
		}
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

// offloadInstanceColumns stores Input and Output values too large for a
// column in blobs and puts the blob's URL in the column (spec §5.1), the
// form every reader dereferences.
func (b *Backend) offloadInstanceColumns(ctx context.Context, row map[string]any) error {
	for _, p := range []string{"Input", "Output"} {
		v, ok := row[p].(string)
		if !ok || !ExceedsTablePropertyLimit(v) {
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
