package durable

import (
	"encoding/json"
	"fmt"

	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replay"
)

// entityRequestFrom builds an orchestration's request to an entity.
func entityRequestFrom(ctx *OrchestrationContext, target EntityID, op *string, input *string, signal bool) entityRequest {
	parent, exec := ctx.InstanceID(), ctx.ExecutionID()
	req := entityRequest{Op: op, Signal: signal, Input: input, ID: ctx.NewGUID(), Parent: &parent, ParentExecution: &exec}
	ctx.stampRequest(target.String(), &req)
	return req
}

func sendToEntity(ctx *OrchestrationContext, target EntityID, req entityRequest) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	s := string(b)
	ctx.rt.SendEvent(target.String(), "op", &s)
	return nil
}

// CallEntity runs an operation on an entity and returns its pending
// result; a failed operation surfaces as *TaskFailedError. Inside a
// critical section (LockEntities) only locked entities may be called.
func CallEntity[T any](ctx *OrchestrationContext, entity EntityID, operation string, input any) *Task[T] {
	in, err := marshalPayload(input)
	if err != nil {
		return failedTask[T](ctx, fmt.Errorf("durable: input of %s.%s: %w", entity, operation, err))
	}
	req := entityRequestFrom(ctx, entity, &operation, in, false)
	if err := sendToEntity(ctx, entity, req); err != nil {
		return failedTask[T](ctx, err)
	}
	return newTask[T](ctx, &entityCallSteps{name: entity.String() + "." + operation, wait: ctx.rt.WaitForEvent(req.ID)})
}

// SignalEntity sends a one-way operation to an entity.
func SignalEntity(ctx *OrchestrationContext, entity EntityID, operation string, input any) error {
	in, err := marshalPayload(input)
	if err != nil {
		return fmt.Errorf("durable: input of %s.%s: %w", entity, operation, err)
	}
	return sendToEntity(ctx, entity, entityRequestFrom(ctx, entity, &operation, in, true))
}

type entityCallSteps struct {
	name string
	wait *replay.Future
	lock bool // a lock request: the grant is a plain string, not JSON
}

func (s *entityCallSteps) futures() []*replay.Future { return []*replay.Future{s.wait} }

func (s *entityCallSteps) advance() (bool, *string, error) {
	if !s.wait.Done() {
		return false, nil, nil
	}
	raw, _, _ := s.wait.Result()
	var resp entityResponse
	if raw == nil || json.Unmarshal([]byte(*raw), &resp) != nil {
		return true, nil, fmt.Errorf("durable: response of %s does not decode", s.name)
	}
	if resp.FailureDetails != nil || resp.ExceptionType != "" {
		d := fromFailureJSON(resp.FailureDetails)
		if d == nil {
			d = &FailureDetails{ErrorType: resp.ExceptionType, ErrorMessage: resp.ExceptionType}
		}
		return true, nil, &TaskFailedError{TaskName: s.name, TaskID: -1, Details: d, Entity: true}
	}
	if s.lock {
		if resp.Result == nil || *resp.Result != lockGranted {
			return true, nil, fmt.Errorf("durable: %s: unexpected lock response %q", s.name, history.Deref(resp.Result))
		}
		return true, nil, nil
	}
	return true, resp.Result, nil
}

// LockEntities enters a critical section: it locks the entities (always in
// the same order, so two orchestrations never deadlock), and returns a
// release function to call when done (with defer). Other callers of those
// entities wait until release. Locks still held when the orchestrator
// returns, fails or panics are released then.
func LockEntities(ctx *OrchestrationContext, entities ...EntityID) (release func() error, err error) {
	if len(entities) == 0 {
		return nil, fmt.Errorf("durable: LockEntities needs at least one entity")
	}
	set := sortedLockset(entities)
	first := NewEntityID(set[0].Name, set[0].Key)
	req := entityRequestFrom(ctx, first, nil, nil, false)
	req.Lockset = set
	req.IsLockRequest = true
	if err := sendToEntity(ctx, first, req); err != nil {
		return nil, err
	}
	if _, err := newTask[string](ctx, &entityCallSteps{name: "lock " + first.String(), wait: ctx.rt.WaitForEvent(req.ID), lock: true}).Await(); err != nil {
		return nil, err
	}
	released := false
	release = func() error {
		if released {
			return nil
		}
		released = true
		rel, _ := json.Marshal(entityRelease{Parent: ctx.InstanceID(), ID: req.ID})
		s := string(rel)
		for _, r := range set {
			ctx.rt.SendEvent(NewEntityID(r.Name, r.Key).String(), "release", &s)
		}
		return nil
	}
	ctx.locks = append(ctx.locks, release)
	return release, nil
}
