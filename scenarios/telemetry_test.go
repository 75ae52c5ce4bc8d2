package scenarios

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/internal/telemetry"
)

// The scenarios share one process-wide tracer provider (the runtime uses
// the global one) whose in-memory exporter receives every ended span; each
// test picks the spans of its own instances.
var (
	spansOnce sync.Once
	spansExp  *tracetest.InMemoryExporter
)

func spanExporter() *tracetest.InMemoryExporter {
	spansOnce.Do(func() {
		spansExp = tracetest.NewInMemoryExporter()
		otel.SetTracerProvider(sdktrace.NewTracerProvider(
			sdktrace.WithSyncer(spansExp),
			sdktrace.WithIDGenerator(telemetry.IDGenerator{})))
	})
	return spansExp
}

// endedSpans waits until keep selects want ended spans (in the order they
// ended) and returns them; it fails the test when more or fewer arrive.
func endedSpans(t *testing.T, want int, keep func(tracetest.SpanStub) bool) []tracetest.SpanStub {
	t.Helper()
	var got []tracetest.SpanStub
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = got[:0]
		for _, s := range spanExporter().GetSpans() {
			if keep(s) {
				got = append(got, s)
			}
		}
		if len(got) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // nothing more may arrive
	var final []tracetest.SpanStub
	for _, s := range spanExporter().GetSpans() {
		if keep(s) {
			final = append(final, s)
		}
	}
	if len(final) != want {
		var names []string
		for _, s := range final {
			names = append(names, s.Name)
		}
		t.Fatalf("got %d spans %q, want %d", len(final), names, want)
	}
	return final
}

// inTrace selects the spans of one trace.
func inTrace(id trace.TraceID) func(tracetest.SpanStub) bool {
	return func(s tracetest.SpanStub) bool { return s.SpanContext.TraceID() == id }
}

// traceOf is the trace of the create_orchestration span of instance id.
func traceOf(t *testing.T, id string) trace.TraceID {
	t.Helper()
	for _, s := range spanExporter().GetSpans() {
		if s.SpanKind == trace.SpanKindProducer && attr(s, telemetry.AttrInstanceID) == id && attr(s, telemetry.AttrType) == "orchestration" {
			return s.SpanContext.TraceID()
		}
	}
	t.Fatalf("no create_orchestration span for %s", id)
	return trace.TraceID{}
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// checkSpan checks a span's name, kind and durabletask.type.
func checkSpan(t *testing.T, s tracetest.SpanStub, name string, kind trace.SpanKind, typ string) {
	t.Helper()
	if s.Name != name || s.SpanKind != kind || attr(s, telemetry.AttrType) != typ {
		t.Errorf("span %q kind %v type %q, want %q kind %v type %q", s.Name, s.SpanKind, attr(s, telemetry.AttrType), name, kind, typ)
	}
}

// checkParent checks that child's parent is parent, in the same trace.
func checkParent(t *testing.T, child, parent tracetest.SpanStub) {
	t.Helper()
	if child.Parent.SpanID() != parent.SpanContext.SpanID() || child.SpanContext.TraceID() != parent.SpanContext.TraceID() {
		t.Errorf("span %q has parent %s/%s, want %q %s/%s", child.Name, child.Parent.TraceID(), child.Parent.SpanID(),
			parent.Name, parent.SpanContext.TraceID(), parent.SpanContext.SpanID())
	}
}

// spanNames lists the names of spans, for messages.
func spanNames(ss []tracetest.SpanStub) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	slices.Sort(out)
	return out
}

// tourFunctions are HelloCities with a sub-orchestration, an external
// event and a timer.
func tourFunctions(t *testing.T) *durable.Registry {
	t.Helper()
	reg := durable.NewRegistry()
	city := durable.NewActivity("OTelCity", func(ctx context.Context, name string) (string, error) { return "Hello " + name + "!", nil })
	child := durable.NewOrchestrator("OTelChild", func(ctx *durable.OrchestrationContext, name string) (string, error) {
		return city.Call(ctx, name).Await()
	})
	tour := durable.NewOrchestrator("OTelTour", func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		var calls []*durable.Task[string]
		for _, c := range []string{"Tokyo", "Seattle", "London"} {
			calls = append(calls, city.Call(ctx, c))
		}
		var out []string
		for _, c := range calls {
			s, err := c.Await()
			if err != nil {
				return "", err
			}
			out = append(out, s)
		}
		s, err := durable.CallSubOrchestrator[string](ctx, "OTelChild", "Cairo", durable.WithChildInstanceID(ctx.InstanceID()+":child")).Await()
		if err != nil {
			return "", err
		}
		out = append(out, s)
		if err := ctx.SetCustomStatus("waiting"); err != nil {
			return "", err
		}
		if _, err := durable.WaitForExternalEvent[string](ctx, "go").Await(); err != nil {
			return "", err
		}
		if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(300*time.Millisecond)).Await(); err != nil {
			return "", err
		}
		return strings.Join(out, " "), nil
	})
	if err := reg.Register(city, child, tour); err != nil {
		t.Fatal(err)
	}
	return reg
}

