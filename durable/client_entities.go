package durable

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/telemetry"
)

// SignalOption configures SignalEntity.
type SignalOption func(*signalOptions)

type signalOptions struct {
	at time.Time
}

// SignalAt delivers the signal at t instead of now.
func SignalAt(t time.Time) SignalOption { return func(o *signalOptions) { o.at = t } }

func applySignalOptions(opts []SignalOption) signalOptions {
	var o signalOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// SignalEntity sends a one-way operation to an entity (it is created on
// first use), now or, with SignalAt, at a later time.
func (c *Client) SignalEntity(ctx context.Context, entity EntityID, operation string, input any, opts ...SignalOption) error {
	at := applySignalOptions(opts).at
	if entity.Name == "" {
		return fmt.Errorf("durable: signal: %w: the entity name is empty", ErrInvalidInput)
	}
	in, err := marshalPayload(input)
	if err != nil {
		return fmt.Errorf("durable: signal %s.%s: %w: %w", entity, operation, ErrInvalidInput, err)
	}
	req := entityRequest{Op: &operation, Signal: true, Input: in, ID: newGUIDString(), Timestamp: minDotNetTime, Predecessor: minDotNetTime}
	b, _ := json.Marshal(req)
	s := string(b)
	name := "op"
	if !at.IsZero() {
		due := dotNetTime(at)
		req.Due = &due
		b, _ = json.Marshal(req)
		s = string(b)
		name = scheduledSignalName(time.Now(), at) // delayed through queue visibility, as Durable Task does
	}
	e := &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(), Name: name, Input: &s}
	telemetry.CarryContext(ctx, e)
	if err := c.be.SendEvent(ctx, history.OrchestrationInstance{InstanceID: entity.String()}, e); err != nil {
		return fmt.Errorf("durable: signal %s.%s: %w", entity, operation, err)
	}
	return nil
}

// EntityMetadata is what the client reads of an entity.
type EntityMetadata struct {
	ID                EntityID
	LastOperationTime time.Time
	// State is the entity's state as JSON text; nil when not fetched.
	State     *string
	LockedBy  string
	QueueSize int
}

// StateAs decodes an entity's state (EntityMetadata.State) as JSON into a
// T; the zero T when the state was not fetched.
func StateAs[T any](md *EntityMetadata) (T, error) {
	var v T
	if md == nil || md.State == nil {
		return v, nil
	}
	if err := json.Unmarshal([]byte(*md.State), &v); err != nil {
		return v, fmt.Errorf("durable: decode state of %s: %w", md.ID, err)
	}
	return v, nil
}

// GetEntity reads an entity's state. It fails with ErrInstanceNotFound
// when the entity does not exist (never signaled, or deleted).
func (c *Client) GetEntity(ctx context.Context, entity EntityID) (*EntityMetadata, error) {
	st, err := c.be.GetInstance(ctx, entity.String(), true)
	if err != nil {
		return nil, fmt.Errorf("durable: entity %s: %w", entity, err)
	}
	md, ok := entityFromState(st)
	if !ok {
		return nil, fmt.Errorf("durable: entity %s: %w", entity, ErrInstanceNotFound)
	}
	return md, nil
}

func entityFromState(st *backend.InstanceState) (*EntityMetadata, bool) {
	id, err := ParseEntityID(st.InstanceID)
	if err != nil || st.Input == nil {
		return nil, false
	}
	var ss schedulerState
	if json.Unmarshal([]byte(*st.Input), &ss) != nil || ss.State == nil {
		return nil, false
	}
	return &EntityMetadata{ID: id, LastOperationTime: st.CreatedTime, State: ss.State, LockedBy: ss.LockedBy, QueueSize: len(ss.Queue)}, true
}

// EntityPage is one page of ListEntities.
type EntityPage struct {
	Entities          []*EntityMetadata
	ContinuationToken string
}

// EntityQuery selects the entities ListEntities returns.
type EntityQuery struct {
	// Name lists the entities of one name; "" lists all.
	Name string
	// FetchState fills EntityMetadata.State.
	FetchState bool
	// PageSize bounds one page (default 100).
	PageSize int
	// ContinuationToken continues a previous page ("" for the first).
	ContinuationToken string
}

// ListEntities lists existing entities, a page at a time.
func (c *Client) ListEntities(ctx context.Context, q EntityQuery) (*EntityPage, error) {
	prefix := "@"
	if q.Name != "" {
		prefix = "@" + strings.ToLower(q.Name) + "@"
	}
	p, err := c.be.QueryInstances(ctx, backend.InstanceQuery{InstanceIDPrefix: prefix, FetchInputs: true, PageSize: q.PageSize, ContinuationToken: q.ContinuationToken})
	if err != nil {
		return nil, fmt.Errorf("durable: list entities: %w", err)
	}
	out := &EntityPage{ContinuationToken: p.ContinuationToken}
	for _, st := range p.Instances {
		md, ok := entityFromState(st)
		if !ok {
			continue
		}
		if !q.FetchState {
			md.State = nil
		}
		out.Entities = append(out.Entities, md)
	}
	return out, nil
}

// maxSignalDelay is how far ahead Durable Task schedules a signal through
// queue visibility (MaximumSignalDelayTime of the Azure Storage provider);
// the entity sends one due later back to itself when it arrives.
const maxSignalDelay = 6 * 24 * time.Hour

// scheduledSignalName is the event name of a signal due at: "op@" and the
// time it becomes visible, at most maxSignalDelay after now, as .NET
// writes it.
func scheduledSignalName(now, due time.Time) string {
	if due.Sub(now) > maxSignalDelay {
		due = now.Add(maxSignalDelay)
	}
	return "op@" + dotNetTime(due)
}

func newGUIDString() string {
	h := NewInstanceID()
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
