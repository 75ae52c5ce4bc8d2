package bindings

import (
	"encoding/json"
	"fmt"
	"time"
)

// QueueTrigger is a Storage queue trigger's metadata: the message's id,
// how often it was dequeued, its times and pop receipt. The host sends each
// member as its own Metadata entry (scalars as JSON text in a string, times
// as ISO 8601 strings); UnmarshalJSON and InvokeRequest.QueueTrigger accept
// numbers and strings alike and match names case-insensitively.
type QueueTrigger struct {
	ID              string
	DequeueCount    int64
	InsertionTime   time.Time
	ExpirationTime  time.Time
	NextVisibleTime time.Time
	PopReceipt      string
}

// QueueTrigger reads the queue trigger metadata of the invocation. Members
// the host did not send stay zero.
func (r *InvokeRequest) QueueTrigger() (QueueTrigger, error) {
	var q QueueTrigger
	err := q.fromMembers(r.Metadata)
	return q, err
}

// UnmarshalJSON decodes queue trigger metadata given as one object.
func (q *QueueTrigger) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("bindings: queue trigger metadata: %w", err)
	}
	return q.fromMembers(m)
}

func (q *QueueTrigger) fromMembers(m map[string]json.RawMessage) error {
	strs := []struct {
		name string
		dst  *string
	}{{"Id", &q.ID}, {"PopReceipt", &q.PopReceipt}}
	for _, f := range strs {
		if raw, ok := lookup(m, f.name); ok {
			if err := DecodeValue(raw, f.dst); err != nil {
				return fmt.Errorf("bindings: queue trigger %s: %w", f.name, err)
			}
		}
	}
	if raw, ok := lookup(m, "DequeueCount"); ok {
		if err := DecodeValue(raw, &q.DequeueCount); err != nil {
			return fmt.Errorf("bindings: queue trigger DequeueCount: %w", err)
		}
	}
	times := []struct {
		name string
		dst  *time.Time
	}{{"InsertionTime", &q.InsertionTime}, {"ExpirationTime", &q.ExpirationTime}, {"NextVisibleTime", &q.NextVisibleTime}}
	for _, f := range times {
		raw, ok := lookup(m, f.name)
		if !ok {
			continue
		}
		t, err := decodeTime(raw)
		if err != nil {
			return fmt.Errorf("bindings: queue trigger %s: %w", f.name, err)
		}
		*f.dst = t
	}
	return nil
}

// decodeTime reads an ISO 8601 time as .NET writes DateTime and
// DateTimeOffset values: with Z, with an offset, or without a zone (read
// as UTC). null gives the zero time.
func decodeTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := DecodeValue(raw, &s); err != nil {
		return time.Time{}, err
	}
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date and time", s)
}
