package handler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestRouter serves invocation functions only; the durable routes are
// exercised end to end against Azurite in the root package's tests.
func newTestRouter(inv map[string]InvocationFunc, mutate ...func(*Config)) http.Handler {
	cfg := Config{Durable: durable.NewClient(nil, nil, "TestHub"), Logger: quietLogger(), Invocations: inv, MaxBodyBytes: 1024}
	for _, m := range mutate {
		m(&cfg)
	}
	return New(cfg)
}

func serve(h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHealthAnswersWithoutStorage(t *testing.T) {
	rec := serve(newTestRouter(nil), "GET", "/", "")
	if rec.Code != 200 || rec.Body.String() != `{"status":"ok"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestInvocationDispatch(t *testing.T) {
	var got bindings.InvokeRequest
	h := newTestRouter(map[string]InvocationFunc{
		"StartFromQueue": func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
			got = *req
			return &bindings.InvokeResponse{Logs: []string{"started"}, ReturnValue: "x"}, nil
		},
		"Broken": func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
			return nil, errors.New("no luck")
		},
		"Panics": func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
			panic("kaboom")
		},
	})
	rec := serve(h, "POST", "/startfromqueue", `{"Data":{"order":"\"o1\""},"Metadata":{"DequeueCount":"1"}}`)
	if rec.Code != 200 || rec.Body.String() != `{"Outputs":{},"Logs":["started"],"ReturnValue":"x"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var order string
	if err := got.DecodeData("order", &order); err != nil || order != "o1" {
		t.Fatalf("order = %q, %v", order, err)
	}
	for _, c := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/Unknown", `{}`, 404, "No function named 'Unknown'"},
		{"/StartFromQueue", `{"Data":`, 400, "Invalid invocation request"},
		{"/Broken", `{}`, 500, "no luck"},
		{"/Panics", `{}`, 500, "Something went wrong"},
		{"/StartFromQueue", strings.Repeat("x", 2000), 413, "too large"},
	} {
		rec := serve(h, "POST", c.path, c.body)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.msg) || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("POST %s: %d %s (want %d %q)", c.path, rec.Code, rec.Body, c.code, c.msg)
		}
	}
}

func TestDurableRoutesWaitForReadiness(t *testing.T) {
	ready := make(chan struct{})
	h := newTestRouter(nil, func(c *Config) { c.Ready = ready })
	req := httptest.NewRequest("GET", "/api/durabletask/instances/x", nil)
	ctx, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	if rec.Body.Len() != 0 {
		t.Fatalf("a request before readiness must wait, got %d %s", rec.Code, rec.Body)
	}
	if rec := serve(h, "GET", "/", ""); rec.Code != 200 {
		t.Fatal("GET / must not wait for readiness")
	}
}

func TestUnknownManagementRoutesAre404(t *testing.T) {
	h := newTestRouter(nil)
	for _, p := range []string{"/runtime/webhooks/durabletask/nothing", "/api/durabletask/instances/a/b/c/d", "/runtime/webhooks/durabletask"} {
		if rec := serve(h, "GET", p, ""); rec.Code != 404 || rec.Body.Len() != 0 {
			t.Errorf("GET %s: %d %q", p, rec.Code, rec.Body)
		}
	}
	if rec := serve(h, "GET", "/runtime/webhooks/durabletask/orchestrators/X", ""); rec.Code != 404 {
		t.Errorf("GET on the start route: %d", rec.Code)
	}
}

func TestGeneratedURLs(t *testing.T) {
	s := &server{cfg: Config{Durable: durable.NewClient(nil, nil, "MyHub"), RoutePrefix: "api", ConnectionName: "Storage"}}
	req := httptest.NewRequest("POST", "http://localhost:7071/api/orchestrators/HelloCities", nil)
	p := s.checkStatusFor(req, "a b/c")
	if p.StatusQueryGetURI != "http://localhost:7071/api/durabletask/instances/a%20b%2Fc?taskHub=MyHub&connection=Storage" ||
		p.SendEventPostURI != "http://localhost:7071/api/durabletask/instances/a%20b%2Fc/raiseEvent/{eventName}?taskHub=MyHub&connection=Storage" ||
		p.TerminatePostURI != "http://localhost:7071/api/durabletask/instances/a%20b%2Fc/terminate?reason={text}&taskHub=MyHub&connection=Storage" {
		t.Fatalf("payload = %+v", p)
	}
	req = httptest.NewRequest("POST", "http://127.0.0.1:5000/runtime/webhooks/durabletask/orchestrators/H", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "myapp.azurewebsites.net, proxy")
	if got := s.checkStatusFor(req, "i").RestartPostURI; got != "https://myapp.azurewebsites.net/runtime/webhooks/durabletask/instances/i/restart?taskHub=MyHub&connection=Storage" {
		t.Fatalf("forwarded: %s", got)
	}
	req = httptest.NewRequest("POST", "http://127.0.0.1:5000/api/orchestrators/H", nil)
	req.Header.Set("Forwarded", `for=1.2.3.4;proto=https;host="front.example"`)
	if got := s.checkStatusFor(req, "i").StatusQueryGetURI; !strings.HasPrefix(got, "https://front.example/api/durabletask/") {
		t.Fatalf("Forwarded: %s", got)
	}
	s.cfg.PublicBaseURL = "https://configured.example/"
	if got := s.checkStatusFor(req, "i").StatusQueryGetURI; !strings.HasPrefix(got, "https://configured.example/api/durabletask/instances/i?") {
		t.Fatalf("configured base: %s", got)
	}
}

