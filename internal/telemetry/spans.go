package telemetry

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/godurable/functions/durable/history"
)

// isEntity reports an entity's instance id ("@name@key").
func isEntity(id string) bool { return strings.HasPrefix(id, "@") }

// StartCreateOrchestration starts the client's create_orchestration span
// (Producer) for a new instance, child of the span in ctx (an incoming
// request's traceparent), and records it as the ExecutionStarted event's
// ParentTraceContext. The returned function ends the span once the start
// request is stored (err is its failure, or nil).
func StartCreateOrchestration(ctx context.Context, e *history.Event) func(err error) {
	if e.ParentTraceContext != nil {
		return func(error) {}
	}
	parent := trace.SpanContextFromContext(ctx)
	attrs := []attribute.KeyValue{strAttr(AttrType, TypeOrchestration), strAttr(AttrName, e.Name)}
	if e.Instance != nil {
		attrs = append(attrs, strAttr(AttrInstanceID, e.Instance.InstanceID), strAttr(AttrExecutionID, e.Instance.ExecutionID))
	}
	if e.Version != "" {
		attrs = append(attrs, strAttr(AttrVersion, e.Version))
	}
	_, span := tracer().Start(ctx, spanName(spanCreateOrch, e.Name, e.Version),
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithTimestamp(e.Timestamp), trace.WithAttributes(attrs...))
	if sc := span.SpanContext(); sc.IsValid() && sc.SpanID() != parent.SpanID() {
		e.ParentTraceContext = traceContext(sc)
	}
	return func(err error) {
		if err != nil {
			setError(span, err.Error())
		}
		span.End()
	}
}

// StartRaiseEvent starts the client's orchestration_event span (Producer)
// for an event raised on instanceID and records it as the EventRaised
// event's ParentTraceContext. The returned function ends the span.
func StartRaiseEvent(ctx context.Context, instanceID string, e *history.Event) func(err error) {
	if isEntity(instanceID) {
		return func(error) {}
	}
	parent := trace.SpanContextFromContext(ctx)
	_, span := tracer().Start(ctx, spanName(spanOrchEvent, e.Name, ""),
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
			strAttr(AttrType, TypeEvent), strAttr(AttrName, e.Name), strAttr(AttrEventTargetID, instanceID)))
	if sc := span.SpanContext(); sc.IsValid() && sc.SpanID() != parent.SpanID() && e.ParentTraceContext == nil {
		e.ParentTraceContext = traceContext(sc)
	}
	return func(err error) {
		if err != nil {
			setError(span, err.Error())
		}
		span.End()
	}
}

// ActivityRun is one activity execution being observed.
type ActivityRun struct {
	span  trace.Span
	name  string
	start time.Time
}

