package durable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Function is a typed function handle (ActivityHandle, OrchestratorHandle,
// EntityHandle) that registers itself under its name.
type Function interface {
	// Register adds the function to r under its name.
	Register(r *Registry) error
}

// Register adds typed function handles to the registry: the usual way to
// register an app's functions when they are declared with NewActivity,
// NewOrchestrator and NewEntity. It reports every failure.
func (r *Registry) Register(fns ...Function) error {
	var errs []error
	for _, f := range fns {
		if f == nil {
			errs = append(errs, fmt.Errorf("durable: Register got a nil function handle"))
			continue
		}
		if err := f.Register(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ActivityHandle is a typed activity: its name, input and output types
// travel together, so a call with the wrong input type or a misspelt name
// does not compile. Declare it once, as a package variable:
//
//	var ShipItem = durable.NewActivity("ShipItem", shipItem)
//
// then call it from orchestrators with ShipItem.Call(ctx, item) and
// register it with registry.Register(ShipItem).
type ActivityHandle[In, Out any] struct {
	name string
	fn   func(context.Context, In) (Out, error)
}

// NewActivity declares a typed activity named name. A handle declared but
// never registered is reported by the worker at start (see Worker.Run).
func NewActivity[In, Out any](name string, fn func(ctx context.Context, input In) (Out, error)) *ActivityHandle[In, Out] {
	declare(kindActivity, name)
	return &ActivityHandle[In, Out]{name: name, fn: fn}
}

// Name is the activity's function name.
func (a *ActivityHandle[In, Out]) Name() string { return a.name }

// Register adds the activity to r.
func (a *ActivityHandle[In, Out]) Register(r *Registry) error {
	if a.fn == nil {
		return r.AddActivity(a.name, nil)
	}
	return r.AddActivity(a.name, Activity(a.fn))
}

// Call schedules the activity from an orchestrator, as CallActivity does.
func (a *ActivityHandle[In, Out]) Call(ctx *OrchestrationContext, input In, opts ...CallOption) *Task[Out] {
	return CallActivity[Out](ctx, a.name, input, opts...)
}

// OrchestratorHandle is a typed orchestrator: started from clients with
// Start, called from other orchestrators as a sub-orchestration with Call.
//
//	var ProcessOrder = durable.NewOrchestrator("ProcessOrder", processOrder)
type OrchestratorHandle[In, Out any] struct {
	name string
	fn   func(*OrchestrationContext, In) (Out, error)
}

// NewOrchestrator declares a typed orchestrator named name.
func NewOrchestrator[In, Out any](name string, fn func(ctx *OrchestrationContext, input In) (Out, error)) *OrchestratorHandle[In, Out] {
	declare(kindOrchestrator, name)
	return &OrchestratorHandle[In, Out]{name: name, fn: fn}
}

// Name is the orchestrator's function name.
func (o *OrchestratorHandle[In, Out]) Name() string { return o.name }

// Register adds the orchestrator to r.
func (o *OrchestratorHandle[In, Out]) Register(r *Registry) error {
	if o.fn == nil {
		return r.AddOrchestrator(o.name, nil)
	}
	return r.AddOrchestrator(o.name, Orchestrator(o.fn))
}

// Call runs the orchestrator as a sub-orchestration of ctx's, as
// CallSubOrchestrator does.
func (o *OrchestratorHandle[In, Out]) Call(ctx *OrchestrationContext, input In, opts ...CallOption) *Task[Out] {
	return CallSubOrchestrator[Out](ctx, o.name, input, opts...)
}

// Start starts a new instance of the orchestrator through c, as
// Client.StartNew does, and returns its instance id.
func (o *OrchestratorHandle[In, Out]) Start(ctx context.Context, c *Client, input In, opts ...StartOption) (string, error) {
	return c.StartNew(ctx, o.name, input, opts...)
}

// Output decodes a finished instance's output as the orchestrator's output
// type.
func (o *OrchestratorHandle[In, Out]) Output(s *InstanceStatus) (Out, error) {
	return OutputAs[Out](s)
}

// EntityHandle is a declared entity: its name and function. Its typed
// operations are declared with NewEntityOperation.
//
//	var Inventory = durable.NewEntity("Inventory", inventory)
//	var Reserve = durable.NewEntityOperation[int, bool](Inventory, "reserve")
type EntityHandle struct {
	name string
	fn   EntityFunc
}

// NewEntity declares an entity named name.
func NewEntity(name string, fn EntityFunc) *EntityHandle {
	declare(kindEntity, name)
	return &EntityHandle{name: name, fn: fn}
}

// Name is the entity's name.
func (e *EntityHandle) Name() string { return e.name }

// ID is the id of the entity with the given key.
func (e *EntityHandle) ID(key string) EntityID { return NewEntityID(e.name, key) }

// Register adds the entity to r.
func (e *EntityHandle) Register(r *Registry) error { return r.AddEntity(e.name, e.fn) }

// EntityOperation is a typed operation of an entity.
type EntityOperation[In, Out any] struct {
	entity *EntityHandle
	op     string
}

// NewEntityOperation declares the operation op of entity e, taking In and
// returning Out.
func NewEntityOperation[In, Out any](e *EntityHandle, op string) *EntityOperation[In, Out] {
	return &EntityOperation[In, Out]{entity: e, op: op}
}

// Name is the operation's name.
func (o *EntityOperation[In, Out]) Name() string { return o.op }

// Call runs the operation on the entity with the given key from an
// orchestrator, as CallEntity does.
func (o *EntityOperation[In, Out]) Call(ctx *OrchestrationContext, key string, input In) *Task[Out] {
	return CallEntity[Out](ctx, o.entity.ID(key), o.op, input)
}

// Signal sends the operation one way from an orchestrator, as SignalEntity
// does.
func (o *EntityOperation[In, Out]) Signal(ctx *OrchestrationContext, key string, input In) error {
	return SignalEntity(ctx, o.entity.ID(key), o.op, input)
}

// SignalFrom sends the operation one way from a client, as
// Client.SignalEntity does.
func (o *EntityOperation[In, Out]) SignalFrom(ctx context.Context, c *Client, key string, input In, opts ...SignalOption) error {
	return c.SignalEntity(ctx, o.entity.ID(key), o.op, input, opts...)
}

type functionKind string

const (
	kindActivity     functionKind = "activity"
	kindOrchestrator functionKind = "orchestrator"
	kindEntity       functionKind = "entity"
)

// declared holds the names of every handle made in this process, so the
// worker can name those its registry lacks: an orchestrator calling one
// would wait for a function no worker of this app runs.
var declared = struct {
	sync.Mutex
	names map[functionKind]map[string]string // kind → lowercased name → name
}{names: map[functionKind]map[string]string{}}

func declare(kind functionKind, name string) {
	if strings.TrimSpace(name) == "" {
		return // registration reports it
	}
	declared.Lock()
	defer declared.Unlock()
	if declared.names[kind] == nil {
		declared.names[kind] = map[string]string{}
	}
	declared.names[kind][key(name)] = name
}

// Unregistered lists the functions declared with NewActivity,
// NewOrchestrator or NewEntity in this process that r does not hold, as
// "kind name", sorted.
func (r *Registry) Unregistered() []string {
	declared.Lock()
	defer declared.Unlock()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for kind, names := range declared.names {
		for k, name := range names {
			var ok bool
			switch kind {
			case kindActivity:
				_, ok = r.activities[k]
			case kindOrchestrator:
				_, ok = r.orchestrators[k]
			case kindEntity:
				_, ok = r.entities[k]
			}
			if !ok {
				out = append(out, string(kind)+" "+name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// warnUnregistered logs the declared functions the worker's registry lacks.
func warnUnregistered(log *slog.Logger, r *Registry) {
	for _, f := range r.Unregistered() {
		log.Warn("a function is declared but not registered; calls to it wait for another worker that runs it", "function", f)
	}
}
