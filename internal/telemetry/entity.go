package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/godurable/functions/durable/history"
)

func entitySpanName(entity, op string) string { return TypeEntity + ":" + entity + ":" + op }

func entityOperation(signal bool) string {
	if signal {
		return OperationSignal
	}
	return OperationCallEntity
}

// EntityRequestReceived is called as an entity receives a request whose
// sender's trace context is tc. For a signal it emits the signal's
// producer span (entity:{name}:{operation}, as Core does on receipt) and
// returns its context, which becomes the parent of the operation's span;
// for a call it returns tc. It returns nil without a valid tc.
func EntityRequestReceived(entityID, entityName, op string, signal bool, tc *history.TraceContext, requested, now time.Time) *history.TraceContext {
	parent, ok := contextOf(tc)
	if !ok {
		return nil
	}
	if !signal {
		return tc
	}
	if requested.IsZero() || requested.After(now) {
		requested = now
	}
	_, s := tracer().Start(parentCtx(context.Background(), parent), entitySpanName(entityName, op),
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithTimestamp(requested), trace.WithAttributes(
			strAttr(AttrType, TypeEntity), strAttr(AttrOperation, OperationSignal), strAttr(AttrEventTargetID, entityID)))
	s.End(trace.WithTimestamp(now))
	if sc := s.SpanContext(); sc.IsValid() && sc.SpanID() != parent.SpanID() {
		return traceContext(sc)
	}
	return tc
}

// EntityOperation is one entity operation being traced.
type EntityOperation struct {
	ctx       context.Context
	span      trace.Span
	signal    bool
	parent    trace.SpanContext // the caller's span, for a call
	clientID  trace.SpanID
	name      string
	entityID  string
	requested time.Time
}

// StartEntityOperation starts the span of an entity operation (Server for
// a call, under a client span emitted when it ends; Consumer for a signal,
// under its producer span), when the request carries a trace context tc.
func StartEntityOperation(entityID, entityName, op string, signal bool, tc *history.TraceContext, requested time.Time) *EntityOperation {
	o := &EntityOperation{ctx: context.Background(), signal: signal, name: entitySpanName(entityName, op), entityID: entityID, requested: requested}
	parent, ok := contextOf(tc)
	if !ok {
		return o
	}
	serverParent := parent
	kind := trace.SpanKindConsumer
	if !signal {
		o.parent, o.clientID = parent, NewSpanID()
		serverParent = parent.WithSpanID(o.clientID)
		kind = trace.SpanKindServer
	}
	o.ctx, o.span = tracer().Start(parentCtx(context.Background(), serverParent), o.name, trace.WithSpanKind(kind),
		trace.WithAttributes(strAttr(AttrType, TypeEntity), strAttr(AttrOperation, entityOperation(signal)), strAttr(AttrInstanceID, entityID)))
	return o
}

// Context carries the operation's span, for the entity function.
func (o *EntityOperation) Context() context.Context { return o.ctx }

// End ends the operation's span (failed with err's message when err is
// not nil) and, for a call, emits the caller's client span, from the
// request to now.
func (o *EntityOperation) End(err error) {
	if o.span == nil {
		return
	}
	if err != nil {
		o.span.SetAttributes(strAttr(AttrEntityErrorMesage, err.Error()))
		o.span.SetStatus(codes.Error, err.Error())
	} else {
		o.span.SetStatus(codes.Ok, "Completed")
	}
	o.span.End()
	if o.signal {
		return
	}
	now := time.Now()
	start := o.requested
	if start.IsZero() || start.After(now) {
		start = now
	}
	ctx := withWantedSpanID(parentCtx(context.Background(), o.parent), o.clientID)
	_, c := tracer().Start(ctx, o.name, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start),
		trace.WithAttributes(strAttr(AttrType, TypeEntity), strAttr(AttrOperation, OperationCallEntity), attribute.String(AttrEventTargetID, o.entityID)))
	c.End(trace.WithTimestamp(now))
}
