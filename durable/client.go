package durable

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/telemetry"
)

// Client starts and manages orchestration instances. It is safe for
// concurrent use.
type Client struct {
	be             backend.Backend
	registry       *Registry
	hub            string
	defaultVersion string
}

// NewClient returns a client for the task hub served by be, named as the
// backend names it (a backend with a TaskHubName method, as the Azure
// Storage backend has) unless WithTaskHubName says otherwise. If registry
// is not nil, StartNew refuses orchestrator names it does not know.
func NewClient(be backend.Backend, registry *Registry, opts ...ClientOption) *Client {
	var o clientOptions
	if named, ok := be.(interface{ TaskHubName() string }); ok {
		o.taskHub = named.TaskHubName()
	}
	for _, opt := range opts {
		opt(&o)
	}
	return &Client{be: be, registry: registry, hub: o.taskHub}
}

// ClientOption configures NewClient.
type ClientOption func(*clientOptions)

type clientOptions struct {
	taskHub string
}

// WithTaskHubName names the task hub in the client's answers (status URLs,
// the management API) where the backend does not know its name, as the
// in-memory backend does not.
func WithTaskHubName(name string) ClientOption { return func(o *clientOptions) { o.taskHub = name } }

// TaskHubName is the name of the task hub this client works on.
func (c *Client) TaskHubName() string { return c.hub }

// StartOption configures StartNew.
type StartOption func(*startOptions)

type startOptions struct {
	instanceID string
	startAt    time.Time
	version    string
	tags       map[string]string
	overwrite  bool
}

// WithInstanceID starts the instance under the given id instead of a
// generated one.
func WithInstanceID(id string) StartOption { return func(o *startOptions) { o.instanceID = id } }

// WithStartTime schedules the start for a later time.
func WithStartTime(t time.Time) StartOption { return func(o *startOptions) { o.startAt = t } }

