package durable

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/godurable/functions/durable/replay"
)

// OrchestratorFunc is an orchestrator in untyped form: it reads its input
// with RawInput and returns a JSON-marshalable output. Adapt a typed
// function with Orchestrator.
type OrchestratorFunc func(ctx *OrchestrationContext) (any, error)

// Orchestrator adapts a typed orchestrator function: its input is decoded
// from JSON into In (a null or absent input leaves In's zero value) and
// its output is encoded as JSON.
func Orchestrator[In, Out any](fn func(ctx *OrchestrationContext, input In) (Out, error)) OrchestratorFunc {
	return func(ctx *OrchestrationContext) (any, error) {
		var in In
		if raw := ctx.RawInput(); raw != nil {
			if err := json.Unmarshal(raw, &in); err != nil {
				return nil, &InputError{Function: ctx.Name(), Err: err}
			}
		}
		return fn(ctx, in)
	}
}

// InputError reports an input that does not decode into the function's
// input type.
type InputError struct {
	Function string
	Err      error
}

func (e *InputError) Error() string {
	return fmt.Sprintf("input of %q does not decode: %v", e.Function, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// NonRetriable: the same input fails the same way on every attempt.
func (e *InputError) NonRetriable() bool { return true }

// ErrorType names the failure in the instance's status.
func (e *InputError) ErrorType() string { return ErrorTypeInput }

// OrchestrationContext is an orchestrator's view of its execution. Code
// using it must be deterministic: no goroutines, wall-clock time, random
// numbers or I/O; use the context's replay-safe equivalents
// (CurrentUTCDateTime, NewGUID, activities) instead.
//
// When an instance is unloaded while its orchestrator is blocked in Await,
// the orchestrator's goroutine is ended with runtime.Goexit: deferred calls
// run then, and must not assume the orchestration finished.
type OrchestrationContext struct {
	rt       *replay.Context
	logger   *slog.Logger
	guids    int
	lastSent map[string]time.Time // entity request clock, per target
	locks    []func() error       // releases of critical sections still held
	lockSet  []EntityID           // the entities locked now (nil: no critical section)
}

// releaseLocks ends every critical section the orchestrator left open, as
// Durable Task does when an orchestration finishes while holding locks.
func (c *OrchestrationContext) releaseLocks() {
	for _, release := range c.locks {
		_ = release()
	}
	c.locks = nil
}

func newOrchestrationContext(rt *replay.Context, base *slog.Logger) *OrchestrationContext {
	c := &OrchestrationContext{rt: rt}
	c.logger = slog.New(&replaySafeHandler{inner: base.Handler(), replaying: rt.IsReplaying}).With(
		"instanceId", rt.InstanceID(), "orchestrator", rt.Name())
	return c
}

// InstanceID is the orchestration instance's id.
func (c *OrchestrationContext) InstanceID() string { return c.rt.InstanceID() }

// ExecutionID is the id of the current execution; it changes on ContinueAsNew.
func (c *OrchestrationContext) ExecutionID() string { return c.rt.ExecutionID() }

// Name is the orchestrator's registered name.
func (c *OrchestrationContext) Name() string { return c.rt.Name() }

// ParentInstanceID is the parent orchestration's instance id for a
// sub-orchestration, or "".
func (c *OrchestrationContext) ParentInstanceID() string {
	if p := c.rt.Parent(); p != nil {
		return p.Instance.InstanceID
	}
	return ""
}

// RawInput is the orchestration's input as JSON text, nil when none.
func (c *OrchestrationContext) RawInput() json.RawMessage {
	if in := c.rt.Input(); in != nil {
		return json.RawMessage(*in)
	}
	return nil
}

// IsReplaying reports whether the code is being replayed from history.
func (c *OrchestrationContext) IsReplaying() bool { return c.rt.IsReplaying() }

// CurrentUTCDateTime is the replay-safe current time: the time the current
// episode started, the same on every replay.
func (c *OrchestrationContext) CurrentUTCDateTime() time.Time { return c.rt.CurrentUTCDateTime() }

// Logger returns a logger that drops records while the orchestrator is
// replaying, so each line is logged once.
func (c *OrchestrationContext) Logger() *slog.Logger { return c.logger }

// SetCustomStatus sets the instance's custom status to v (JSON-encoded);
// nil clears it. The status is saved when the current episode ends.
func (c *OrchestrationContext) SetCustomStatus(v any) error {
	s, err := marshalPayload(v)
	if err != nil {
		return fmt.Errorf("durable: custom status of %q: %w", c.InstanceID(), err)
	}
	c.rt.SetCustomStatus(s)
	return nil
}

// ContinueAsNewOption configures ContinueAsNew.
type ContinueAsNewOption func(*continueAsNewOptions)

type continueAsNewOptions struct {
	preserveEvents bool
}

// PreserveUnprocessedEvents delivers external events that arrived but were
// not consumed to the new execution.
func PreserveUnprocessedEvents() ContinueAsNewOption {
	return func(o *continueAsNewOptions) { o.preserveEvents = true }
}

// ContinueAsNew restarts the orchestration with a fresh history and the
// given input once the orchestrator function returns (its return value is
// then ignored). External events raised after the call, including those
// later in the same batch of messages, go to the new execution, as in
// DurableTask.Core; with PreserveUnprocessedEvents the events that arrived
// earlier and were never consumed go too.
func (c *OrchestrationContext) ContinueAsNew(input any, opts ...ContinueAsNewOption) error {
	s, err := marshalPayload(input)
	if err != nil {
		return fmt.Errorf("durable: continue-as-new input of %q: %w", c.InstanceID(), err)
	}
	var o continueAsNewOptions
	for _, opt := range opts {
		opt(&o)
	}
	c.rt.ContinueAsNew(s, o.preserveEvents)
	return nil
}

// SendEvent raises an external event on another orchestration instance
// (fire-and-forget; recorded as EventSent in this history).
func (c *OrchestrationContext) SendEvent(instanceID, eventName string, data any) error {
	s, err := marshalPayload(data)
	if err != nil {
		return fmt.Errorf("durable: event %q for %q: %w", eventName, instanceID, err)
	}
	c.rt.SendEvent(instanceID, eventName, s)
	return nil
}

// replaySafeHandler drops log records while the orchestrator replays.
type replaySafeHandler struct {
	inner     slog.Handler
	replaying func() bool
}

func (h *replaySafeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !h.replaying() && h.inner.Enabled(ctx, l)
}

func (h *replaySafeHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.replaying() {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *replaySafeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &replaySafeHandler{inner: h.inner.WithAttrs(as), replaying: h.replaying}
}

func (h *replaySafeHandler) WithGroup(name string) slog.Handler {
	return &replaySafeHandler{inner: h.inner.WithGroup(name), replaying: h.replaying}
}
