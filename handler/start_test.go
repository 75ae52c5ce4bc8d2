package handler

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

// The three start routes answer 202 with the check-status payload, its
// links on the base the request came in under (HttpStart: the forwarded
// API).
func TestStartRoutes(t *testing.T) {
	for _, c := range []struct {
		target, wantBase string
		wantOpts         int
	}{
		{"/api/orchestrators/HelloCities", "http://localhost:7071/api/durabletask", 0},
		{"/api/orchestrators/HelloCities/my-id", "http://localhost:7071/api/durabletask", 1},
		{"/runtime/webhooks/durabletask/orchestrators/HelloCities", "http://localhost:7071/runtime/webhooks/durabletask", 0},
		{"/runtime/webhooks/durabletask/Orchestrators/HelloCities/my-id/", "http://localhost:7071/runtime/webhooks/durabletask", 1},
		{"/api/durabletask/orchestrators/HelloCities/my-id", "http://localhost:7071/api/durabletask", 1},
	} {
		t.Run(c.target, func(t *testing.T) {
			f := &outcomeDurable{startID: "my-id"}
			rec := serve(outcomeRouter(f), "POST", "http://localhost:7071"+c.target, `{"cities": ["Tokyo"]}`)
			if rec.Code != 202 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" || rec.Header().Get("Retry-After") != "10" {
				t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
			}
			var p map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			inst := c.wantBase + "/instances/my-id"
			q := "taskHub=TestHub&connection=Storage"
			want := map[string]string{"id": "my-id", "statusQueryGetUri": inst + "?" + q, "sendEventPostUri": inst + "/raiseEvent/{eventName}?" + q,
				"terminatePostUri": inst + "/terminate?reason={text}&" + q, "rewindPostUri": inst + "/rewind?reason={text}&" + q,
				"purgeHistoryDeleteUri": inst + "?" + q, "restartPostUri": inst + "/restart?" + q,
				"suspendPostUri": inst + "/suspend?reason={text}&" + q, "resumePostUri": inst + "/resume?reason={text}&" + q}
			if fmt.Sprint(p) != fmt.Sprint(want) {
				t.Fatalf("payload\n got %v\nwant %v", p, want)
			}
			if rec.Header().Get("Location") != p["statusQueryGetUri"] {
				t.Fatalf("Location %s", rec.Header().Get("Location"))
			}
			if f.startName != "HelloCities" || f.startOpts != c.wantOpts {
				t.Fatalf("StartNew(%q, %d options)", f.startName, f.startOpts)
			}
			if raw, ok := f.startInput.(json.RawMessage); !ok || string(raw) != `{"cities": ["Tokyo"]}` {
				t.Fatalf("input %#v", f.startInput)
			}
		})
	}
}

// How each StartNew outcome and each bad request maps to HTTP.
func TestStartOutcomes(t *testing.T) {
	for _, c := range []struct {
		name, target, body string
		startErr           error
		code               int
		msg                string
		started            bool // StartNew was called
	}{
		{"unknown orchestrator", "/api/orchestrators/Nope", "", fmt.Errorf("x: %w", durable.ErrUnknownFunction), 400,
			"The function 'Nope' doesn't exist, is disabled, or is not an orchestrator function.", true},
		{"instance exists", "/api/orchestrators/H/dup", "", fmt.Errorf("x: %w", durable.ErrInstanceExists), 409, "'dup' already exists", true},
		{"invalid input", "/api/orchestrators/H", "", fmt.Errorf("x: %w: too big", durable.ErrInvalidInput), 400, "too big", true},
		{"storage failure", "/api/orchestrators/H", "", errStorageDown, 500, "starting an orchestration failed", true},
		{"storage unavailable", "/api/orchestrators/H", "", fmt.Errorf("x: %w", durable.ErrUnavailable), 503, "temporarily unavailable", true},
		{"invalid JSON", "/api/orchestrators/H", "{not json", nil, 400, "Invalid JSON content", false},
		{"invalid JSON on the API route", "/runtime/webhooks/durabletask/orchestrators/H/id1", `{"a":`, nil, 400, "Invalid JSON content", false},
		{"invalid instance id", "/api/orchestrators/H/@reserved", "", nil, 400, "reserved for entities", false},
		{"bad timeout", "/api/orchestrators/H?timeout=soon&pollingInterval=1", "", nil, 400, "timeout", false},
		{"bad pollingInterval", "/api/orchestrators/H?timeout=1&pollingInterval=-2", "", nil, 400, "pollingInterval", false},
		{"pollingInterval over timeout", "/api/orchestrators/H?timeout=1&pollingInterval=2", "", nil, 400, "should be bigger than retry timeout", false},
		{"bad status option while waiting", "/api/orchestrators/H?timeout=1&pollingInterval=1&showHistory=2", "", nil, 400, "showHistory", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &outcomeDurable{startID: "x", startErr: c.startErr}
			wantJSONError(t, serve(outcomeRouter(f), "POST", c.target, c.body), c.code, c.msg)
			if (f.startCalls > 0) != c.started {
				t.Fatalf("StartNew called %d times", f.startCalls)
			}
		})
	}
}