// StartActivity starts observing an activity execution: its span
// (Server), child of the client span its TaskScheduled event names (none
// without a trace context in the event), and its duration. The returned
// context carries the span, for the activity's own spans and logs.
func StartActivity(ctx context.Context, instanceID string, scheduled *history.Event) (context.Context, *ActivityRun) {
	run := &ActivityRun{name: scheduled.Name, start: time.Now()}
	parent, ok := contextOf(scheduled.ParentTraceContext)
	if !ok {
		run.span = trace.SpanFromContext(context.Background())
		return ctx, run
	}
	attrs := []attribute.KeyValue{strAttr(AttrType, TypeActivity), strAttr(AttrName, scheduled.Name),
		strAttr(AttrInstanceID, instanceID), attribute.Int(AttrTaskID, scheduled.EventID)}
	if scheduled.Version != "" {
		attrs = append(attrs, strAttr(AttrVersion, scheduled.Version))
	}
	ctx, run.span = tracer().Start(parentCtx(ctx, parent), spanName(TypeActivity, scheduled.Name, scheduled.Version),
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return ctx, run
}

// End ends the observation with the activity's result (nil when it
// aborted its work item): a TaskFailed sets the span's error status with
// the failure's message.
func (r *ActivityRun) End(result *history.Event) {
	outcome := "completed"
	switch {
	case result == nil:
		outcome = "aborted"
	case result.Type == history.TaskFailed:
		outcome = "failed"
		setError(r.span, history.Deref(result.Reason))
	}
	r.span.End()
	ActivityDone(r.name, outcome, time.Since(r.start))
}

// Episode traces one orchestration episode. DurableTask.Core keeps one
// orchestration span per instance across its episodes: the span's id and
// start time are stored in the ExecutionStarted event's ParentTraceContext
// (Id, SpanId, ActivityStartTime) the first time it runs, every episode
// parents its spans to that id, and the span itself is emitted once, when
// the orchestration completes. Spans of completed tasks, fired timers and
// sent events are emitted by the episode that sees them first, after its
// checkpoint is committed, so replays emit nothing twice; the span of a
// sent event, as in Core, as the message is laid out.
type Episode struct {
	started *history.Event
	parent  trace.SpanContext // the orchestration span's parent
	orch    trace.SpanContext // the orchestration span
	start   time.Time
	pending []func()
}

// BeginEpisode returns the tracing of an episode of the execution started
// by started, or nil when the execution carries no trace context. The
// first time, it assigns the orchestration span's id and start time in
// started.ParentTraceContext, which the checkpoint stores.
func BeginEpisode(started *history.Event, now time.Time) *Episode {
	tc := started.ParentTraceContext
	parent, ok := contextOf(tc)
	if !ok {
		return nil
	}
	ep := &Episode{started: started, parent: parent}
	var id trace.SpanID
	if tc.SpanID != nil {
		if sid, err := trace.SpanIDFromHex(*tc.SpanID); err == nil {
			id = sid
		}
	}
	if id.IsValid() {
		ep.orch = parent.WithSpanID(id).WithRemote(false)
		if tc.ID != nil {
			if sc, ok := ParseTraceParent(*tc.ID, nil); ok && sc.SpanID() == id {
				ep.orch = sc.WithTraceState(parent.TraceState()).WithRemote(false)
			}
		}
		ep.start = now
		if tc.ActivityStartTime != nil {
			ep.start = *tc.ActivityStartTime
		}
		return ep
	}
	ep.orch = parent.WithSpanID(NewSpanID()).WithRemote(false)
	ep.start = now
	idText := TraceParent(ep.orch)
	spanText := ep.orch.SpanID().String()
	start := now.UTC()
	tc.ID, tc.SpanID, tc.ActivityStartTime = &idText, &spanText, &start
	return ep
}

// SpanContext is the orchestration span's context.
func (ep *Episode) SpanContext() trace.SpanContext { return ep.orch }

func (ep *Episode) ctx() context.Context {
	return trace.ContextWithSpanContext(context.Background(), ep.orch)
}

func (ep *Episode) instanceID() string {
	if ep.started.Instance == nil {
		return ""
	}
	return ep.started.Instance.InstanceID
}

// emit queues a finished span for Emit.
func (ep *Episode) emit(parent context.Context, id trace.SpanID, name string, kind trace.SpanKind, start, end time.Time, errMsg *string, attrs ...attribute.KeyValue) {
	ep.pending = append(ep.pending, func() {
		ctx := parent
		if id.IsValid() {
			ctx = withWantedSpanID(ctx, id)
		}
		_, s := tracer().Start(ctx, name, trace.WithSpanKind(kind), trace.WithTimestamp(start), trace.WithAttributes(attrs...))
		if errMsg != nil {
			setError(s, *errMsg)
		}
		if end.Before(start) {
			end = start
		}
		s.End(trace.WithTimestamp(end))
	})
}

// ScheduleTask gives a new TaskScheduled event the trace context of its
// activity's client span (a new span id under the orchestration span).
func (ep *Episode) ScheduleTask(e *history.Event) {
	e.ParentTraceContext = traceContext(ep.orch.WithSpanID(NewSpanID()))
}

// CreateSubOrchestration names the client span of a new sub-orchestration
// in its SubOrchestrationInstanceCreated event (ClientSpanId) and makes it
// the parent of the child's ExecutionStarted.
func (ep *Episode) CreateSubOrchestration(created, start *history.Event) {
	id := NewSpanID()
	s := id.String()
	created.ClientSpanID = &s
	if start != nil && start.ParentTraceContext == nil {
		start.ParentTraceContext = traceContext(ep.orch.WithSpanID(id))
	}
}

// SendEvent gives an event sent to target the orchestration's trace
// context and emits its orchestration_event span (Producer). Events to
// and from entities have no span of their own, as in DurableTask.Core:
// the entity traces the operation.
func (ep *Episode) SendEvent(raised *history.Event, target string, now time.Time) {
	raised.ParentTraceContext = traceContext(ep.orch)
	if isEntity(target) || isEntity(ep.instanceID()) {
		return // the entity traces the request it receives
	}
	attrs := []attribute.KeyValue{strAttr(AttrType, TypeEvent), strAttr(AttrName, raised.Name),
		strAttr(AttrInstanceID, ep.instanceID()), strAttr(AttrEventTargetID, target)}
	if ep.started.Instance != nil {
		attrs = append(attrs, strAttr(AttrExecutionID, ep.started.Instance.ExecutionID))
	}
	// Core ends this span as it lays out the message, before the
	// checkpoint: it is emitted now, so that it ends before the receiver
	// can act on the event.
	ep.emit(ep.ctx(), trace.SpanID{}, spanName(spanOrchEvent, raised.Name, ""), trace.SpanKindProducer, now, now, nil, attrs...)
	last := ep.pending[len(ep.pending)-1]
	ep.pending = ep.pending[:len(ep.pending)-1]
	last()
}

// Inbound queues the spans an inbound event completes: a fired timer's
// span, an activity's client span (from its TaskScheduled to its result)
// and a sub-orchestration's client span. scheduled finds the event with
// the given EventID in the execution's history.
func (ep *Episode) Inbound(e *history.Event, now time.Time, scheduled func(eventID int) *history.Event) {
	switch e.Type {
	case history.TimerFired:
		ep.emit(ep.ctx(), trace.SpanID{}, TypeOrchestration+":"+ep.started.Name+":"+TypeTimer, trace.SpanKindInternal, e.Timestamp, now, nil,
			strAttr(AttrType, TypeTimer), strAttr(AttrName, ep.started.Name), strAttr(AttrInstanceID, ep.instanceID()),
			strAttr(AttrFireAt, dotNetRoundTrip(e.FireAt)), attribute.Int(AttrTaskID, e.TimerID))
	case history.TaskCompleted, history.TaskFailed:
		s := scheduled(e.TaskScheduledID)
		if s == nil || s.Type != history.TaskScheduled {
			return
		}
		var id trace.SpanID
		if sc, ok := contextOf(s.ParentTraceContext); ok {
			id = sc.SpanID()
		}
		var errMsg *string
		if e.Type == history.TaskFailed {
			msg := history.Deref(e.Reason)
			errMsg = &msg
		}
		attrs := []attribute.KeyValue{strAttr(AttrType, TypeActivity), strAttr(AttrName, s.Name),
			strAttr(AttrInstanceID, ep.instanceID()), attribute.Int(AttrTaskID, s.EventID)}
		if s.Version != "" {
			attrs = append(attrs, strAttr(AttrVersion, s.Version))
		}
		ep.emit(ep.ctx(), id, spanName(TypeActivity, s.Name, s.Version), trace.SpanKindClient, s.Timestamp, now, errMsg, attrs...)
	case history.SubOrchestrationInstanceCompleted, history.SubOrchestrationInstanceFailed:
		s := scheduled(e.TaskScheduledID)
		if s == nil || s.Type != history.SubOrchestrationInstanceCreated {
			return
		}
		var id trace.SpanID
		if s.ClientSpanID != nil {
			id, _ = trace.SpanIDFromHex(*s.ClientSpanID)
		}
		var errMsg *string
		if e.Type == history.SubOrchestrationInstanceFailed {
			msg := history.Deref(e.Reason)
			if msg == "" {
				msg = "Unspecified sub-orchestration failure"
			}
			errMsg = &msg
		}
		attrs := []attribute.KeyValue{strAttr(AttrType, TypeOrchestration), strAttr(AttrName, s.Name),
			strAttr(AttrInstanceID, ep.instanceID())}
		if s.Version != "" {
			attrs = append(attrs, strAttr(AttrVersion, s.Version))
		}
		ep.emit(ep.ctx(), id, spanName(TypeOrchestration, s.Name, s.Version), trace.SpanKindClient, s.Timestamp, now, errMsg, attrs...)
	}
}

// Finish queues the orchestration span itself: the execution ended with
// status (its runtime status name) and, when it failed, failure.
func (ep *Episode) Finish(status string, failure *string, now time.Time) {
	attrs := []attribute.KeyValue{strAttr(AttrType, TypeOrchestration), strAttr(AttrName, ep.started.Name),
		strAttr(AttrInstanceID, ep.instanceID()), strAttr(AttrStatus, status)}
	if ep.started.Version != "" {
		attrs = append(attrs, strAttr(AttrVersion, ep.started.Version))
	}
	ep.emit(parentCtx(context.Background(), ep.parent), ep.orch.SpanID(), spanName(TypeOrchestration, ep.started.Name, ep.started.Version),
		trace.SpanKindServer, ep.start, now, failure, attrs...)
}

// Emit sends the queued spans; call it once the episode's checkpoint is
// committed.
func (ep *Episode) Emit() {
	if ep == nil {
		return
	}
	for _, f := range ep.pending {
		f()
	}
	ep.pending = nil
}

// CarryContext gives an event a client sends the trace context of the
// span in ctx, if any.
func CarryContext(ctx context.Context, e *history.Event) {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && e.ParentTraceContext == nil {
		e.ParentTraceContext = traceContext(sc)
	}
}
