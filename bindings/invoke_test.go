package bindings

import (
	"encoding/json"
	"testing"
)

// The host's payload for a queue trigger with a JSON message and an HTTP
// trigger (spec part A.5): scalars arrive as strings of JSON text.
const queuePayload = `{"Data":{"order":"{\"id\":1005,\"item\":\"book\"}"},
 "Metadata":{"DequeueCount":"1","Id":"\"7a1\"","sys":{"MethodName":"StartFromQueue","UtcNow":"2024-05-01T12:00:00Z","RandGuid":"x"}}}`

func TestDecodeQueueInvocation(t *testing.T) {
	var r InvokeRequest
	if err := json.Unmarshal([]byte(queuePayload), &r); err != nil {
		t.Fatal(err)
	}
	var order struct {
		ID   int    `json:"id"`
		Item string `json:"item"`
	}
	if err := r.DecodeData("ORDER", &order); err != nil || order.ID != 1005 || order.Item != "book" {
		t.Fatalf("order = %+v, %v", order, err)
	}
	var n int
	if err := r.DecodeMetadata("dequeueCount", &n); err != nil || n != 1 {
		t.Fatalf("DequeueCount = %d, %v", n, err)
	}
	var id string
	if err := r.DecodeMetadata("Id", &id); err != nil || id != "7a1" {
		t.Fatalf("Id = %q, %v", id, err)
	}
	var sys Sys
	if err := r.DecodeMetadata("sys", &sys); err != nil || sys.MethodName != "StartFromQueue" {
		t.Fatalf("sys = %+v, %v", sys, err)
	}
	if err := r.DecodeData("missing", &id); err == nil {
		t.Fatal("a missing binding must be an error")
	}
}

func TestDecodeValueForms(t *testing.T) {
	var s string
	for raw, want := range map[string]string{`"\"hello\""`: "hello", `"plain"`: "plain", `"{\"a\":1}"`: `{"a":1}`} {
		if err := DecodeValue(json.RawMessage(raw), &s); err != nil || s != want {
			t.Errorf("DecodeValue(%s) = %q, %v; want %q", raw, s, err, want)
		}
	}
	var n float64
	if err := DecodeValue(json.RawMessage(`12.5`), &n); err != nil || n != 12.5 {
		t.Errorf("plain number: %v %v", n, err)
	}
	var m map[string]int
	if err := DecodeValue(json.RawMessage(`{"a":2}`), &m); err != nil || m["a"] != 2 {
		t.Errorf("object: %v %v", m, err)
	}
	if err := DecodeValue(json.RawMessage(`"nope"`), &n); err == nil {
		t.Error("a non-numeric string must not decode into a number")
	}
}

func TestHTTPResponseShape(t *testing.T) {
	b, _ := json.Marshal(InvokeResponse{Outputs: map[string]any{"res": HTTPResponse{StatusCode: 202, Body: "ok",
		Headers: map[string]string{"Content-Type": "text/plain"}}}, Logs: []string{"l"}})
	want := `{"Outputs":{"res":{"statusCode":202,"body":"ok","headers":{"Content-Type":"text/plain"}}},"Logs":["l"],"ReturnValue":null}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
}
