package handler

import (
	"fmt"
	"testing"

	"github.com/godurable/functions/durable"
)

// Durable Functions answers routes it does not know with an empty 404.
func TestUnknownManagementRoutesAre404(t *testing.T) {
	h := outcomeRouter(&outcomeDurable{})
	for _, c := range []struct{ method, path string }{
		{"GET", "/runtime/webhooks/durabletask/nothing"},
		{"GET", "/api/durabletask/instances/a/b/c/d"},
		{"GET", "/runtime/webhooks/durabletask"},
		{"GET", "/runtime/webhooks/durabletask/orchestrators/X"},
		{"PUT", "/api/durabletask/instances/x"},
		{"POST", "/api/durabletask/instances/x/explode"},
		{"POST", "/api/durabletask/orchestrators"},
	} {
		if rec := serve(h, c.method, c.path, ""); rec.Code != 404 || rec.Body.Len() != 0 {
			t.Errorf("%s %s: %d %q", c.method, c.path, rec.Code, rec.Body)
		}
	}
	// Outside the API, unknown paths get a JSON 404.
	wantJSONError(t, serve(h, "GET", "/no/such/path", ""), 404, "no route matches GET /no/such/path")
}

// Literal segments match case-insensitively, a trailing slash is
// irrelevant, and escaped ids reach the client unescaped.
func TestManagementDispatch(t *testing.T) {
	for _, c := range []struct {
		method, path, body string
		code               int
		command            string
	}{
		{"POST", "/api/durabletask/Instances/x/RAISEEVENT/approval", `true`, 202, "raise approval true"},
		{"POST", "/runtime/webhooks/durabletask/instances/x/terminate?reason=enough", "", 202, "terminate enough"},
		{"POST", "/runtime/webhooks/durabletask/instances/x/Suspend/?Reason=pause", "", 202, "suspend pause"},
		{"POST", "/api/durabletask/instances/a%2Fb/resume", "", 202, "resume "},
		{"DELETE", "/api/durabletask/instances/x", "", 200, "purge"},
		{"GET", "/api/durabletask/instances/", "", 200, "list"},
		{"GET", "/api/durabletask/instances", "", 200, "list"},
	} {
		f := &outcomeDurable{}
		rec := serve(outcomeRouter(f), c.method, c.path, c.body, "Content-Type", "application/json")
		if rec.Code != c.code || f.lastCommand != c.command {
			t.Errorf("%s %s: %d %s, command %q; want %d %q", c.method, c.path, rec.Code, rec.Body, f.lastCommand, c.code, c.command)
		}
	}
}

// How the commands' outcomes map to HTTP.
func TestCommandOutcomes(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{nil, 202},
		{fmt.Errorf("x: %w", durable.ErrInstanceNotFound), 404},
		{fmt.Errorf("x: %w", durable.ErrInstanceFinished), 410},
		{fmt.Errorf("x: %w", durable.ErrInvalidInput), 400},
		{errStorageDown, 500},
	} {
		for _, op := range []string{"terminate", "suspend", "resume"} {
			rec := serve(outcomeRouter(&outcomeDurable{cmdErr: c.err}), "POST", "/api/durabletask/instances/x/"+op, "")
			if rec.Code != c.code {
				t.Errorf("%s with %v: %d %s; want %d", op, c.err, rec.Code, rec.Body, c.code)
			}
		}
	}
	// raiseEvent takes JSON only.
	wantJSONError(t, serve(outcomeRouter(&outcomeDurable{}), "POST", "/api/durabletask/instances/x/raiseEvent/e", "hi", "Content-Type", "text/plain"),
		400, "Only application/json request content is supported")
	wantJSONError(t, serve(outcomeRouter(&outcomeDurable{}), "POST", "/api/durabletask/instances/x/raiseEvent/e", "{", "Content-Type", "application/json"),
		400, "Invalid JSON content")
}
