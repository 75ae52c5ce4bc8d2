package azstorage

import (
	"fmt"
	"math/rand/v2"
	"unicode/utf8"
)

// maxTablePropertyChars is the longest string, in UTF-16 code units, that
// DurableTask.AzureStorage stores in a table column: 60 KiB of UTF-16.
// Longer values of the variable-size columns go to blobs.
const maxTablePropertyChars = 30 * 1024

// blobNameColumnSuffix marks the column naming a property's blob:
// "{Prop}BlobName" (changing it is a breaking change in DurableTask).
const blobNameColumnSuffix = "BlobName"

// variableSizeColumns are DurableTask's VariableSizeEntityProperties, the
// columns that may be offloaded to blobs, in its order.
var variableSizeColumns = [...]string{"Name", "Input", "Result", "Output", "Reason", "Details", "Correlation", "FailureDetails", "Tags"}

// variableSizeColumnList lists the row columns that may be offloaded to
// blobs: Name, Input, Result, Output, Reason, Details, Correlation,
// FailureDetails and Tags.
func variableSizeColumnList() []string { return append([]string(nil), variableSizeColumns[:]...) }

// exceedsTablePropertyLimit reports a value too long for a table column
// (more than maxTablePropertyChars UTF-16 code units).
func exceedsTablePropertyLimit(s string) bool {
	// UTF-16 never needs more code units than UTF-8 needs bytes.
	return len(s) > maxTablePropertyChars && utf16Length(s) > maxTablePropertyChars
}

// utf16Length counts s's UTF-16 code units, as .NET's string.Length
// would; invalid UTF-8 bytes count as one U+FFFD each.
func utf16Length(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
		if r >= 0x10000 {
			n++ // a surrogate pair
		}
	}
	return n
}

// historyBlobName is the large-message blob of an offloaded row column:
// "{PK}/history-{RK}-{EventType}-{random:X8}-{Column}.json.gz" with the
// escaped partition key.
func historyBlobName(partitionKey, rowKey, eventType string, random uint32, column string) string {
	return fmt.Sprintf("%s/history-%s-%s-%08X-%s.json.gz", partitionKey, rowKey, eventType, random, column)
}

// largeProperty is a row column whose value lives in a blob of the
// large-message container.
type largeProperty struct {
	Column   string // e.g. "Input"
	BlobName string // the blob in the large-message container
	// Value is the column's full text: to be gzipped and uploaded
	// (offloadRowProperties), or empty until downloaded
	// (rowBlobReferences).
	Value string
}

// offloadRowProperties applies DurableTask's large-column rule to a row
// about to be written: each variable-size column holding a
// string too long for the Table service is set to "" and gets a companion
// column "{Column}BlobName" naming its blob. It returns the blobs the
// caller must upload (gzipped, see gzipBytes) before writing the row. random
// supplies the blob names' random part (nil: math/rand). A row without
// an EventType column (an Instances row) names its blobs after the
// column, as DurableTask does for Input, Output and Tags; other columns
// of such a row cannot be offloaded.
func offloadRowProperties(row map[string]any, random func() uint32) ([]largeProperty, error) {
	if random == nil {
		random = rand.Uint32
	}
	var out []largeProperty
	for _, col := range variableSizeColumns {
		v, ok := row[col].(string)
		if !ok || !exceedsTablePropertyLimit(v) {
			continue
		}
		eventType, _ := row[mEventType].(string)
		if eventType == "" {
			switch col {
			case "Input", "Output", "Tags":
				eventType = col
			default:
				return nil, fmt.Errorf("azstorage: row column %s is too large for a table and the row has no EventType to name its blob", col)
			}
		}
		pk, _ := row["PartitionKey"].(string)
		rk, _ := row["RowKey"].(string)
		name := historyBlobName(pk, rk, eventType, random(), col)
		row[col] = ""
		row[col+blobNameColumnSuffix] = name
		out = append(out, largeProperty{Column: col, BlobName: name, Value: v})
	}
	return out, nil
}

// rowBlobReferences lists the offloaded columns of a row read back: every
// variable-size column with a "{Column}BlobName". The caller downloads
// and gunzips each blob and puts the text back with restoreLargeProperty
// before decoding the row.
func rowBlobReferences(row map[string]any) []largeProperty {
	var out []largeProperty
	for _, col := range variableSizeColumns {
		if name, ok := row[col+blobNameColumnSuffix].(string); ok && name != "" {
			out = append(out, largeProperty{Column: col, BlobName: name})
		}
	}
	return out
}

// restoreLargeProperty puts a downloaded column value back into its row
// and drops the row's "{Column}BlobName" reference.
func restoreLargeProperty(row map[string]any, column, value string) {
	row[column] = value
	delete(row, column+blobNameColumnSuffix)
}

// unrestoredBlobColumn returns a column of row that still points to a blob
// and holds no value, if any.
func unrestoredBlobColumn(row map[string]any) (largeProperty, bool) {
	for _, p := range rowBlobReferences(row) {
		if v, _ := row[p.Column].(string); v == "" {
			return p, true
		}
	}
	return largeProperty{}, false
}
