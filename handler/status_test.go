package handler

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

func instanceIn(st durable.RuntimeStatus) *durable.InstanceStatus {
	t := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	return &durable.InstanceStatus{Name: "HelloCities", InstanceID: "abc", RuntimeStatus: st, Input: history.Str(`["Tokyo"]`),
		Output: history.Str(`"done"`), CreatedTime: t, LastUpdatedTime: t.Add(time.Second), History: helloSequence()}
}

// How each client outcome of GET {base}/instances/{id} maps to HTTP
// (outcomeDurable only supplies the outcomes).
func TestStatusRouteOutcomes(t *testing.T) {
	for _, c := range []struct {
		status   *durable.InstanceStatus
		err      error
		query    string
		code     int
		retry    bool // 202 with Location and Retry-After
		errorMsg string
	}{
		{status: instanceIn(durable.StatusRunning), code: 202, retry: true},
		{status: instanceIn(durable.StatusPending), code: 202, retry: true},
		{status: instanceIn(durable.StatusContinuedAsNew), code: 202, retry: true},
		{status: instanceIn(durable.StatusSuspended), code: 202, retry: true},
		{status: instanceIn(durable.StatusCompleted), code: 200},
		{status: instanceIn(durable.StatusTerminated), code: 200},
		{status: instanceIn(durable.StatusCanceled), code: 200},
		{status: instanceIn(durable.StatusFailed), code: 200},
		{status: instanceIn(durable.StatusFailed), query: "?returnInternalServerErrorOnFailure=true", code: 500},
		{status: instanceIn(durable.StatusCompleted), query: "?returnInternalServerErrorOnFailure=true", code: 200},
		{err: fmt.Errorf("wrapped: %w", durable.ErrInstanceNotFound), code: 404},
		{err: errStorageDown, code: 500, errorMsg: "reading instance status failed"},
		{status: instanceIn(durable.StatusCompleted), query: "?showHistory=maybe", code: 400, errorMsg: "showHistory"},
		{status: instanceIn(durable.StatusCompleted), query: "?showInput=0", code: 400, errorMsg: "showInput"},
	} {
		for _, base := range []string{"/runtime/webhooks/durabletask", "/api/durabletask"} {
			name := fmt.Sprintf("%s %v%s", base, c.err, c.query)
			if c.status != nil {
				name = fmt.Sprintf("%s %s%s", base, c.status.RuntimeStatus, c.query)
			}
			t.Run(name, func(t *testing.T) {
				f := &outcomeDurable{statusErr: c.err}
				if c.status != nil {
					f.statuses = []*durable.InstanceStatus{c.status}
				}
				target := "http://localhost:7071" + base + "/instances/abc" + c.query
				rec := serve(outcomeRouter(f), "GET", target, "")
				if rec.Code != c.code {
					t.Fatalf("%d %s; want %d", rec.Code, rec.Body, c.code)
				}
				switch {
				case c.errorMsg != "":
					wantJSONError(t, rec, c.code, c.errorMsg)
				case c.code == 404:
					if rec.Body.Len() != 0 {
						t.Fatalf("404 body %q; want empty", rec.Body)
					}
				default:
					var p statusPayload
					if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.InstanceID != "abc" || p.RuntimeStatus != c.status.RuntimeStatus.String() ||
						string(p.Input) != `["Tokyo"]` || string(p.Output) != `"done"` || p.HistoryEvents != nil {
						t.Fatalf("payload %s (%v)", rec.Body, err)
					}
				}
				loc, retry := rec.Header().Get("Location"), rec.Header().Get("Retry-After")
				if c.retry && (loc != target || retry != "5") {
					t.Fatalf("Location %q, Retry-After %q", loc, retry)
				}
				if !c.retry && (loc != "" || retry != "") {
					t.Fatalf("unexpected Location %q / Retry-After %q", loc, retry)
				}
			})
		}
	}
}

func TestStatusRouteOptions(t *testing.T) {
	f := &outcomeDurable{statuses: []*durable.InstanceStatus{instanceIn(durable.StatusCompleted)}}
	rec := serve(outcomeRouter(f), "GET", "/api/durabletask/instances/abc?showHistory=TRUE&showHistoryOutput=true&showInput=false", "")
	var p map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	want, _ := json.Marshal(historyEvents(helloSequence(), historyOptions{showOutput: true}))
	if string(p["input"]) != "null" || string(p["historyEvents"]) != string(want) {
		t.Fatalf("input %s, historyEvents %s", p["input"], p["historyEvents"])
	}
	// Location of a running instance honours proxy headers and keeps the query.
	f = &outcomeDurable{statuses: []*durable.InstanceStatus{instanceIn(durable.StatusRunning)}}
	rec = serve(outcomeRouter(f), "GET", "http://127.0.0.1:9/api/durabletask/instances/abc?showInput=false", "",
		"X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example")
	if got := rec.Header().Get("Location"); got != "https://app.example/api/durabletask/instances/abc?showInput=false" {
		t.Fatalf("Location %s", got)
	}
}
