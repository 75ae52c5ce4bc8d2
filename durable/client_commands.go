package durable

import (
	"context"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/telemetry"
)

// RaiseEvent sends an external event to a running, pending or suspended
// instance. data is JSON-encoded (nil for null; a json.RawMessage as is).
// It fails with ErrInstanceNotFound or ErrInstanceFinished.
func (c *Client) RaiseEvent(ctx context.Context, instanceID, eventName string, data any) error {
	if eventName == "" {
		return fmt.Errorf("durable: raise event on %q: %w: the event name is empty", instanceID, ErrInvalidInput)
	}
	in, err := marshalPayload(data)
	if err != nil {
		return fmt.Errorf("durable: raise event %q on %q: %w: %w", eventName, instanceID, ErrInvalidInput, err)
	}
	e := &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(), Name: eventName, Input: in}
	traced := telemetry.StartRaiseEvent(ctx, instanceID, e)
	err = c.command(ctx, instanceID, "raise event "+eventName, e)
	traced(err)
	return err
}

// Terminate ends an instance; its output becomes reason. Results that
// arrive later are ignored.
func (c *Client) Terminate(ctx context.Context, instanceID, reason string) error {
	e := &history.Event{Type: history.ExecutionTerminated, EventID: -1, Timestamp: time.Now().UTC(), Input: &reason}
	return c.command(ctx, instanceID, "terminate", e)
}

// Suspend pauses an instance: messages for it wait until Resume.
func (c *Client) Suspend(ctx context.Context, instanceID, reason string) error {
	e := &history.Event{Type: history.ExecutionSuspended, EventID: -1, Timestamp: time.Now().UTC(), Reason: &reason}
	return c.command(ctx, instanceID, "suspend", e)
}

// Resume continues a suspended instance.
func (c *Client) Resume(ctx context.Context, instanceID, reason string) error {
	e := &history.Event{Type: history.ExecutionResumed, EventID: -1, Timestamp: time.Now().UTC(), Reason: &reason}
	return c.command(ctx, instanceID, "resume", e)
}

// command sends an event to the current execution of a live instance.
func (c *Client) command(ctx context.Context, instanceID, what string, e *history.Event) error {
	if h, ok := c.be.(backend.RunningHinter); !ok || !h.RunningHere(instanceID) {
		st, err := c.be.GetInstance(ctx, instanceID, false)
		if err != nil {
			return fmt.Errorf("durable: %s %q: %w", what, instanceID, err)
		}
		if st.RuntimeStatus.IsTerminal() {
			return fmt.Errorf("durable: %s %q: %w (it is %s)", what, instanceID, ErrInstanceFinished, st.RuntimeStatus)
		}
	}
	if err := c.be.SendEvent(ctx, history.OrchestrationInstance{InstanceID: instanceID}, e); err != nil {
		return fmt.Errorf("durable: %s %q: %w", what, instanceID, err)
	}
	return nil
}
