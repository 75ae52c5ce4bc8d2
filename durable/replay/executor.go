package replay

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/godurable/functions/durable/history"
)

// ErrNonDeterministic is wrapped by the error that describes a replay
// mismatch between history and the orchestrator's code.
var ErrNonDeterministic = errors.New("non-deterministic orchestration")

// NonDeterministicErrorType is the ErrorType recorded for replay mismatches,
// the name DurableTask.Core uses.
const NonDeterministicErrorType = "NonDeterministicOrchestrationException"

// Orchestrator is an orchestrator function in its raw form: it returns its
// output as JSON text (nil for null) or an error that fails the instance.
type Orchestrator func(c *Context) (output *string, err error)

// Outcome is what an episode produced.
type Outcome struct {
	// Actions are the newly scheduled actions, by sequence number.
	Actions []*Action
	// Done is set when the execution ended; Status, Output and Failure
	// then describe how.
	Done    bool
	Status  history.OrchestrationStatus // Completed, Failed, Terminated or ContinuedAsNew
	Output  *string
	Failure *history.FailureDetails
	// CompletionID is the EventID of the ExecutionCompleted event.
	CompletionID int
	// ContinueAsNew: Output is the new execution's input; CarryOver the
	// unconsumed external events it keeps.
	CarryOver []*history.Event
	// CustomStatus is the custom status after the episode.
	CustomStatus *string
	// Err explains a Failed outcome caused by the engine rather than the
	// code (non-determinism); it wraps ErrNonDeterministic.
	Err error
}

type continueAsNew struct {
	input          *string
	preserveEvents bool
}

// Executor replays one execution of an orchestration. It keeps the
// orchestrator's coroutine between calls to Apply, so a cached executor can
// take an instance's next episode without replaying history again. Close
// releases the coroutine.
type Executor struct {
	fn  Orchestrator
	co  *coroutine
	ctx *Context

	started   *history.Event
	now       time.Time
	replaying bool
	nextID    int

	pending map[int]*Action // scheduled, not yet matched with history
	open    map[int]*Future // awaiting a completion, by sequence number

	waiters  map[string][]*Future // event waits by lowercased name, oldest first
	buffered []*history.Event     // raised events nobody waited for, oldest first

	suspended     bool
	heldBack      []*history.Event // events received while suspended
	blockedOn     []*Future
	customStatus  *string
	continueAsNew *continueAsNew

	done    bool
	outcome Outcome
}

// New returns an executor for fn.
func New(fn Orchestrator) *Executor {
	x := &Executor{
		fn:      fn,
		co:      newCoroutine(),
		pending: map[int]*Action{},
		open:    map[int]*Future{},
		waiters: map[string][]*Future{},
	}
	x.ctx = &Context{x: x}
	return x
}

// Close unwinds the orchestrator's coroutine if it is still blocked; its
// deferred calls run.
func (x *Executor) Close() { x.co.unwind() }

// Apply replays past (events already in history) and then runs new (the
// episode's inbound events), returning the episode's outcome. Events are
// applied in order. Apply may be called again with later episodes' events
// (past empty) as long as the previous outcome was committed.
func (x *Executor) Apply(past, new []*history.Event) *Outcome {
	x.replaying = true
	for _, e := range past {
		if x.done {
			break
		}
		x.process(e)
	}
	x.replaying = false
	for i, e := range new {
		if x.done {
			x.carryRest(new[i:])
			break
		}
		x.process(e)
	}
	return x.collect()
}

// carryRest adds the external events of an episode that were not reached
// because the execution continued as new (preserving events) to the
// events the next execution receives.
func (x *Executor) carryRest(rest []*history.Event) {
	if x.outcome.Status != history.StatusContinuedAsNew || x.continueAsNew == nil || !x.continueAsNew.preserveEvents {
		return
	}
	for _, e := range rest {
		if e.Type == history.EventRaised {
			x.outcome.CarryOver = append(x.outcome.CarryOver, e)
		}
	}
}

// collect gathers the new actions and the completion.
func (x *Executor) collect() *Outcome {
	out := x.outcome
	out.CustomStatus = x.customStatus
	if !(x.done && out.Err != nil) { // a failed replay emits no actions
		for _, a := range x.pending {
			out.Actions = append(out.Actions, a)
		}
		sort.Slice(out.Actions, func(i, j int) bool { return out.Actions[i].ID < out.Actions[j].ID })
	}
	x.pending = map[int]*Action{} // what the checkpoint writes is history from now on
	if x.done {
		x.co.unwind()
	}
	return &out
}

