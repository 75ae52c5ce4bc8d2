package scenarios

import (
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

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
