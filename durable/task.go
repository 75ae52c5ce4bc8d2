package durable

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/godurable/functions/durable/replay"
)

// Awaitable is anything an orchestrator can wait for: every *Task[T].
// WhenAll and WhenAny take Awaitables so tasks of different result types
// can be combined.
type Awaitable interface {
	// progress advances the task's own state machine (retries, timeouts)
	// and reports whether its outcome is known.
	progress() bool
	// waitingOn lists the futures the task needs next.
	waitingOn() []*replay.Future
	context() *OrchestrationContext
}

// Task is the pending result of a durable operation: an activity or
// sub-orchestration call, a timer or an external event. Await blocks the
// orchestrator until the result is known.
//
// A task advances by itself, whether or not the code awaits it: a failed
// attempt of a call with a RetryPolicy schedules its retry timer when the
// failure arrives, and an event wait times out when its timer fires, as in
// DurableTask.Core.
type Task[T any] struct {
	ctx     *OrchestrationContext
	steps   taskSteps
	done    bool
	value   T
	err     error
	watched []*replay.Future
}

// taskSteps is the state machine behind a task.
type taskSteps interface {
	// advance returns done=true with the raw result or an error once known.
	advance() (done bool, raw *string, err error)
	futures() []*replay.Future
}

func newTask[T any](ctx *OrchestrationContext, s taskSteps) *Task[T] {
	t := &Task[T]{ctx: ctx, steps: s}
	t.watch()
	return t
}

// watch subscribes the task to the futures its current step waits on, so
// it advances as soon as one of them completes.
func (t *Task[T]) watch() {
	if t.done {
		return
	}
	for _, f := range t.steps.futures() {
		if !slices.Contains(t.watched, f) {
			t.watched = append(t.watched, f)
			f.OnDone(t.onFuture)
		}
	}
}

func (t *Task[T]) onFuture() {
	if !t.progress() {
		t.watch()
	}
}

// failedTask is a task that failed before anything was scheduled (for
// example an input that does not encode).
func failedTask[T any](ctx *OrchestrationContext, err error) *Task[T] {
	return &Task[T]{ctx: ctx, done: true, err: err}
}

func (t *Task[T]) context() *OrchestrationContext { return t.ctx }

func (t *Task[T]) waitingOn() []*replay.Future {
	if t.done {
		return nil
	}
	return t.steps.futures()
}

func (t *Task[T]) progress() bool {
	if t.done {
		return true
	}
	done, raw, err := t.steps.advance()
	if !done {
		return false
	}
	t.done = true
	t.watched = nil
	if err != nil {
		t.err = err
		return true
	}
	if raw != nil {
		if derr := json.Unmarshal([]byte(*raw), &t.value); derr != nil {
			t.err = fmt.Errorf("durable: result %.100q does not decode into %T: %w", *raw, t.value, derr)
		}
	}
	return true
}

// IsDone reports whether the task's outcome is known, without blocking.
func (t *Task[T]) IsDone() bool { return t.progress() }

// Await blocks the orchestrator until the task completes and returns its
// result, or its error: a *TaskFailedError for a failed call, ErrTimeout
// for an event wait that timed out, ErrTaskCanceled for an Await that runs
// while the orchestrator is being unloaded (in a deferred call).
func (t *Task[T]) Await() (T, error) {
	if !awaitUntil(t.ctx, []Awaitable{t}, func() bool { return t.done }) && !t.done {
		var zero T
		return zero, fmt.Errorf("durable: await during unload: %w", ErrTaskCanceled)
	}
	return t.value, t.err
}

// awaitUntil blocks until cond holds (or no task can change any more). It
// returns false, without blocking, when the orchestrator is being unloaded.
func awaitUntil(ctx *OrchestrationContext, tasks []Awaitable, cond func() bool) bool {
	return ctx.rt.AwaitUntil(func() bool {
		for _, t := range tasks {
			t.progress()
		}
		if cond() {
			return true
		}
		for _, t := range tasks {
			if len(t.waitingOn()) > 0 {
				return false
			}
		}
		return true // nothing left that could change the outcome
	})
}

// WhenAll waits for every task to complete and returns the first error
// among them in argument order (nil if all succeeded). Read each task's
// value with its own Await, which then returns at once.
func WhenAll(ctx *OrchestrationContext, tasks ...Awaitable) error {
	ok := awaitUntil(ctx, tasks, func() bool {
		for _, t := range tasks {
			if !t.progress() {
				return false
			}
		}
		return true
	})
	for _, t := range tasks {
		if !ok && !t.progress() {
			return fmt.Errorf("durable: WhenAll during unload: %w", ErrTaskCanceled)
		}
	}
	for _, t := range tasks {
		if e, ok := t.(interface{ failure() error }); ok && e.failure() != nil {
			return e.failure()
		}
	}
	return nil
}

// WhenAllOf waits for tasks of one result type and returns their results in
// order, or the first error.
func WhenAllOf[T any](ctx *OrchestrationContext, tasks ...*Task[T]) ([]T, error) {
	as := make([]Awaitable, len(tasks))
	for i, t := range tasks {
		as[i] = t
	}
	if err := WhenAll(ctx, as...); err != nil {
		return nil, err
	}
	out := make([]T, len(tasks))
	for i, t := range tasks {
		out[i] = t.value
	}
	return out, nil
}

// WhenAny waits until at least one task completes and returns the index of
// the first completed one in argument order. The other tasks keep running
// and can still be awaited.
func WhenAny(ctx *OrchestrationContext, tasks ...Awaitable) (int, error) {
	if len(tasks) == 0 {
		return -1, fmt.Errorf("durable: WhenAny needs at least one task")
	}
	winner := -1
	ok := awaitUntil(ctx, tasks, func() bool {
		for i, t := range tasks {
			if t.progress() {
				winner = i
				return true
			}
		}
		return false
	})
	if !ok && winner < 0 {
		return -1, fmt.Errorf("durable: WhenAny during unload: %w", ErrTaskCanceled)
	}
	return winner, nil
}

func (t *Task[T]) failure() error { return t.err }
