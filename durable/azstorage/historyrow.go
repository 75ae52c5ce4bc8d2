package azstorage

import (
	"fmt"
	"time"

	"github.com/godurable/functions/durable/history"
)

// The annotations of typed table values in the Table service's JSON
// format, written next to a value as "{Column}@odata.type".
const (
	edmAnnotationSuffix = "@odata.type"
	edmDateTime         = "Edm.DateTime"
)

// historyTimestampColumn holds HistoryEvent.Timestamp: "Timestamp" is the
// Table service's own column.
const historyTimestampColumn = "_Timestamp"

// eventRow builds the History table row of event number seq of an
// execution, as DurableTask's TableEntityConverter does:
// PartitionKey is the escaped instance ID, RowKey the sequence number as
// 16 hex digits, ExecutionId is added, and every data member of the
// event's class becomes a column of the same name (Timestamp becomes
// _Timestamp):
//
//   - strings as strings; a nil string is left out (the Table service
//     stores no nulls);
//   - int and bool as JSON numbers (Edm.Int32) and booleans;
//   - DateTime as an Edm.DateTime string with its "@odata.type"
//     annotation (a zero time or nil pointer is left out, since the
//     service rejects years before 1601);
//   - the enums EventType and OrchestrationStatus as their names;
//   - OrchestrationInstance, ParentInstance, Tags, FailureDetails and
//     ParentTraceContext as Newtonsoft JSON text without "$type", nil as
//     the text "null".
//
// The map is ready for json.Marshal and the aztables SDK. Values too long
// for a column are not handled here: see offloadRowProperties.
func eventRow(instanceID, executionID string, seq int, e *history.Event) (map[string]any, error) {
	members, err := eventMembers(e.Type)
	if err != nil {
		return nil, err
	}
	row := make(map[string]any, len(members)+6)
	row["PartitionKey"] = EscapePartitionKey(instanceID)
	row["RowKey"] = rowKeyForSequence(seq)
	row["ExecutionId"] = executionID
	for _, m := range members {
		if err := putRowValue(row, historyColumn(m), eventMemberValue(e, m)); err != nil {
			return nil, fmt.Errorf("azstorage: history row %d of %q (%v): %w", seq, instanceID, e.Type, err)
		}
	}
	return row, nil
}

// eventToRow is eventRow for events known to be valid, as the engine
// builds them. It panics on an event type without a DurableTask class
// (ExecutionFailed or unknown) or unencodable failure properties.
func eventToRow(instanceID, executionID string, seq int, e *history.Event) map[string]any {
	row, err := eventRow(instanceID, executionID, seq, e)
	if err != nil {
		panic(err)
	}
	return row
}

func historyColumn(member string) string {
	if member == mTimestamp {
		return historyTimestampColumn
	}
	return member
}

// putRowValue stores one member value in table form.
func putRowValue(row map[string]any, col string, v any) error {
	switch x := v.(type) {
	case history.EventType:
		row[col] = x.String()
	case history.OrchestrationStatus:
		row[col] = x.String()
	case int, bool, string:
		row[col] = x
	case *string:
		if x != nil {
			row[col] = *x
		}
	case *int:
		if x != nil {
			row[col] = *x
		}
	case time.Time:
		setRowTime(row, col, x)
	case *time.Time:
		if x != nil {
			setRowTime(row, col, *x)
		}
	default:
		s, err := complexColumnJSON(v)
		if err != nil {
			return fmt.Errorf("%s: %w", col, err)
		}
		row[col] = s
	}
	return nil
}

// setRowTime stores a DateTime column with its Edm.DateTime annotation; a
// zero time is left out.
func setRowTime(row map[string]any, col string, t time.Time) {
	if t.IsZero() {
		return
	}
	row[col] = formatDotNetTime(t)
	row[col+edmAnnotationSuffix] = edmDateTime
}

// complexColumnJSON renders a complex member as DurableTask stores it in a
// column: Newtonsoft's default JSON (no "$type"), nil as "null".
func complexColumnJSON(v any) (string, error) {
	w := &jsonWriter{}
	switch x := v.(type) {
	case map[string]string:
		writeTagsObject(w, x, false)
	case *history.OrchestrationInstance:
		if x == nil {
			w.nullValue()
		} else {
			writeInstanceObject(w, *x, false)
		}
	case *history.ParentInstance:
		writeParentObject(w, x, false)
	case *history.FailureDetails:
		if err := writeFailureObject(w, x, false); err != nil {
			return "", err
		}
	case *history.TraceContext:
		writeTraceObject(w, x, false)
	case complexNull:
		w.nullValue()
	default:
		return "", fmt.Errorf("unsupported member value of type %T", v)
	}
	return string(w.bytes()), nil
}

// rowToEvent reads a History table row back into its event:
// the class comes from the EventType column (a name, or leniently an
// integer), missing columns take their defaults, "null" complex columns
// are nil, and the row's other columns (keys, ExecutionId, annotations,
// blob references) are ignored. A column offloaded to a blob must have
// been restored first (see rowBlobReferences); a row still missing one is
// an error. Rows as the aztables SDK returns them (JSON-decoded, with
// annotations and numbers as float64 or json.Number) and rows built in Go
// (int, time.Time) are both accepted.
func rowToEvent(row map[string]any) (*history.Event, error) {
	rk, _ := row["RowKey"].(string)
	if _, ok := row[mEventType]; !ok {
		return nil, fmt.Errorf("azstorage: history row %q has no EventType column", rk)
	}
	if p, ok := unrestoredBlobColumn(row); ok {
		return nil, fmt.Errorf("azstorage: history row %q: column %s is in blob %q and was not restored", rk, p.Column, p.BlobName)
	}
	o := jsonObject(row)
	r := &memberReader{get: func(name string) (any, bool) { return o.lookup(historyColumn(name)) }}
	typ := r.eventType(mEventType)
	if r.err != nil {
		return nil, fmt.Errorf("azstorage: history row %q: %w", rk, r.err)
	}
	e, err := eventFromMembers(typ, r)
	if err != nil {
		return nil, fmt.Errorf("azstorage: history row %q (%v): %w", rk, typ, err)
	}
	return e, nil
}

// sentinelRow is the checkpoint guard row of an instance's history
// partition (RowKey "sentinel"): the current
// ExecutionId and IsCheckpointComplete; CheckpointCompletedTimestamp is
// written only by a checkpoint's final batch (final), and left as it was
// by merges of the other batches.
func sentinelRow(instanceID, executionID string, final bool, now time.Time) map[string]any {
	row := map[string]any{
		"PartitionKey":         EscapePartitionKey(instanceID),
		"RowKey":               sentinelRowKey,
		"ExecutionId":          executionID,
		"IsCheckpointComplete": final,
	}
	if final {
		setRowTime(row, "CheckpointCompletedTimestamp", now)
	}
	return row
}