func (x *Executor) process(e *history.Event) {
	if x.suspended && e.Type != history.ExecutionResumed && e.Type != history.ExecutionTerminated &&
		e.Type != history.OrchestratorStarted && e.Type != history.OrchestratorCompleted &&
		e.Type != history.ExecutionSuspended && !isScheduling(e.Type) {
		x.heldBack = append(x.heldBack, e)
		return
	}
	switch e.Type {
	case history.OrchestratorStarted:
		x.now = e.Timestamp.UTC()
	case history.ExecutionStarted:
		x.start(e)
	case history.TaskScheduled:
		x.match(e, ScheduleTask)
	case history.TimerCreated:
		x.match(e, CreateTimer)
	case history.SubOrchestrationInstanceCreated:
		x.match(e, CreateSubOrchestration)
	case history.EventSent:
		x.match(e, SendEvent)
	case history.TaskCompleted, history.SubOrchestrationInstanceCompleted:
		x.complete(e.TaskScheduledID, e.Result, nil)
	case history.TaskFailed, history.SubOrchestrationInstanceFailed:
		x.complete(e.TaskScheduledID, nil, failureOf(e))
	case history.TimerFired:
		x.complete(e.TimerID, nil, nil)
	case history.EventRaised:
		x.raise(e)
	case history.ExecutionTerminated:
		x.finish(history.StatusTerminated, e.Input, nil, nil)
	case history.ExecutionSuspended:
		x.suspended = true
	case history.ExecutionResumed:
		x.suspended = false
		held := x.heldBack
		x.heldBack = nil
		for _, h := range held {
			if x.done {
				break
			}
			x.process(h)
		}
	case history.ExecutionCompleted, history.ContinueAsNew:
		// A finished execution in history: nothing further runs.
		x.done = true
		x.outcome = Outcome{Done: true, Status: e.OrchestrationStatus, Output: e.Result, Failure: e.Failure, CompletionID: e.EventID}
	}
}

func isScheduling(t history.EventType) bool {
	switch t {
	case history.TaskScheduled, history.TimerCreated, history.SubOrchestrationInstanceCreated, history.EventSent:
		return true
	}
	return false
}

func failureOf(e *history.Event) *history.FailureDetails {
	if e.Failure != nil {
		return e.Failure
	}
	// Older writers leave FailureDetails out and put the message in Reason.
	return &history.FailureDetails{ErrorType: "TaskFailedException", ErrorMessage: history.Deref(e.Reason), StackTrace: e.Details}
}

func (x *Executor) start(e *history.Event) {
	if x.started != nil {
		return // a duplicate start message; the first one wins
	}
	if e.Instance == nil {
		e.Instance = &history.OrchestrationInstance{}
	}
	x.started = e
	x.co.start(x.run)
	x.afterStep()
}

// run is the coroutine body.
func (x *Executor) run() {
	out, err := x.fn(x.ctx)
	if x.done {
		return
	}
	switch {
	case err != nil:
		x.finish(history.StatusFailed, nil, FailureFromError(err), nil)
	case x.continueAsNew != nil:
		x.finish(history.StatusContinuedAsNew, x.continueAsNew.input, nil, nil)
		if x.continueAsNew.preserveEvents {
			x.outcome.CarryOver = append([]*history.Event(nil), x.buffered...)
		}
	default:
		x.finish(history.StatusCompleted, out, nil, nil)
	}
}

// afterStep handles a coroutine that stopped by panicking.
func (x *Executor) afterStep() {
	if x.co.done && x.co.panicked != nil && !x.done {
		msg := fmt.Sprint(x.co.panicked)
		stack := x.co.panicStack
		x.finish(history.StatusFailed, nil, &history.FailureDetails{ErrorType: "panic", ErrorMessage: msg, StackTrace: &stack}, nil)
	}
}

func (x *Executor) finish(status history.OrchestrationStatus, output *string, failure *history.FailureDetails, err error) {
	if x.done {
		return
	}
	x.done = true
	x.outcome = Outcome{Done: true, Status: status, Output: output, Failure: failure, CompletionID: x.nextID, Err: err}
	x.nextID++
}

// schedule is called by the coroutine for every new action.
func (x *Executor) schedule(a *Action) *Future {
	a.ID = x.nextID
	x.nextID++
	x.pending[a.ID] = a
	f := &Future{ID: a.ID, Kind: a.Kind, Name: a.Name}
	if a.Kind == SendEvent {
		f.done = true // nothing comes back
	} else {
		x.open[a.ID] = f
	}
	return f
}

