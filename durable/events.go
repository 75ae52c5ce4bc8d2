package durable

import (
	"fmt"
	"time"

	"github.com/godurable/functions/durable/replay"
)

// WaitOption configures WaitForExternalEvent.
type WaitOption func(*waitOptions)

type waitOptions struct {
	timeout    time.Duration
	hasTimeout bool
}

// WithTimeout makes the wait fail with ErrTimeout if no event arrives
// within d (measured by a durable timer). With d <= 0 the wait takes an
// event that already arrived and otherwise times out at once.
func WithTimeout(d time.Duration) WaitOption {
	return func(o *waitOptions) { o.timeout, o.hasTimeout = d, true }
}

// WaitForExternalEvent waits for the next event of the given name raised on
// this instance (by a client, the HTTP API or another orchestration) and
// decodes its data into T. Names are case-insensitive. Several waiters for
// one name are served newest first; events that arrive before anyone waits
// are kept, oldest first. A wait with a timeout times out when its timer
// fires, whether or not the code is awaiting it then: an event that comes
// later is kept for the next waiter.
func WaitForExternalEvent[T any](ctx *OrchestrationContext, name string, opts ...WaitOption) *Task[T] {
	var o waitOptions
	for _, opt := range opts {
		opt(&o)
	}
	s := &eventSteps{ctx: ctx, name: name, wait: ctx.rt.WaitForEvent(name), timeout: o.timeout}
	if o.hasTimeout && !s.wait.Done() {
		if o.timeout <= 0 {
			s.expired = true
		} else {
			s.timer = CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(o.timeout))
		}
	}
	return newTask[T](ctx, s)
}

type eventSteps struct {
	ctx     *OrchestrationContext
	name    string
	wait    *replay.Future
	timer   *Task[struct{}]
	timeout time.Duration
	expired bool // a zero or negative timeout with no event at hand
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
	if s.expired || (s.timer != nil && s.timer.progress()) {
		s.ctx.rt.CancelWait(s.wait)
		return true, nil, fmt.Errorf("durable: external event %q did not arrive within %v: %w", s.name, s.timeout, ErrTimeout)
	}
	return false, nil, nil
}