func TestHistoryEventsShape(t *testing.T) {
	ts := time.Date(2018, 2, 28, 5, 18, 49, 345237200, time.UTC)
	s := history.Str
	events := []*history.Event{
		{Type: history.OrchestratorStarted, EventID: -1, Timestamp: ts},
		{Type: history.ExecutionStarted, EventID: -1, Timestamp: ts, Name: "E1_HelloSequence", Input: s(`{"a":1}`), Instance: &history.OrchestrationInstance{InstanceID: "i"}},
		{Type: history.TaskScheduled, EventID: 0, Timestamp: ts, Name: "E1_SayHello", Input: s(`["Tokyo"]`)},
		{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: ts},
		{Type: history.TaskCompleted, EventID: -1, Timestamp: ts.Add(time.Second), TaskScheduledID: 0, Result: s(`"Hello Tokyo!"`)},
		{Type: history.TimerCreated, EventID: 1, Timestamp: ts, FireAt: ts},
		{Type: history.TimerFired, EventID: -1, Timestamp: ts, TimerID: 1, FireAt: ts},
		{Type: history.ExecutionCompleted, EventID: 2, Timestamp: ts, OrchestrationStatus: history.StatusCompleted, Result: s(`["Hello Tokyo!"]`)},
	}
	b, _ := json.Marshal(historyEvents(events, historyOptions{showInput: true, showOutput: true}))
	want := `[{"EventType":"ExecutionStarted","FunctionName":"E1_HelloSequence","Input":{"a":1},"Timestamp":"2018-02-28T05:18:49.3452372Z"},` +
		`{"EventType":"TaskCompleted","Result":"Hello Tokyo!","FunctionName":"E1_SayHello","ScheduledTime":"2018-02-28T05:18:49.3452372Z","Input":["Tokyo"],"Timestamp":"2018-02-28T05:18:50.3452372Z"},` +
		`{"EventType":"TimerCreated","FireAt":"2018-02-28T05:18:49.3452372Z","Timestamp":"2018-02-28T05:18:49.3452372Z"},` +
		`{"EventType":"TimerFired","FireAt":"2018-02-28T05:18:49.3452372Z","Timestamp":"2018-02-28T05:18:49.3452372Z"},` +
		`{"EventType":"ExecutionCompleted","OrchestrationStatus":"Completed","Result":["Hello Tokyo!"],"Timestamp":"2018-02-28T05:18:49.3452372Z"}]`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(historyEvents(events, historyOptions{}))
	if strings.Contains(string(b), "Result") || strings.Contains(string(b), "Input") || strings.Contains(string(b), "EventId") {
		t.Fatalf("without showInput/showHistoryOutput: %s", b)
	}
}

func TestStatusPayloadShape(t *testing.T) {
	created := time.Date(2024, 5, 1, 10, 0, 0, 999, time.UTC)
	st := &durable.InstanceStatus{Name: "H", InstanceID: "i", RuntimeStatus: durable.StatusFailed, Input: history.Str(`{"city":"Tokyo"}`),
		Output: history.Str("TaskFailedError: boom"), CreatedTime: created, LastUpdatedTime: created.Add(5 * time.Second)}
	b, _ := json.Marshal(newStatusPayload(st, false, historyOptions{showInput: true}))
	want := `{"name":"H","instanceId":"i","runtimeStatus":"Failed","input":{"city":"Tokyo"},"customStatus":null,"output":"TaskFailedError: boom","createdTime":"2024-05-01T10:00:00Z","lastUpdatedTime":"2024-05-01T10:00:05Z"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
