// Package telemetry is the runtime's tracing, metrics and logging plumbing:
// the spans DurableTask.Core emits (same names, kinds and durabletask.*
// attributes), the trace context carried in history events, the metric
// instruments and the slog helpers. It uses the global OpenTelemetry
// providers; package durable/telemetry configures them.
package telemetry

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/godurable/functions/durable/history"
)

// ScopeName is the instrumentation scope of the spans, DurableTask.Core's
// ActivitySource name, so collectors filter Go and .NET spans alike.
const ScopeName = "DurableTask.Core"

// DurableTask.Core's attribute names (Tracing/Schema.cs).
const (
	AttrType              = "durabletask.type"
	AttrName              = "durabletask.task.name"
	AttrVersion           = "durabletask.task.version"
	AttrInstanceID        = "durabletask.task.instance_id"
	AttrExecutionID       = "durabletask.task.execution_id"
	AttrStatus            = "durabletask.task.status"
	AttrTaskID            = "durabletask.task.task_id"
	AttrEventTargetID     = "durabletask.event.target_instance_id"
	AttrFireAt            = "durabletask.fire_at"
	AttrOperation         = "durabletask.task.operation"
	AttrScheduledTime     = "durabletask.task.scheduled_time"
	AttrEntityErrorMesage = "durabletask.entity.error_message"
)

// DurableTask.Core's span descriptions and type values
// (Tracing/TraceActivityConstants.cs).
const (
	TypeOrchestration   = "orchestration"
	TypeActivity        = "activity"
	TypeEvent           = "event"
	TypeTimer           = "timer"
	TypeEntity          = "entity"
	spanCreateOrch      = "create_orchestration"
	spanOrchEvent       = "orchestration_event"
	OperationCallEntity = "call_entity"
	OperationSignal     = "signal_entity"
)

func tracer() trace.Tracer { return otel.Tracer(ScopeName) }

// spanName is Core's CreateSpanName: "{what}:{name}" or
// "{what}:{name}@({version})".
func spanName(what, name, version string) string {
	if version != "" {
		return what + ":" + name + "@(" + version + ")"
	}
	return what + ":" + name
}

// TraceParent formats a W3C traceparent header value.
func TraceParent(sc trace.SpanContext) string {
	return fmt.Sprintf("00-%s-%s-%02x", sc.TraceID(), sc.SpanID(), byte(sc.TraceFlags()))
}

// ParseTraceParent reads a W3C traceparent (and tracestate) into a remote
// span context.
func ParseTraceParent(tp string, state *string) (trace.SpanContext, bool) {
	parts := strings.Split(strings.TrimSpace(tp), "-")
	if len(parts) < 4 || len(parts[0]) != 2 || parts[0] == "ff" {
		return trace.SpanContext{}, false
	}
	tid, err := trace.TraceIDFromHex(parts[1])
	if err != nil {
		return trace.SpanContext{}, false
	}
	sid, err := trace.SpanIDFromHex(parts[2])
	if err != nil {
		return trace.SpanContext{}, false
	}
	fb, err := hex.DecodeString(parts[3])
	if err != nil || len(fb) != 1 {
		return trace.SpanContext{}, false
	}
	cfg := trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(fb[0]), Remote: true}
	if state != nil && *state != "" {
		if ts, err := trace.ParseTraceState(*state); err == nil {
			cfg.TraceState = ts
		}
	}
	sc := trace.NewSpanContext(cfg)
	return sc, sc.IsValid()
}

// contextOf returns the span context a TraceContext names.
func contextOf(tc *history.TraceContext) (trace.SpanContext, bool) {
	if tc == nil {
		return trace.SpanContext{}, false
	}
	return ParseTraceParent(tc.TraceParent, tc.TraceState)
}

// traceContext is the history form of sc.
func traceContext(sc trace.SpanContext) *history.TraceContext {
	tc := &history.TraceContext{TraceParent: TraceParent(sc)}
	if s := sc.TraceState().String(); s != "" {
		tc.TraceState = &s
	}
	return tc
}

// withSpanID returns sc with another span id.
func withSpanID(sc trace.SpanContext, id trace.SpanID) trace.SpanContext {
	return sc.WithSpanID(id)
}

var (
	randMu  sync.Mutex
	randSrc = newRand()
)

func newRand() *rand.Rand {
	var seed [16]byte
	_, _ = crand.Read(seed[:])
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
}

// NewSpanID returns a random, valid span id.
func NewSpanID() trace.SpanID {
	randMu.Lock()
	defer randMu.Unlock()
	var id trace.SpanID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:], randSrc.Uint64())
	}
	return id
}

// NewTraceID returns a random, valid trace id.
func NewTraceID() trace.TraceID {
	randMu.Lock()
	defer randMu.Unlock()
	var id trace.TraceID
	for !id.IsValid() {
		binary.BigEndian.PutUint64(id[:8], randSrc.Uint64())
		binary.BigEndian.PutUint64(id[8:], randSrc.Uint64())
	}
	return id
}

type spanIDKey struct{}

// withWantedSpanID asks the IDGenerator for the span id of the next span
// started with ctx: a span that DurableTask.Core names ahead of time (the
// orchestration span persisted in ExecutionStarted, the client spans of
// activities and sub-orchestrations).
func withWantedSpanID(ctx context.Context, id trace.SpanID) context.Context {
	return context.WithValue(ctx, spanIDKey{}, id)
}

// IDGenerator is an sdktrace.IDGenerator that gives spans the ids the
// durable runtime chose for them (carried in history events, so that an
// orchestration keeps one span across episodes and processes) and random
// ids otherwise. Tracer providers must use it for the orchestration and
// client spans to carry the ids their children name as parent.
type IDGenerator struct{}

// NewIDs returns the ids of a root span.
func (IDGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	return NewTraceID(), IDGenerator{}.NewSpanID(ctx, trace.TraceID{})
}

// NewSpanID returns the id of a child span.
func (IDGenerator) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if id, ok := ctx.Value(spanIDKey{}).(trace.SpanID); ok && id.IsValid() {
		return id
	}
	return NewSpanID()
}

// startOption helpers.
func strAttr(k, v string) attribute.KeyValue { return attribute.String(k, v) }

// parentCtx returns a context whose span context is sc (a remote parent).
func parentCtx(ctx context.Context, sc trace.SpanContext) context.Context {
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// dotNetRoundTrip formats t as .NET's "o" format.
func dotNetRoundTrip(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// setError marks a span failed with msg.
func setError(s trace.Span, msg string) {
	s.SetStatus(codes.Error, msg)
}
