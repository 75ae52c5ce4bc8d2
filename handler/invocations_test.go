package handler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/godurable/functions/bindings"
)

func TestInvocationDispatch(t *testing.T) {
	var got *bindings.InvokeRequest
	h := newTestRouter(map[string]InvocationFunc{
		"StartFromQueue": func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
			got = req
			return &bindings.InvokeResponse{Logs: []string{"started"}, ReturnValue: map[string]string{"instanceId": "o1"}}, nil
		},
		"Quiet": func(context.Context, *bindings.InvokeRequest) (*bindings.InvokeResponse, error) { return nil, nil },
		"Broken": func(context.Context, *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
			return nil, errors.New("no luck")
		},
	})
	// The name matches case-insensitively; the body reaches the function.
	rec := serve(h, "POST", "/startfromqueue", `{"Data":{"order":"\"o1\""},"Metadata":{"DequeueCount":"1","sys":{"MethodName":"StartFromQueue"}}}`,
		"X-Azure-Functions-InvocationId", "inv-1")
	if rec.Code != 200 || rec.Body.String() != `{"Outputs":{},"Logs":["started"],"ReturnValue":{"instanceId":"o1"}}` ||
		rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var order string
	var dequeues int
	if err := got.DecodeData("order", &order); err != nil || order != "o1" {
		t.Fatalf("order = %q, %v", order, err)
	}
	if err := got.DecodeMetadata("DequeueCount", &dequeues); err != nil || dequeues != 1 {
		t.Fatalf("DequeueCount = %d, %v", dequeues, err)
	}
	// A nil response is an empty, valid one.
	if rec := serve(h, "POST", "/Quiet", `{}`); rec.Code != 200 || rec.Body.String() != `{"Outputs":{},"Logs":[],"ReturnValue":null}` {
		t.Fatalf("nil response: %d %s", rec.Code, rec.Body)
	}
	for _, c := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/Unknown", `{}`, 404, "no function named 'Unknown'"},
		{"/StartFromQueue", `{"Data":`, 400, "Invalid invocation request"},
		{"/StartFromQueue", `[1,2]`, 400, "Invalid invocation request"},
		{"/Broken", `{}`, 500, "no luck"},
		{"/StartFromQueue", strings.Repeat("x", 2000), 413, "too large"},
	} {
		t.Run(c.path, func(t *testing.T) { wantJSONError(t, serve(h, "POST", c.path, c.body), c.code, c.msg) })
	}
	// Other methods are not invocations.
	if rec := serve(h, "GET", "/StartFromQueue", ""); rec.Code != 405 {
		t.Fatalf("GET: %d", rec.Code)
	}
}
