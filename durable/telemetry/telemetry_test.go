package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/memory"
	"github.com/godurable/functions/durable/telemetry"
	"github.com/godurable/functions/handler"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func noEnv(string) string { return "" }

// app is a worker, a client and the HTTP handler on the in-memory backend.
type app struct {
	client *durable.Client
	http   http.Handler
}

func newApp(t *testing.T) *app {
	t.Helper()
	reg := durable.NewRegistry()
	greet := durable.NewActivity("OTelGreet", func(ctx context.Context, name string) (string, error) { return "Hello " + name, nil })
	hello := durable.NewOrchestrator("OTelHello", func(ctx *durable.OrchestrationContext, name string) (string, error) {
		return greet.Call(ctx, name).Await()
	})
	if err := reg.Register(greet, hello); err != nil {
		t.Fatal(err)
	}
	client := durable.NewClient(runWorker(t, reg), reg, durable.WithTaskHubName("OTelHub"))
	return &app{client: client, http: handler.New(handler.Config{Durable: client, Logger: quiet()})}
}

// runWorker runs a worker for reg on a new in-memory backend until the
// test ends and returns the backend.
func runWorker(t *testing.T, reg *durable.Registry) *memory.Backend {
	t.Helper()
	be := memory.New(memory.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	w := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: quiet()})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return be
}

// runToCompletion runs reg's orchestrator name with input on a worker of
// its own, waits until it completes and flushes the spans.
func runToCompletion(t *testing.T, tel *telemetry.Telemetry, reg *durable.Registry, name string, input any) {
	t.Helper()
	client := durable.NewClient(runWorker(t, reg), reg)
	ctx := context.Background()
	id, err := client.StartNew(ctx, name, input)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if st, err := client.WaitForCompletion(wctx, id); err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("%v %v", st, err)
	}
	if err := tel.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
}

// startHTTP starts OTelHello through the HTTP start route with headers and
// waits for it to complete.
func (a *app) startHTTP(t *testing.T, header http.Header) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/orchestrators/OTelHello", strings.NewReader(`"Go"`))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	a.http.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	var body struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.ID == "" {
		t.Fatalf("start answer %s: %v", rec.Body, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := a.client.WaitForCompletion(ctx, body.ID)
	if err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("instance %s: %v %v", body.ID, st, err)
	}
	return body.ID
}

func setup(t *testing.T, o telemetry.Options) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.Setup(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// The traceparent of the HTTP start request is the parent of the
// create_orchestration span, and the whole tree hangs below it.
func TestHTTPStartContinuesIncomingTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, telemetry.Options{Getenv: noEnv, SpanExporter: exp})
	a := newApp(t)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	id := a.startHTTP(t, http.Header{"Traceparent": {"00-" + traceID + "-" + parentID + "-01"}})
	if err := tel.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	byName := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID().String() != traceID {
			t.Errorf("span %q is in trace %s, not the request's", s.Name, s.SpanContext.TraceID())
		}
		byName[s.Name+"/"+s.SpanKind.String()] = s
	}
	create, orch := byName["create_orchestration:OTelHello/producer"], byName["orchestration:OTelHello/server"]
	client, exec := byName["activity:OTelGreet/client"], byName["activity:OTelGreet/server"]
	if len(byName) != 4 || create.Name == "" || orch.Name == "" || client.Name == "" || exec.Name == "" {
		t.Fatalf("spans %v", byName)
	}
	if create.Parent.SpanID().String() != parentID || !create.Parent.IsRemote() {
		t.Errorf("create_orchestration's parent is %s, want the request's %s", create.Parent.SpanID(), parentID)
	}
	for _, link := range []struct{ child, parent tracetest.SpanStub }{{orch, create}, {client, orch}, {exec, client}} {
		if link.child.Parent.SpanID() != link.parent.SpanContext.SpanID() {
			t.Errorf("%s's parent is %s, want %s (%s)", link.child.Name, link.child.Parent.SpanID(), link.parent.Name, link.parent.SpanContext.SpanID())
		}
	}
	if attr(orch, "durabletask.task.instance_id") != id || attr(orch, "durabletask.task.status") != "Completed" ||
		attr(exec, "durabletask.task.task_id") != "0" || attr(create, "durabletask.type") != "orchestration" {
		t.Errorf("attributes: %v / %v / %v", orch.Attributes, exec.Attributes, create.Attributes)
	}
	if !orch.StartTime.Before(orch.EndTime) || orch.StartTime.Before(create.StartTime) {
		t.Errorf("orchestration span %v..%v, created at %v", orch.StartTime, orch.EndTime, create.StartTime)
	}
}