// match checks a scheduling event from history against the action the code
// took with the same sequence number.
func (x *Executor) match(e *history.Event, kind ActionKind) {
	a, ok := x.pending[e.EventID]
	if !ok {
		x.nonDeterministic(fmt.Sprintf(
			"history has %s (EventId %d, name %q), but the orchestrator took no action with sequence number %d during replay",
			e.Type, e.EventID, e.Name, e.EventID))
		return
	}
	if a.Kind != kind {
		x.nonDeterministic(fmt.Sprintf(
			"history has %s (EventId %d, name %q), but the orchestrator's action with sequence number %d is a %s of %q",
			e.Type, e.EventID, e.Name, e.EventID, a.Kind, a.Name))
		return
	}
	if kind != CreateTimer && !strings.EqualFold(a.Name, e.Name) {
		x.nonDeterministic(fmt.Sprintf(
			"history has %s (EventId %d) for %q, but the orchestrator's %s with sequence number %d is for %q",
			e.Type, e.EventID, e.Name, a.Kind, e.EventID, a.Name))
		return
	}
	delete(x.pending, e.EventID)
}

func (x *Executor) nonDeterministic(msg string) {
	err := fmt.Errorf("%w: %s", ErrNonDeterministic, msg)
	x.finish(history.StatusFailed, nil, &history.FailureDetails{
		ErrorType:      NonDeterministicErrorType,
		ErrorMessage:   "Non-deterministic workflow detected: " + msg,
		IsNonRetriable: true,
	}, err)
}

// complete resolves the future of action id and lets the orchestrator run.
// A completion for an unknown or already completed action is ignored, as a
// redelivered message may carry one.
func (x *Executor) complete(id int, result *string, failure *history.FailureDetails) {
	f, ok := x.open[id]
	if !ok {
		return
	}
	delete(x.open, id)
	f.resolve(result, failure)
	x.wake()
}

func (x *Executor) waitForEvent(name string) *Future {
	f := &Future{ID: -1, Name: name}
	key := strings.ToLower(name)
	for i, e := range x.buffered {
		if strings.EqualFold(e.Name, name) {
			x.buffered = append(x.buffered[:i:i], x.buffered[i+1:]...)
			f.resolve(e.Input, nil)
			return f
		}
	}
	x.waiters[key] = append(x.waiters[key], f)
	return f
}

func (x *Executor) raise(e *history.Event) {
	key := strings.ToLower(e.Name)
	ws := x.waiters[key]
	if len(ws) == 0 {
		x.buffered = append(x.buffered, e)
		return
	}
	f := ws[len(ws)-1] // newest waiter first, as Durable Functions does
	x.waiters[key] = ws[:len(ws)-1]
	f.resolve(e.Input, nil)
	x.wake()
}

// awaitAny runs on the coroutine: it blocks until one of fs is done.
func (x *Executor) awaitAny(fs []*Future) {
	for !anyDone(fs) {
		x.blockedOn = fs
		x.co.block()
	}
	x.blockedOn = nil
}

func anyDone(fs []*Future) bool {
	for _, f := range fs {
		if f.done {
			return true
		}
	}
	return len(fs) == 0
}

// wake resumes the coroutine if what it waits for is done.
func (x *Executor) wake() {
	if x.done || x.co.done || x.blockedOn == nil || !anyDone(x.blockedOn) {
		return
	}
	x.co.step()
	x.afterStep()
}

// FailureFromError converts an orchestrator's error into failure details.
// Errors that carry their own details (a method FailureDetails()
// *history.FailureDetails) keep them; others get their Go type as ErrorType.
func FailureFromError(err error) *history.FailureDetails {
	var d interface {
		FailureDetails() *history.FailureDetails
	}
	if errors.As(err, &d) {
		if fd := d.FailureDetails(); fd != nil {
			return fd
		}
	}
	var t interface{ ErrorType() string }
	typ := ""
	if errors.As(err, &t) {
		typ = t.ErrorType()
	} else {
		typ = goErrorType(err)
	}
	return &history.FailureDetails{ErrorType: typ, ErrorMessage: err.Error()}
}

func goErrorType(err error) string {
	t := fmt.Sprintf("%T", err)
	switch t {
	case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
		return "error"
	}
	return t
}
