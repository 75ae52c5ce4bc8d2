package bindings

import (
	"encoding/json"
	"testing"
	"time"
)

func TestQueueTriggerMetadata(t *testing.T) {
	insert := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	want := QueueTrigger{ID: "7a1c", DequeueCount: 2, InsertionTime: insert,
		ExpirationTime: insert.Add(7 * 24 * time.Hour), NextVisibleTime: insert.Add(30*time.Second + 123456700), PopReceipt: "AgAAAA=="}
	for name, payload := range map[string]string{
		// What the current host sends: scalars as JSON text in strings,
		// times as .NET's ISO 8601 DateTimeOffset text.
		"host": `{"Data":{"myQueueItem":"\"hello\""},"Metadata":{"DequeueCount":"2","ExpirationTime":"2024-05-08T12:00:00+00:00",
			"Id":"\"7a1c\"","InsertionTime":"2024-05-01T12:00:00+00:00","NextVisibleTime":"2024-05-01T12:00:30.1234567+00:00",
			"PopReceipt":"\"AgAAAA==\"","sys":{"MethodName":"StartFromQueue","UtcNow":"2024-05-01T12:00:00Z","RandGuid":"g"}}}`,
		// The docs' (2019) example: plain scalars, quoted times, other case.
		"docs": `{"Data":{"myQueueItem":"hello"},"Metadata":{"dequeueCount":2,"expirationTime":"\"2024-05-08T12:00:00Z\"",
			"id":"7a1c","insertionTime":"\"2024-05-01T12:00:00Z\"","nextVisibleTime":"2024-05-01T12:00:30.1234567",
			"popReceipt":"AgAAAA==","sys":{"MethodName":"StartFromQueue"}}}`,
	} {
		var r InvokeRequest
		if err := json.Unmarshal([]byte(payload), &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		q, err := r.QueueTrigger()
		if err != nil || q != want {
			t.Errorf("%s: QueueTrigger() = %+v, %v\nwant %+v", name, q, err, want)
		}
		var msg string
		if err := r.DecodeData("myqueueitem", &msg); err != nil || msg != "hello" {
			t.Errorf("%s: message = %q, %v", name, msg, err)
		}
	}
}

func TestQueueTriggerUnmarshal(t *testing.T) {
	var q QueueTrigger
	if err := json.Unmarshal([]byte(`{"Id":"a","DequeueCount":"5","InsertionTime":null}`), &q); err != nil ||
		q.ID != "a" || q.DequeueCount != 5 || !q.InsertionTime.IsZero() {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []string{`{"DequeueCount":"many"}`, `{"InsertionTime":"yesterday"}`, `[1]`, `{"Id":{}}`} {
		if err := json.Unmarshal([]byte(bad), &q); err == nil {
			t.Errorf("%s decoded without an error", bad)
		}
	}
}