func TestStartInput(t *testing.T) {
	for _, c := range []struct {
		body string
		want any
	}{
		{"", nil},     // Content-Length 0: no input
		{"  \n", nil}, // only whitespace: no input either (JSON null)
		{`""`, json.RawMessage(`""`)},
		{`42`, json.RawMessage(`42`)},
	} {
		f := &outcomeDurable{startID: "x"}
		if rec := serve(outcomeRouter(f), "POST", "/api/orchestrators/H", c.body); rec.Code != 202 {
			t.Fatalf("%q: %d %s", c.body, rec.Code, rec.Body)
		}
		if fmt.Sprintf("%#v", f.startInput) != fmt.Sprintf("%#v", c.want) {
			t.Errorf("body %q: input %#v; want %#v", c.body, f.startInput, c.want)
		}
	}
	// Other methods are not starts.
	if rec := serve(outcomeRouter(&outcomeDurable{}), "GET", "/runtime/webhooks/durabletask/orchestrators/H", ""); rec.Code != 404 || rec.Body.Len() != 0 {
		t.Fatalf("GET on the API's start route: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(outcomeRouter(&outcomeDurable{}), "GET", "/api/orchestrators/H", ""); rec.Code != 405 {
		t.Fatalf("GET on HttpStart: %d", rec.Code)
	}
}

// Start and wait (timeout + pollingInterval): the answer depends on how
// the instance ends up.
func TestStartAndWait(t *testing.T) {
	running := instanceIn(durable.StatusRunning)
	done := instanceIn(durable.StatusCompleted)
	done.Output = history.Str(`{"greeting":"Hello Tokyo!"}`)
	for _, c := range []struct {
		name     string
		query    string
		statuses []*durable.InstanceStatus
		code     int
		body     string // exact body, or "" to skip
		contains string
		polls    int // GetStatus calls, at least
	}{
		{"completes while waiting: 200 with the output", "?timeout=2&pollingInterval=0.01",
			[]*durable.InstanceStatus{running, running, done}, 200, `{"greeting":"Hello Tokyo!"}`, "", 3},
		{"fails: 200 with the status, even if 500 was asked for", "?timeout=2&pollingInterval=0.01&returnInternalServerErrorOnFailure=true",
			[]*durable.InstanceStatus{running, instanceIn(durable.StatusFailed)}, 200, "", `"runtimeStatus":"Failed"`, 2},
		{"terminated: 200 with the status and history if asked", "?timeout=2&pollingInterval=0.01&showHistory=true",
			[]*durable.InstanceStatus{instanceIn(durable.StatusTerminated)}, 200, "", `"historyEvents":[`, 1},
		{"canceled: 200 with the status", "?timeout=2&pollingInterval=0.01",
			[]*durable.InstanceStatus{instanceIn(durable.StatusCanceled)}, 200, "", `"runtimeStatus":"Canceled"`, 1},
		{"still running at the timeout: 202 check-status", "?timeout=0.2&pollingInterval=0.05",
			[]*durable.InstanceStatus{running}, 202, "", `"statusQueryGetUri":"http://example.com/api/durabletask/instances/abc?`, 2},
		{"only a timeout: no waiting", "?timeout=5",
			[]*durable.InstanceStatus{done}, 202, "", `"id":"abc"`, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &outcomeDurable{startID: "abc", statuses: c.statuses}
			start := time.Now()
			rec := serve(outcomeRouter(f), "POST", "/api/orchestrators/H"+c.query, "")
			if rec.Code != c.code || (c.body != "" && rec.Body.String() != c.body) || !strings.Contains(rec.Body.String(), c.contains) {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type %q", rec.Header().Get("Content-Type"))
			}
			if f.statusCalls < c.polls || (c.polls == 0 && f.statusCalls != 0) {
				t.Fatalf("%d status reads; want at least %d", f.statusCalls, c.polls)
			}
			if c.code == 202 && c.polls > 0 && time.Since(start) < 200*time.Millisecond {
				t.Fatalf("answered before the timeout, after %v", time.Since(start))
			}
		})
	}
	// A storage failure while waiting is a 500.
	f := &outcomeDurable{startID: "abc", statusErr: errStorageDown}
	wantJSONError(t, serve(outcomeRouter(f), "POST", "/api/orchestrators/H?timeout=1&pollingInterval=0.01", ""), 500, "reading instance status failed")
}