// otlpReceiver is a small OTLP/HTTP collector: it keeps the decoded
// export requests.
type otlpReceiver struct {
	mu      sync.Mutex
	traces  []*colltrace.ExportTraceServiceRequest
	metrics []*collmetrics.ExportMetricsServiceRequest
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch req.URL.Path {
	case "/v1/traces":
		m := &colltrace.ExportTraceServiceRequest{}
		if err := proto.Unmarshal(body, m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.traces = append(r.traces, m)
		out, _ := proto.Marshal(&colltrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	case "/v1/metrics":
		m := &collmetrics.ExportMetricsServiceRequest{}
		if err := proto.Unmarshal(body, m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.metrics = append(r.metrics, m)
		out, _ := proto.Marshal(&collmetrics.ExportMetricsServiceResponse{})
		_, _ = w.Write(out)
	default:
		http.NotFound(w, req)
	}
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans and metrics go over
// OTLP/HTTP; the receiver decodes the span tree and the metric names.
func TestOTLPHTTPExport(t *testing.T) {
	recv := &otlpReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_SERVICE_NAME", "otlp-test")
	tel := setup(t, telemetry.Options{})
	if !tel.TracingEnabled() || !tel.MetricsEnabled() {
		t.Fatal("OTLP export is not enabled by OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	a := newApp(t)
	id := a.startHTTP(t, nil)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	type span struct{ name, id, parent, trace string }
	var spans []span
	service := ""
	for _, req := range recv.traces {
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.Resource.GetAttributes() {
				if a.Key == "service.name" {
					service = a.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				if ss.Scope.GetName() != "DurableTask.Core" {
					t.Errorf("scope %q", ss.Scope.GetName())
				}
				for _, s := range ss.Spans {
					spans = append(spans, span{s.Name, string(s.SpanId), string(s.ParentSpanId), string(s.TraceId)})
				}
			}
		}
	}
	if service != "otlp-test" {
		t.Errorf("service.name %q", service)
	}
	find := func(name string, kindParent func(span) bool) span {
		for _, s := range spans {
			if s.name == name && kindParent(s) {
				return s
			}
		}
		t.Fatalf("no span %q among %v", name, spans)
		return span{}
	}
	any := func(span) bool { return true }
	create := find("create_orchestration:OTelHello", any)
	orch := find("orchestration:OTelHello", func(s span) bool { return s.parent == create.id })
	client := find("activity:OTelGreet", func(s span) bool { return s.parent == orch.id })
	find("activity:OTelGreet", func(s span) bool { return s.parent == client.id })
	if len(spans) != 4 || orch.trace != create.trace {
		t.Errorf("%d spans, traces %x / %x", len(spans), orch.trace, create.trace)
	}
	names := map[string]bool{}
	for _, req := range recv.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					names[m.Name] = true
				}
			}
		}
	}
	for _, want := range []string{"durable.orchestrations.started", "durable.orchestrations.completed",
		"durable.orchestration.episode.duration", "durable.activity.duration"} {
		if !names[want] {
			t.Errorf("metric %s was not exported (got %v)", want, names)
		}
	}
	_ = id
}

// The Prometheus endpoint renders counters and histograms by name.
func TestPrometheusMetrics(t *testing.T) {
	tel := setup(t, telemetry.Options{Getenv: noEnv, Prometheus: true})
	a := newApp(t)
	a.startHTTP(t, nil)
	a.startHTTP(t, nil)
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"# TYPE durable_orchestrations_started_total counter\n",
		`durable_orchestrations_started_total{durabletask_task_name="OTelHello"} 2` + "\n",
		`durable_orchestrations_completed_total{durabletask_task_name="OTelHello",durabletask_task_status="Completed"} 2` + "\n",
		"# TYPE durable_activity_duration_seconds histogram\n",
		`durable_activity_duration_seconds_count{durabletask_task_name="OTelGreet",outcome="completed"} 2` + "\n",
		`durable_orchestration_episode_duration_seconds_bucket{durabletask_task_name="OTelHello",le="+Inf"} 4` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("want %q in:\n%s", want, body)
		}
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
}

// JSON log lines name the span of their context; lines logged during an
// invocation go back to the host in the response's Logs.
func TestLogsCarryTraceIDsAndReachTheHost(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(&buf, "json", slog.LevelInfo))
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	log.InfoContext(ctx, "traced", "instanceId", "abc")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not a JSON line: %q: %v", buf.String(), err)
	}
	if line["traceId"] != tid.String() || line["spanId"] != sid.String() || line["instanceId"] != "abc" || line["msg"] != "traced" {
		t.Errorf("log line %v", line)
	}

	h := handler.New(handler.Config{Durable: durable.NewClient(nil, nil), Logger: quiet(),
		Invocations: map[string]handler.InvocationFunc{
			"Work": func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
				log.WarnContext(ctx, "queue item looks odd", "item", 7)
				return &bindings.InvokeResponse{Logs: []string{"own line"}}, nil
			},
		}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/Work", strings.NewReader(`{"Data":{},"Metadata":{}}`)))
	var resp struct{ Logs []string }
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("invocation: %d %s", rec.Code, rec.Body)
	}
	if len(resp.Logs) != 2 || resp.Logs[0] != "own line" || resp.Logs[1] != "WARN queue item looks odd item=7" {
		t.Errorf("Logs %q", resp.Logs)
	}
}

