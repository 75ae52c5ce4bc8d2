package durable

import (
	"fmt"
	"time"

	"github.com/godurable/functions/durable/replay"
)

// WaitOption configures WaitForExternalEvent.
type WaitOption func(*time.Duration)

// WithTimeout makes the wait fail with ErrTimeout if no event arrives
// within d (measured by a durable timer).
func WithTimeout(d time.Duration) WaitOption { return func(t *time.Duration) { *t = d } }

// WaitForExternalEvent waits for the next event of the given name raised on
// this instance (by a client, the HTTP API or another orchestration) and
// decodes its data into T. Names are case-insensitive. Several waiters for
// one name are served newest first; events that arrive before anyone waits
// are kept, oldest first.
func WaitForExternalEvent[T any](ctx *OrchestrationContext, name string, opts ...WaitOption) *Task[T] {
	var timeout time.Duration
	for _, o := range opts {
		o(&timeout)
	}
	s := &eventSteps{ctx: ctx, name: name, wait: ctx.rt.WaitForEvent(name)}
	if timeout > 0 && !s.wait.Done() {
		s.timer = CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(timeout))
		s.timeout = timeout
	}
	return newTask[T](ctx, s)
}

type eventSteps struct {
	ctx     *OrchestrationContext
	name    string
	wait    *replay.Future
	timer   *Task[struct{}]
	timeout time.Duration
}

func (s *eventSteps) futures() []*replay.Future {
	fs := []*replay.Future{s.wait}
	if s.timer != nil {
		fs = append(fs, s.timer.waitingOn()...)
	}
	return fs
}

func (s *eventSteps) advance() (bool, *string, error) {
	if s.wait.Done() {
		r, _, _ := s.wait.Result()
		return true, r, nil
	}
	if s.timer != nil && s.timer.progress() {
		s.ctx.rt.CancelWait(s.wait)
		return true, nil, fmt.Errorf("durable: external event %q did not arrive within %v: %w", s.name, s.timeout, ErrTimeout)
	}
	return false, nil, nil
}
