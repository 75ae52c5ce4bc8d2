package bindings

import (
	"encoding/json"
	"testing"
)

// The spec's (part A.5) non-forwarded HTTP trigger invocation.
const httpInvocation = `{
  "Data": {
    "req": {
      "Url": "http://localhost:7071/api/order?x=1",
      "Method": "POST",
      "Query": { "x": "1" },
      "Headers": { "Content-Type": ["application/json"], "Host": ["localhost:7071"] },
      "Params": { "id": "42" },
      "Identities": [],
      "Body": "{\"id\":1005}"
    }
  },
  "Metadata": {
    "Query": { "x": "1" },
    "Headers": { "Content-Type": "application/json" },
    "x": "\"1\"",
    "id": "\"42\"",
    "sys": { "MethodName": "order", "UtcNow": "2024-05-01T12:00:00.1234567Z", "RandGuid": "0f8fad5b-d9cb-469f-a165-70867728950e" }
  }
}`

func TestDecodeHTTPInvocation(t *testing.T) {
	var r InvokeRequest
	if err := json.Unmarshal([]byte(httpInvocation), &r); err != nil {
		t.Fatal(err)
	}
	var req HTTPRequestData
	if err := r.DecodeData("req", &req); err != nil {
		t.Fatal(err)
	}
	if req.URL != "http://localhost:7071/api/order?x=1" || req.Method != "POST" || req.Query["x"] != "1" ||
		req.Headers["Host"][0] != "localhost:7071" || req.Params["id"] != "42" || len(req.Identities) != 0 {
		t.Fatalf("request = %+v", req)
	}
	body, err := req.BodyText()
	if err != nil || body != `{"id":1005}` {
		t.Fatalf("body = %q, %v", body, err)
	}
	var order struct{ ID int }
	if err := DecodeValue(json.RawMessage(body), &order); err != nil || order.ID != 1005 {
		t.Fatalf("order = %+v, %v", order, err)
	}
	// Metadata: scalars arrive as JSON text in strings; Decode looks in
	// Data first, then Metadata, ignoring case.
	var x int
	if err := r.Decode("X", &x); err != nil || x != 1 {
		t.Fatalf("x = %d, %v", x, err)
	}
	var id string
	if err := r.DecodeMetadata("id", &id); err != nil || id != "42" {
		t.Fatalf("id = %q, %v", id, err)
	}
	var hdr map[string]string
	if err := r.Decode("headers", &hdr); err != nil || hdr["Content-Type"] != "application/json" {
		t.Fatalf("headers = %v, %v", hdr, err)
	}
	sys, err := r.Sys()
	if err != nil || sys.MethodName != "order" || sys.RandGuid == "" {
		t.Fatalf("sys = %+v, %v", sys, err)
	}
	if _, ok, err := r.RetryContext(); ok || err != nil {
		t.Fatalf("RetryContext without one: %v %v", ok, err)
	}
	for _, name := range []string{"missing", ""} {
		if err := r.Decode(name, &id); err == nil {
			t.Errorf("Decode(%q) succeeded", name)
		}
	}
	if err := r.DecodeData("sys", &sys); err == nil {
		t.Error("DecodeData must not fall back to Metadata")
	}
}

// The spec's (part A.6) invocation response, with an HTTP output.
func TestInvokeResponseShape(t *testing.T) {
	b, err := json.Marshal(InvokeResponse{
		Outputs: map[string]any{
			"res":     HTTPResponse{StatusCode: 201, Body: "ok", Headers: map[string]string{"Content-Type": "text/plain"}},
			"message": map[string]string{"text": "queued"},
		},
		Logs: []string{"line 1", "line 2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Outputs":{"message":{"text":"queued"},"res":{"statusCode":201,"body":"ok","headers":{"Content-Type":"text/plain"}}},"Logs":["line 1","line 2"],"ReturnValue":null}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	// The host matches the names case-insensitively; so does decoding.
	var back InvokeResponse
	if err := json.Unmarshal([]byte(`{"outputs":{"res":{"statusCode":200}},"logs":["x"],"returnValue":{"instanceId":"i"}}`), &back); err != nil ||
		back.Logs[0] != "x" || back.ReturnValue.(map[string]any)["instanceId"] != "i" {
		t.Fatalf("%+v %v", back, err)
	}
}
