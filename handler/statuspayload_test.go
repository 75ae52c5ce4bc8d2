package handler

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

func TestStatusPayload(t *testing.T) {
	created := time.Date(2024, 5, 1, 10, 0, 0, 999_999_999, time.FixedZone("CEST", 2*3600))
	st := &durable.InstanceStatus{Name: "H", InstanceID: "i", RuntimeStatus: durable.StatusFailed, Input: history.Str(`{"city":"Tokyo"}`),
		Output: history.Str("TaskFailedError: boom"), CreatedTime: created, LastUpdatedTime: created.Add(5 * time.Second),
		History: helloSequence()}
	for _, c := range []struct {
		name        string
		withHistory bool
		opts        historyOptions
		want        string
	}{
		{"input, null custom status, text output; whole UTC seconds", false, historyOptions{showInput: true},
			`{"name":"H","instanceId":"i","runtimeStatus":"Failed","input":{"city":"Tokyo"},"customStatus":null,"output":"TaskFailedError: boom","createdTime":"2024-05-01T08:00:00Z","lastUpdatedTime":"2024-05-01T08:00:05Z"}`},
		{"showInput=false nulls the input", false, historyOptions{},
			`{"name":"H","instanceId":"i","runtimeStatus":"Failed","input":null,"customStatus":null,"output":"TaskFailedError: boom","createdTime":"2024-05-01T08:00:00Z","lastUpdatedTime":"2024-05-01T08:00:05Z"}`},
	} {
		b, err := json.Marshal(newStatusPayload(st, c.withHistory, c.opts))
		if err != nil || string(b) != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.name, b, c.want)
		}
	}
	// With history: the transformed events, last.
	var p map[string]json.RawMessage
	b, _ := json.Marshal(newStatusPayload(st, true, historyOptions{showInput: true}))
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(historyEvents(st.History, historyOptions{showInput: true}))
	if string(p["historyEvents"]) != string(want) {
		t.Fatalf("historyEvents = %s", p["historyEvents"])
	}
	// Never for a Pending instance; an empty history is an empty list.
	pending := *st
	pending.RuntimeStatus = durable.StatusPending
	p = nil
	if b, _ := json.Marshal(newStatusPayload(&pending, true, historyOptions{})); json.Unmarshal(b, &p) != nil || p["historyEvents"] != nil {
		t.Fatalf("pending: %s", b)
	}
	empty := *st
	empty.History = nil
	p = nil
	if b, _ := json.Marshal(newStatusPayload(&empty, true, historyOptions{})); json.Unmarshal(b, &p) != nil || string(p["historyEvents"]) != `[]` {
		t.Fatalf("empty history: %s", b)
	}
	// A custom status is JSON.
	st.CustomStatus = history.Str(`{"step":2}`)
	p = nil
	if b, _ := json.Marshal(newStatusPayload(st, false, historyOptions{})); json.Unmarshal(b, &p) != nil || string(p["customStatus"]) != `{"step":2}` {
		t.Fatalf("custom status: %s", b)
	}
}
