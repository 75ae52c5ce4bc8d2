package bindings

import (
	"encoding/json"
	"testing"
)

func TestRetryContext(t *testing.T) {
	r := InvokeRequest{Metadata: map[string]json.RawMessage{
		"RetryContext": json.RawMessage(`{"RetryCount":2,"MaxRetryCount":5,"Exception":{"message":"boom"}}`)}}
	rc, ok, err := r.RetryContext()
	if !ok || err != nil || rc.RetryCount != 2 || rc.MaxRetryCount != 5 || string(rc.Exception) != `{"message":"boom"}` {
		t.Fatalf("%+v %v %v", rc, ok, err)
	}
}
