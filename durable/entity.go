package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// EntityID names a durable entity: a name (case-insensitive, stored
// lowercased) and a key.
type EntityID struct {
	Name string
	Key  string
}

// NewEntityID returns the id of entity name/key, name lowercased.
func NewEntityID(name, key string) EntityID { return EntityID{Name: strings.ToLower(name), Key: key} }

// String is the entity's instance id, "@name@key".
func (e EntityID) String() string { return "@" + strings.ToLower(e.Name) + "@" + e.Key }

// ParseEntityID reads an "@name@key" instance id.
func ParseEntityID(instanceID string) (EntityID, error) {
	if len(instanceID) < 2 || instanceID[0] != '@' {
		return EntityID{}, fmt.Errorf("%q is not an entity instance id (@name@key)", instanceID)
	}
	name, key, ok := strings.Cut(instanceID[1:], "@")
	if !ok || name == "" {
		return EntityID{}, fmt.Errorf("%q is not an entity instance id (@name@key)", instanceID)
	}
	return EntityID{Name: name, Key: key}, nil
}

// IsEntityInstance reports whether an instance id belongs to an entity.
func IsEntityInstance(instanceID string) bool { return strings.HasPrefix(instanceID, "@") }

// ErrUnknownOperation is what an entity function returns for an operation
// it does not have. For "delete" the entity's state is then deleted, as
// Durable Functions' implicit delete operation does.
var ErrUnknownOperation = errors.New("unknown entity operation")

// EntityFunc is an entity: it handles one operation at a time against the
// entity's state.
type EntityFunc func(ctx *EntityContext) (any, error)

// EntityContext is one operation's view of its entity.
type EntityContext struct {
	context.Context
	id     EntityID
	op     string
	input  *string
	state  *string
	signal []entityOutbound
}

type entityOutbound struct {
	target EntityID
	op     string
	input  *string
	at     time.Time // zero: now
}

// ID is the entity's id.
func (c *EntityContext) ID() EntityID { return c.id }

// Operation is the name of the operation being run.
func (c *EntityContext) Operation() string { return c.op }

// HasState reports whether the entity has a state.
func (c *EntityContext) HasState() bool { return c.state != nil }

// SetState replaces the entity's state with v (JSON-encoded).
func (c *EntityContext) SetState(v any) error {
	s, err := marshalPayload(v)
	if err != nil {
		return fmt.Errorf("durable: state of %s: %w", c.id, err)
	}
	if s == nil {
		n := "null"
		s = &n
	}
	c.state = s
	return nil
}

// DeleteState removes the entity's state: the entity no longer exists.
func (c *EntityContext) DeleteState() { c.state = nil }

// SignalEntity sends a one-way operation to another entity once this
// operation succeeds; with SignalAt it is delivered at that time.
func (c *EntityContext) SignalEntity(target EntityID, op string, input any, opts ...SignalOption) error {
	in, err := marshalPayload(input)
	if err != nil {
		return fmt.Errorf("durable: signal %s.%s: %w", target, op, err)
	}
	at := applySignalOptions(opts).at
	c.signal = append(c.signal, entityOutbound{target: target, op: op, input: in, at: at})
	return nil
}

// EntityInput decodes the operation's input.
func EntityInput[T any](c *EntityContext) (T, error) {
	var v T
	if c.input == nil {
		return v, nil
	}
	if err := json.Unmarshal([]byte(*c.input), &v); err != nil {
		return v, fmt.Errorf("durable: input of %s.%s: %w", c.id, c.op, err)
	}
	return v, nil
}

// EntityState decodes the entity's state (the zero T when it has none).
func EntityState[T any](c *EntityContext) (T, error) {
	var v T
	if c.state == nil {
		return v, nil
	}
	if err := json.Unmarshal([]byte(*c.state), &v); err != nil {
		return v, fmt.Errorf("durable: state of %s: %w", c.id, err)
	}
	return v, nil
}

// EntityOperations dispatches operation names (case-insensitive) to
// functions over a typed state S: the class-style form of an entity.
// Each function gets the current state and the operation's raw input and
// returns the new state and a result. "delete" is built in.
func EntityOperations[S any](ops map[string]func(ctx *EntityContext, state S, input json.RawMessage) (S, any, error)) EntityFunc {
	byName := map[string]func(*EntityContext, S, json.RawMessage) (S, any, error){}
	for k, f := range ops {
		byName[strings.ToLower(k)] = f
	}
	return func(ctx *EntityContext) (any, error) {
		f, ok := byName[strings.ToLower(ctx.Operation())]
		if !ok {
			return nil, fmt.Errorf("%w: %q on entity %s", ErrUnknownOperation, ctx.Operation(), ctx.ID())
		}
		st, err := EntityState[S](ctx)
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if ctx.input != nil {
			raw = json.RawMessage(*ctx.input)
		}
		next, result, err := f(ctx, st, raw)
		if err != nil {
			return nil, err
		}
		if err := ctx.SetState(next); err != nil {
			return nil, err
		}
		return result, nil
	}
}