// Entity operations: a call is a client span under the orchestration with
// the operation's server span below it; a signal is a producer span with
// the operation's consumer span below it. A failed operation's span says
// why.
func TestEntityOperationSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, telemetry.Options{Getenv: noEnv, SpanExporter: exp})
	reg := durable.NewRegistry()
	if err := reg.AddEntity("Counter", func(ctx *durable.EntityContext) (any, error) {
		if ctx.Operation() == "boom" {
			return nil, errors.New("counter exploded")
		}
		return "ok", nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := reg.AddOrchestrator("OTelEntity", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		counter := durable.NewEntityID("Counter", "c1")
		if err := durable.SignalEntity(ctx, counter, "reset", nil); err != nil {
			return "", err
		}
		if _, err := durable.CallEntity[string](ctx, counter, "boom", nil).Await(); err == nil {
			return "", errors.New("boom did not fail")
		}
		return durable.CallEntity[string](ctx, counter, "add", 1).Await()
	})); err != nil {
		t.Fatal(err)
	}
	runToCompletion(t, tel, reg, "OTelEntity", nil)
	spans := exp.GetSpans()
	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	count := map[string]int{}
	var orch tracetest.SpanStub
	for _, s := range spans {
		count[s.Name+"/"+s.SpanKind.String()]++
		if s.Name == "orchestration:OTelEntity" {
			orch = s
		}
	}
	for _, want := range []string{"entity:counter:add/client", "entity:counter:add/server", "entity:counter:boom/client",
		"entity:counter:boom/server", "entity:counter:reset/producer", "entity:counter:reset/consumer"} {
		if count[want] != 1 {
			t.Errorf("%d spans %s (all: %v)", count[want], want, count)
		}
	}
	for _, s := range spans {
		if !strings.HasPrefix(s.Name, "entity:") {
			continue
		}
		p, ok := byID[s.Parent.SpanID()]
		if !ok {
			t.Errorf("%s %s has no parent among the spans", s.Name, s.SpanKind)
			continue
		}
		switch s.SpanKind {
		case trace.SpanKindClient, trace.SpanKindProducer:
			if p.SpanContext.SpanID() != orch.SpanContext.SpanID() {
				t.Errorf("%s %s's parent is %s, not the orchestration", s.Name, s.SpanKind, p.Name)
			}
		case trace.SpanKindServer, trace.SpanKindConsumer:
			if p.Name != s.Name || (p.SpanKind != trace.SpanKindClient && p.SpanKind != trace.SpanKindProducer) {
				t.Errorf("%s %s's parent is %s %s", s.Name, s.SpanKind, p.Name, p.SpanKind)
			}
			if s.Name == "entity:counter:boom" && (s.Status.Code != codes.Error || attr(s, "durabletask.entity.error_message") == "") {
				t.Errorf("failed operation span: %v %v", s.Status, s.Attributes)
			}
			if attr(s, "durabletask.task.instance_id") != "@counter@c1" {
				t.Errorf("entity span attributes %v", s.Attributes)
			}
		}
	}
}

// An instance that continues as new keeps its trace and its one
// orchestration span, which ends when the last execution completes.
func TestContinueAsNewKeepsOneOrchestrationSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, telemetry.Options{Getenv: noEnv, SpanExporter: exp})
	reg := durable.NewRegistry()
	if err := reg.AddOrchestrator("OTelLoop", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
		if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime()).Await(); err != nil {
			return 0, err
		}
		if n < 2 {
			return 0, ctx.ContinueAsNew(n + 1)
		}
		return n, nil
	})); err != nil {
		t.Fatal(err)
	}
	runToCompletion(t, tel, reg, "OTelLoop", 0)
	var orch, timers []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		switch s.Name {
		case "orchestration:OTelLoop":
			orch = append(orch, s)
		case "orchestration:OTelLoop:timer":
			timers = append(timers, s)
		}
	}
	if len(orch) != 1 || len(timers) != 3 {
		t.Fatalf("%d orchestration spans and %d timer spans, want 1 and 3", len(orch), len(timers))
	}
	for _, tm := range timers {
		if tm.Parent.SpanID() != orch[0].SpanContext.SpanID() {
			t.Errorf("a timer of a later execution is not under the instance's span")
		}
	}
}