// Two workers with their own backends share a task hub: the first runs
// the instance until it waits for an event and stops; the second, a fresh
// process as far as the instance is concerned, finishes it from what
// storage holds. The span tree is whole: one orchestration span per
// instance (its id assigned by the first worker and read back from
// history by the second), activities, the sub-orchestration and the timer
// below it.
func TestOpenTelemetryAcrossWorkers(t *testing.T) {
	t.Parallel()
	spanExporter()
	hub := fmt.Sprintf("OT%d%s", hubSeq.Add(1), time.Now().Format("150405"))
	opts := func(worker string) hostOptions {
		return hostOptions{backend: func(o *azstorage.Options) {
			o.TaskHub, o.WorkerID, o.PartitionCount = hub, worker, 2
			o.LeaseInterval, o.LeaseRenewInterval, o.LeaseAcquireInterval = 3*time.Second, 250*time.Millisecond, 250*time.Millisecond
		}}
	}
	beA, _ := newBackend(t, opts("worker-a"))
	beB, _ := newBackend(t, opts("worker-b"))
	reg := tourFunctions(t)
	run := func(be *azstorage.Backend) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		w := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: logger(t)})
		go func() { done <- w.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		}
	}
	stopA := run(beA)
	clientA := durable.NewClient(beA, reg)
	ctx, cancel := context.WithTimeout(context.Background(), standardTimeout)
	defer cancel()
	id, err := clientA.StartNew(ctx, "OTelTour", nil)
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := clientA.GetStatus(ctx, id)
		if err != nil {
			t.Fatalf("status: %v", err)
		}
		if st != nil && text(st.CustomStatus) == `"waiting"` {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopA()
	stopB := run(beB)
	defer stopB()
	clientB := durable.NewClient(beB, reg)
	if err := clientB.RaiseEvent(ctx, id, "go", "now"); err != nil {
		t.Fatal(err)
	}
	st, err := clientB.WaitForCompletion(ctx, id)
	if err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("instance: %v %v", st, err)
	}

	tr := traceOf(t, id)
	ss := endedSpans(t, 13, inTrace(tr))
	find := func(name string, kind trace.SpanKind) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, s := range ss {
			if s.Name == name && s.SpanKind == kind {
				out = append(out, s)
			}
		}
		return out
	}
	one := func(name string, kind trace.SpanKind) tracetest.SpanStub {
		got := find(name, kind)
		if len(got) != 1 {
			t.Fatalf("%d %s spans %q, want 1 (all: %v)", len(got), kind, name, spanNames(ss))
		}
		return got[0]
	}
	create := one("create_orchestration:OTelTour", trace.SpanKindProducer)
	orch := one("orchestration:OTelTour", trace.SpanKindServer)
	subClient := one("orchestration:OTelChild", trace.SpanKindClient)
	sub := one("orchestration:OTelChild", trace.SpanKindServer)
	timer := one("orchestration:OTelTour:timer", trace.SpanKindInternal)
	checkParent(t, orch, create)
	checkParent(t, subClient, orch)
	checkParent(t, sub, subClient)
	checkParent(t, timer, orch)
	clients, servers := find("activity:OTelCity", trace.SpanKindClient), find("activity:OTelCity", trace.SpanKindServer)
	if len(clients) != 4 || len(servers) != 4 {
		t.Fatalf("%d activity client spans and %d server spans, want 4 each: %v", len(clients), len(servers), spanNames(ss))
	}
	parents := map[trace.SpanID]tracetest.SpanStub{orch.SpanContext.SpanID(): orch, sub.SpanContext.SpanID(): sub}
	underTour := 0
	for _, c := range clients {
		p, ok := parents[c.Parent.SpanID()]
		if !ok {
			t.Errorf("activity client span's parent %s is neither orchestration", c.Parent.SpanID())
		}
		if p.Name == orch.Name {
			underTour++
		}
		parents[c.SpanContext.SpanID()] = c
	}
	if underTour != 3 {
		t.Errorf("%d activities under the tour, want 3", underTour)
	}
	for _, s := range servers {
		if p, ok := parents[s.Parent.SpanID()]; !ok || p.SpanKind != trace.SpanKindClient {
			t.Errorf("activity server span's parent %s is not a client span", s.Parent.SpanID())
		}
	}
	if attr(sub, telemetry.AttrInstanceID) != id+":child" || attr(orch, telemetry.AttrInstanceID) != id {
		t.Errorf("instance ids: %v / %v", sub.Attributes, orch.Attributes)
	}
	// The orchestration span covers the instance's life, from its first
	// episode on worker A to its completion on worker B.
	if orch.StartTime.After(clients[0].StartTime) || orch.EndTime.Before(timer.EndTime) {
		t.Errorf("orchestration span %v..%v does not cover its children", orch.StartTime, orch.EndTime)
	}
	// The event the client raised is a trace of its own, aimed at the instance.
	ev := endedSpans(t, 1, func(s tracetest.SpanStub) bool {
		return s.Name == "orchestration_event:go" && attr(s, telemetry.AttrEventTargetID) == id
	})
	if ev[0].SpanKind != trace.SpanKindProducer || ev[0].SpanContext.TraceID() == tr {
		t.Errorf("event span %v in trace %s", ev[0].SpanKind, ev[0].SpanContext.TraceID())
	}
}