// NewInstanceID returns a fresh instance id: 32 lowercase hex digits, as
// Durable Functions generates them.
func NewInstanceID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("durable: crypto/rand failed: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// marshalPayload turns a Go value into stored JSON text; nil stays null.
// A json.RawMessage is used as is (after a validity check).
func marshalPayload(v any) (*string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if x == nil {
			return nil, nil
		}
		if !json.Valid(x) {
			return nil, errors.New("payload is not valid JSON")
		}
		s := string(x)
		return &s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// StartNew schedules a new instance of the named orchestrator with the given
// input (any JSON-marshalable value; nil for none; a json.RawMessage is sent
// as is) and returns its instance id. It fails with ErrUnknownFunction for
// an orchestrator the registry does not know and with ErrInstanceExists when
// an instance with the requested id is still pending, running or suspended
// — unless that instance runs the same orchestrator with the same input:
// such a start is the same request repeated (a client retrying after a
// lost answer) and succeeds, naming the existing instance. It fails with
// ErrUnavailable when storage failed transiently and nothing was started;
// retrying is then safe.
func (c *Client) StartNew(ctx context.Context, orchestrator string, input any, opts ...StartOption) (string, error) {
	var o startOptions
	for _, opt := range opts {
		opt(&o)
	}
	if c.registry != nil && !c.registry.HasOrchestrator(orchestrator) {
		return "", fmt.Errorf("durable: start %q: %w: no orchestrator is registered under that name", orchestrator, ErrUnknownFunction)
	}
	explicitID := o.instanceID != ""
	if !explicitID {
		o.instanceID = NewInstanceID()
	}
	if err := ValidateInstanceID(o.instanceID); err != nil {
		return "", fmt.Errorf("durable: start %q: %w: %w", orchestrator, ErrInvalidInput, err)
	}
	in, err := marshalPayload(input)
	if err != nil {
		return "", fmt.Errorf("durable: start %q: %w: input: %w", orchestrator, ErrInvalidInput, err)
	}
	gen := 0
	e := &history.Event{
		Type:       history.ExecutionStarted,
		EventID:    -1,
		Timestamp:  time.Now().UTC(),
		Instance:   &history.OrchestrationInstance{InstanceID: o.instanceID, ExecutionID: NewInstanceID()},
		Name:       orchestrator,
		Input:      in,
		Generation: &gen,
		Version:    c.startVersion(o.version),
		Tags:       o.tags,
	}
	if !o.startAt.IsZero() {
		t := o.startAt.UTC()
		e.ScheduledStartTime = &t
	}
	dedupe := []history.OrchestrationStatus{history.StatusPending, history.StatusRunning, history.StatusSuspended}
	if o.overwrite {
		dedupe = nil
	}
	traced := telemetry.StartCreateOrchestration(ctx, e)
	if nc, ok := c.be.(backend.NewInstanceCreator); ok && !explicitID {
		err = nc.CreateNewInstance(ctx, e, dedupe) // the id was generated above
	} else {
		err = c.be.CreateInstance(ctx, e, dedupe)
	}
	traced(err)
	if err != nil {
		if explicitID && errors.Is(err, ErrInstanceExists) && c.sameStart(ctx, o.instanceID, orchestrator, in) {
			// The same request again (a client retrying after a lost
			// answer): it is answered as the first one was.
			return o.instanceID, nil
		}
		return "", fmt.Errorf("durable: start %q as %q: %w", orchestrator, o.instanceID, err)
	}
	return o.instanceID, nil
}

// sameStart reports whether the instance that exists under id runs the
// same orchestrator with the same input, so that starting it again with
// that id is the same request repeated.
func (c *Client) sameStart(ctx context.Context, id, orchestrator string, input *string) bool {
	st, err := c.be.GetInstance(ctx, id, true)
	if err != nil || st.Name != orchestrator {
		return false
	}
	return sameJSON(st.Input, input)
}

// sameJSON compares two stored JSON payloads, ignoring insignificant
// whitespace; nil and "null" are the same.
func sameJSON(a, b *string) bool {
	norm := func(p *string) string {
		if p == nil {
			return "null"
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(*p)); err != nil {
			return *p
		}
		return buf.String()
	}
	return norm(a) == norm(b)
}

// ValidateInstanceID checks an instance id supplied by a caller.
func ValidateInstanceID(id string) error {
	switch {
	case id == "":
		return errors.New("instance id is empty")
	case len(id) > 256:
		return fmt.Errorf("instance id is %d characters long; the limit is 256", len(id))
	case id[0] == '@':
		return fmt.Errorf("instance id %q starts with '@', which is reserved for entities", id)
	}
	for _, r := range id {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return fmt.Errorf("instance id %q contains a control character", id)
		}
	}
	return nil
}

// StatusOption configures GetStatus.
type StatusOption func(*statusOptions)

type statusOptions struct {
	history   bool
	skipInput bool
}

// WithHistory also reads the instance's history.
func WithHistory() StatusOption { return func(o *statusOptions) { o.history = true } }

// WithoutInput leaves Input out (it may be large).
func WithoutInput() StatusOption { return func(o *statusOptions) { o.skipInput = true } }

// GetStatus reads an instance's status. It fails with ErrInstanceNotFound
// for an unknown id.
func (c *Client) GetStatus(ctx context.Context, instanceID string, opts ...StatusOption) (*InstanceStatus, error) {
	var o statusOptions
	for _, opt := range opts {
		opt(&o)
	}
	st, err := c.be.GetInstance(ctx, instanceID, true)
	if err != nil {
		return nil, fmt.Errorf("durable: status of %q: %w", instanceID, err)
	}
	out := statusFromState(st)
	if o.skipInput {
		out.Input = nil
	}
	if o.history {
		h, err := c.be.GetHistory(ctx, instanceID)
		if err != nil {
			return nil, fmt.Errorf("durable: history of %q: %w", instanceID, err)
		}
		out.History = h
	}
	return out, nil
}

func statusFromState(st *backend.InstanceState) *InstanceStatus {
	return &InstanceStatus{
		Name:               st.Name,
		InstanceID:         st.InstanceID,
		RuntimeStatus:      st.RuntimeStatus,
		Input:              st.Input,
		Output:             st.Output,
		CustomStatus:       st.CustomStatus,
		CreatedTime:        st.CreatedTime,
		LastUpdatedTime:    st.LastUpdatedTime,
		ExecutionID:        st.ExecutionID,
		Version:            st.Version,
		Tags:               st.Tags,
		ScheduledStartTime: st.ScheduledStartTime,
	}
}

// WaitForCompletion polls until the instance reaches a terminal status or
// ctx ends, and returns the final status. An instance that ended Failed is
// returned with a nil error: check RuntimeStatus.
func (c *Client) WaitForCompletion(ctx context.Context, instanceID string, opts ...StatusOption) (*InstanceStatus, error) {
	delay := 20 * time.Millisecond
	for {
		st, err := c.GetStatus(ctx, instanceID, opts...)
		if err != nil && !errors.Is(err, ErrInstanceNotFound) {
			return nil, err
		}
		if err == nil && st.IsTerminal() {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("durable: wait for %q: %w (%w)", instanceID, ErrTimeout, ctx.Err())
		case <-time.After(delay):
		}
		if delay < 500*time.Millisecond {
			delay *= 2
		}
	}
}

// rawJSON passes stored JSON text through StartNew unchanged; text that is
// not JSON is sent as a JSON string.
func rawJSON(s string) any {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}
