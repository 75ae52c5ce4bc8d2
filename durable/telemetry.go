package durable

import (
	"encoding/json"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/telemetry"
)

// episodeObservation is what an orchestration episode reports once its
// checkpoint is committed: its spans and its metrics.
type episodeObservation struct {
	name    string
	started bool   // the execution ran its first episode
	ended   string // the status it ended with, if it did
	spans   *telemetry.Episode
}

// observeEpisode prepares the observation of an episode: it lays the trace
// context into the checkpoint (see traceEpisode) and notes what the
// metrics count.
func observeEpisode(wi *backend.OrchestrationWorkItem, cp *backend.Checkpoint, now time.Time) *episodeObservation {
	if cp == nil || IsEntityInstance(wi.InstanceID) || len(cp.NewEvents) == 0 {
		return nil
	}
	started := findStarted(wi.History)
	if started == nil {
		started = findStarted(wi.NewEvents)
	}
	if started == nil {
		return nil
	}
	o := &episodeObservation{name: started.Name, started: findStarted(wi.NewEvents) != nil}
	for _, e := range cp.NewEvents {
		if e.Type == history.ExecutionCompleted && e.OrchestrationStatus.IsTerminal() {
			o.ended = e.OrchestrationStatus.String()
		}
	}
	for _, e := range cp.NewEvents {
		if e.Type == history.OrchestratorStarted {
			now = e.Timestamp // the episode's time, as its events have it
			break
		}
	}
	o.spans = traceEpisode(wi, cp, started, now)
	return o
}

// committed emits the spans and records the metrics of a committed
// episode that took d.
func (o *episodeObservation) committed(d time.Duration) {
	if o == nil {
		return
	}
	if o.started {
		telemetry.OrchestrationStarted(o.name)
	}
	telemetry.EpisodeDone(o.name, d)
	if o.ended != "" {
		telemetry.OrchestrationEnded(o.name, o.ended)
	}
	o.spans.Emit()
}

// traceEpisode lays the trace context of an orchestration episode into its
// checkpoint (the span ids its TaskScheduled, SubOrchestrationInstanceCreated
// and sent events carry, as DurableTask.Core does) and returns the spans
// to emit once the checkpoint is committed.
func traceEpisode(wi *backend.OrchestrationWorkItem, cp *backend.Checkpoint, started *history.Event, now time.Time) *telemetry.Episode {
	ep := telemetry.BeginEpisode(started, now)
	if ep == nil {
		return nil
	}
	inbound := make(map[*history.Event]bool, len(wi.NewEvents))
	for _, e := range wi.NewEvents {
		inbound[e] = true
	}
	byID := func(lists ...[]*history.Event) func(int) *history.Event {
		return func(id int) *history.Event {
			for _, l := range lists {
				for _, e := range l {
					if e.EventID == id && (e.Type == history.TaskScheduled || e.Type == history.SubOrchestrationInstanceCreated) {
						return e
					}
				}
			}
			return nil
		}
	}
	for _, e := range wi.NewEvents {
		ep.Inbound(e, now, byID(wi.History))
	}
	stored := func(t history.EventType, id int) *history.Event {
		for _, e := range cp.NewEvents {
			if e.Type == t && e.EventID == id && !inbound[e] {
				return e
			}
		}
		return nil
	}
	for _, m := range cp.Outbound {
		e := m.Event
		switch {
		case e.Type == history.TaskScheduled && e.ParentTraceContext == nil:
			ep.ScheduleTask(e)
			if s := stored(history.TaskScheduled, e.EventID); s != nil && s != e {
				s.ParentTraceContext = e.ParentTraceContext
			}
		case e.Type == history.ExecutionStarted && e.Parent != nil && e.Parent.Instance.InstanceID == wi.InstanceID:
			if s := stored(history.SubOrchestrationInstanceCreated, e.Parent.TaskScheduleID); s != nil && s.ClientSpanID == nil {
				ep.CreateSubOrchestration(s, e)
			}
		case e.Type == history.EventRaised:
			ep.SendEvent(e, m.Target.InstanceID, now)
		}
	}
	for _, e := range cp.NewEvents {
		switch {
		case e.Type == history.ExecutionStarted && e != started && e.ParentTraceContext == nil:
			// continue-as-new keeps the trace (and the span) of the instance
			e.ParentTraceContext = started.ParentTraceContext
		case e.Type == history.ExecutionCompleted && e.OrchestrationStatus.IsTerminal():
			var failure *string
			if e.OrchestrationStatus == history.StatusFailed {
				msg := "orchestration failed"
				if e.Failure != nil {
					msg = e.Failure.ErrorMessage
				}
				failure = &msg
			}
			ep.Finish(e.OrchestrationStatus.String(), failure, now)
		}
	}
	return ep
}

// traceJSON is DistributedTraceContext in an entity request's
// parentTraceContext.
type traceJSON struct {
	TraceParent string  `json:"TraceParent"`
	TraceState  *string `json:"TraceState"`
}

// entityRequestTime is when the request was made, if it says.
func entityRequestTime(req *entityRequest) time.Time {
	if req.RequestTime != nil {
		if t, err := history.ParseTime(*req.RequestTime); err == nil {
			return t
		}
	}
	return time.Time{}
}

// traceEntityRequest gives a request an entity receives the trace context
// its operation's span hangs under (Core's RequestMessage
// ParentTraceContext): the sender's, carried by the event, or for a signal
// that of the producer span emitted now.
func traceEntityRequest(self string, id EntityID, req *entityRequest, e *history.Event, now time.Time) {
	if req.Op == nil || e.ParentTraceContext == nil || (len(req.TraceContext) > 0 && string(req.TraceContext) != "null") {
		return
	}
	tc := telemetry.EntityRequestReceived(self, id.Name, *req.Op, req.Signal, e.ParentTraceContext, entityRequestTime(req), now)
	if tc == nil {
		return
	}
	b, err := json.Marshal(traceJSON{TraceParent: tc.TraceParent, TraceState: tc.TraceState})
	if err == nil {
		req.TraceContext = b
	}
}

// startEntityOperation starts tracing an operation of the entity.
func (ep *entityEpisode) startEntityOperation(req entityRequest, op string) *telemetry.EntityOperation {
	var tc *history.TraceContext
	if len(req.TraceContext) > 0 {
		var j traceJSON
		if json.Unmarshal(req.TraceContext, &j) == nil && j.TraceParent != "" {
			tc = &history.TraceContext{TraceParent: j.TraceParent, TraceState: j.TraceState}
		}
	}
	return telemetry.StartEntityOperation(ep.self, ep.id.Name, op, req.Signal, tc, entityRequestTime(&req))
}
