package durable

import (
	"fmt"
	"strings"
	"time"

	"github.com/godurable/functions/durable/replay"
)

// CallOption configures CallActivity and CallSubOrchestrator.
type CallOption func(*callOptions)

type callOptions struct {
	retry      *RetryPolicy
	instanceID string
	version    string
}

// WithRetry retries failed attempts according to p.
func WithRetry(p RetryPolicy) CallOption { return func(o *callOptions) { o.retry = &p } }

// WithChildInstanceID sets a sub-orchestration's instance id (default, as
// in Durable Task: "{parent execution id}:{sequence number}").
func WithChildInstanceID(id string) CallOption { return func(o *callOptions) { o.instanceID = id } }

// CallActivity schedules the named activity with input and returns its
// pending result. The input travels as a one-element JSON array, as Durable
// Functions sends activity inputs.
func CallActivity[T any](ctx *OrchestrationContext, name string, input any, opts ...CallOption) *Task[T] {
	o := applyCallOptions(opts)
	in, err := marshalPayload([]any{input})
	if err != nil {
		return failedTask[T](ctx, fmt.Errorf("durable: input of activity %q: %w", name, err))
	}
	start := func() *replay.Future { return ctx.rt.ScheduleTask(name, o.version, in) }
	return newCallTask[T](ctx, name, o, start)
}

// CallSubOrchestrator starts the named orchestrator as a child of this one
// and returns its pending output.
func CallSubOrchestrator[T any](ctx *OrchestrationContext, name string, input any, opts ...CallOption) *Task[T] {
	o := applyCallOptions(opts)
	if err := ctx.checkSubOrchestration(name, o.instanceID); err != nil {
		return failedTask[T](ctx, err)
	}
	in, err := marshalPayload(input)
	if err != nil {
		return failedTask[T](ctx, fmt.Errorf("durable: input of sub-orchestration %q: %w", name, err))
	}
	start := func() *replay.Future {
		id := o.instanceID
		if id == "" {
			id = fmt.Sprintf("%s:%d", ctx.ExecutionID(), ctx.rt.NextSequenceNumber())
		}
		return ctx.rt.CallSubOrchestrator(name, o.version, id, in)
	}
	return newCallTask[T](ctx, name, o, start)
}

// checkSubOrchestration refuses, as Durable Functions does, a child
// instance id equal to this instance's or its parent's (the child's start
// would be dropped and the call never complete), an id starting with '@'
// (reserved for entities), and a call inside a critical section.
func (c *OrchestrationContext) checkSubOrchestration(name, id string) error {
	switch {
	case id != "" && (strings.EqualFold(id, c.InstanceID()) || strings.EqualFold(id, c.ParentInstanceID())):
		return fmt.Errorf("durable: sub-orchestration %q: %w: the instance id %q is this orchestration's or its parent's; a sub-orchestration needs an id of its own", name, ErrInvalidInput, id)
	case strings.HasPrefix(id, "@"):
		return fmt.Errorf("durable: sub-orchestration %q: %w: the instance id %q starts with '@', which is reserved for entities", name, ErrInvalidInput, id)
	case c.lockSet != nil:
		return fmt.Errorf("durable: sub-orchestration %q: %w: cannot call a sub-orchestrator while holding entity locks", name, ErrLockingRulesViolation)
	}
	return nil
}

func applyCallOptions(opts []CallOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

func newCallTask[T any](ctx *OrchestrationContext, name string, o callOptions, start func() *replay.Future) *Task[T] {
	if o.retry != nil {
		if err := o.retry.validate(); err != nil {
			return failedTask[T](ctx, fmt.Errorf("durable: call %q: %w", name, err))
		}
	}
	s := &callSteps{ctx: ctx, name: name, retry: o.retry, start: start}
	s.attempt = start()
	s.attempts = 1
	s.firstAt = ctx.CurrentUTCDateTime()
	return newTask[T](ctx, s)
}

// callSteps runs one call, with retries: attempt → (failure → timer →
// attempt)* until success, a non-retried failure or the policy's limits.
type callSteps struct {
	ctx      *OrchestrationContext
	name     string
	retry    *RetryPolicy
	start    func() *replay.Future
	attempt  *replay.Future
	timer    *Task[struct{}]
	attempts int
	firstAt  time.Time
}

func (s *callSteps) futures() []*replay.Future {
	if s.timer != nil {
		return s.timer.waitingOn()
	}
	return []*replay.Future{s.attempt}
}

func (s *callSteps) advance() (bool, *string, error) {
	if s.timer != nil {
		if !s.timer.progress() {
			return false, nil, nil
		}
		s.timer = nil
		s.attempt = s.start()
		s.attempts++
	}
	if !s.attempt.Done() {
		return false, nil, nil
	}
	result, failure, _ := s.attempt.Result()
	if failure == nil {
		return true, result, nil
	}
	err := &TaskFailedError{TaskName: s.name, TaskID: s.attempt.ID, Details: failure, SubOrchestration: s.attempt.Kind == replay.CreateSubOrchestration}
	if !s.shouldRetry(err) {
		return true, nil, err
	}
	fireAt := s.ctx.CurrentUTCDateTime().Add(s.retry.delay(s.attempts))
	s.timer = CreateTimer(s.ctx, fireAt)
	return s.advance()
}

func (s *callSteps) shouldRetry(err *TaskFailedError) bool {
	p := s.retry
	if p == nil || s.attempts >= p.MaxAttempts || err.Details.IsNonRetriable {
		return false
	}
	// As Durable Task: no retry once the retry timeout has passed since the
	// first attempt (a running attempt is never cut short).
	if p.RetryTimeout > 0 && !s.ctx.CurrentUTCDateTime().Before(s.firstAt.Add(p.RetryTimeout)) {
		return false
	}
	return p.Handle == nil || p.Handle(err)
}
