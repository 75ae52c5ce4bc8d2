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
	if ctx.lockSet != nil && !ctx.holdsLock(entity) {
		return failedTask[T](ctx, fmt.Errorf("durable: call %s.%s: %w: while holding locks, only locked entities can be called", entity, operation, ErrLockingRulesViolation))
	}
	if !ctx.rt.Owned("called entity " + entity.String()) {
		return failedTask[T](ctx, fmt.Errorf("durable: call %s.%s: %w", entity, operation, errMultithreaded))
	}
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
	if ctx.holdsLock(entity) {
		return fmt.Errorf("durable: signal %s.%s: %w: while holding locks, locked entities cannot be signaled", entity, operation, ErrLockingRulesViolation)
	}
	if !ctx.rt.Owned("signaled entity " + entity.String()) {
		return fmt.Errorf("durable: signal %s.%s: %w", entity, operation, errMultithreaded)
	}
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
// returns, fails, panics, is terminated or fails on replay are released
// then.
//
// Inside a critical section, as in Durable Functions, only the locked
// entities may be called, they may not be signaled, no further locks may
// be taken and no sub-orchestrator called: such calls fail with
// ErrLockingRulesViolation.
func LockEntities(ctx *OrchestrationContext, entities ...EntityID) (release func() error, err error) {
	if len(entities) == 0 {
		return nil, fmt.Errorf("durable: LockEntities needs at least one entity")
	}
	if ctx.lockSet != nil {
		return nil, fmt.Errorf("durable: LockEntities: %w: cannot acquire more locks when already holding some", ErrLockingRulesViolation)
	}
	if !ctx.rt.Owned("locked entities") {
		return nil, fmt.Errorf("durable: LockEntities: %w", errMultithreaded)
	}
	set := sortedLockset(entities)
	first := NewEntityID(set[0].Name, set[0].Key)
	req := entityRequestFrom(ctx, first, nil, nil, false)
	req.Lockset = set
	req.IsLockRequest = true
	if err := sendToEntity(ctx, first, req); err != nil {
		return nil, err
	}
	released := false
	release = func() error {
		if released {
			return nil
		}
		released = true
		ctx.lockSet = nil
		rel, _ := json.Marshal(entityRelease{Parent: ctx.InstanceID(), ID: req.ID})
		s := string(rel)
		for _, r := range set {
			ctx.rt.SendEvent(NewEntityID(r.Name, r.Key).String(), "release", &s)
		}
		return nil
	}
	if _, err := newTask[string](ctx, &entityCallSteps{name: "lock " + first.String(), wait: ctx.rt.WaitForEvent(req.ID), lock: true}).Await(); err != nil {
		return nil, err
	}
	// Held locks are released when the orchestrator returns (adapt) and
	// when the execution is terminated or fails on replay (OnEnd).
	ctx.locks = append(ctx.locks, release)
	ctx.rt.OnEnd(func() { _ = release() })
	ctx.lockSet = make([]EntityID, len(set))
	for i, r := range set {
		ctx.lockSet[i] = NewEntityID(r.Name, r.Key)
	}
	return release, nil
}

// holdsLock reports whether the orchestration holds entity's lock.
func (c *OrchestrationContext) holdsLock(entity EntityID) bool {
	for _, e := range c.lockSet {
		if e.String() == entity.String() {
			return true
		}
	}
	return false
}
