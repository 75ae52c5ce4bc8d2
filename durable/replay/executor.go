package replay

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/godurable/functions/durable/history"
)

// Errors that explain a Failed outcome caused by the engine rather than by
// the orchestrator's own error or panic; Outcome.Err wraps one of them.
var (
	// ErrNonDeterministic: the code did not replay its history the same way.
	ErrNonDeterministic = errors.New("non-deterministic orchestration")
	// ErrMultithreaded: the orchestration context was used from a goroutine
	// other than the orchestrator's own.
	ErrMultithreaded = errors.New("multithreaded execution in an orchestrator")
	// ErrBlocked: a step of the orchestrator's code ran longer than the step
	// limit without returning or awaiting a durable task.
	ErrBlocked = errors.New("orchestrator blocked")
	// ErrGoexit: the orchestrator's goroutine ended through runtime.Goexit.
	ErrGoexit = errors.New("orchestrator goroutine exited")
)

// The ErrorType recorded in the failure details of each engine failure.
const (
	// NonDeterministicErrorType is the name DurableTask.Core uses.
	NonDeterministicErrorType = "NonDeterministicOrchestrationException"
	MultithreadedErrorType    = "MultithreadedExecution"
	BlockedErrorType          = "OrchestratorBlocked"
	GoexitErrorType           = "OrchestratorGoexit"
	// PanicErrorType marks a recovered panic; the stack is the failure's
	// StackTrace.
	PanicErrorType = "panic"
)

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
	// external events it keeps.
	CarryOver []*history.Event
	// CustomStatus is the custom status after the episode.
	CustomStatus *string
	// Unawaited names the external events the execution received and never
	// waited for, when it ended (not by continue-as-new) in this episode:
	// they are discarded with it, as in Durable Functions.
	Unawaited []string
	// Err explains a Failed outcome caused by the engine rather than the
	// code; it wraps ErrNonDeterministic, ErrMultithreaded, ErrBlocked or
	// ErrGoexit.
	Err error
}

type continueAsNew struct {
	input          *string
	preserveEvents bool
}

// Option configures an Executor.
type Option func(*Executor)

// WithStepLimit bounds how long one step of the orchestrator's code (from
// a resume to its next await or return) may run; a step that takes longer
// fails the instance with ErrBlocked instead of holding the caller
// forever. 0 means no limit.
func WithStepLimit(d time.Duration) Option { return func(x *Executor) { x.stepLimit = d } }

// Executor replays one execution of an orchestration. It keeps the
// orchestrator's coroutine between calls to Apply, so a cached executor can
// take an instance's next episode without replaying history again. Close
// releases the coroutine.
type Executor struct {
	fn  Orchestrator
	co  *coroutine
	ctx *Context

	stepLimit time.Duration
	misuse    *misuseDetector
	execGID   int64 // the goroutine running Apply or Close
	// mu guards owner, and every change the context makes to the
	// executor: once the executor takes control back from a coroutine it
	// abandoned, that coroutine can change nothing.
	mu    sync.Mutex
	owner int64 // the goroutine allowed to use the context now

	started   *history.Event
	now       time.Time
	replaying bool
	unloading bool // the coroutine is being unwound
	nextID    int
	maxPastID int // the highest EventID in the history being replayed

	pending map[int]*Action // scheduled, not yet matched with history
	held    map[int]*Action // scheduled before a suspension, sent on resume
	open    map[int]*Future // awaiting a completion, by sequence number

	waiters  []*Future        // event waits, oldest first
	buffered []*history.Event // raised events nobody waited for, oldest first
	carry    []*history.Event // events raised after ContinueAsNew was called

	suspended     bool
	heldBack      []*history.Event // events received while suspended
	blockedOn     func() bool
	customStatus  *string
	continueAsNew *continueAsNew
	finalizers    []func()
	// keepFrom: after an engine failure only actions with at least this
	// sequence number (those of the finalizers) are sent; -1 keeps all.
	keepFrom int

	done        bool
	historyDone bool // the execution's completion is already in history
	outcome     Outcome
}

// New returns an executor for fn.
func New(fn Orchestrator, opts ...Option) *Executor {
	x := &Executor{
		fn:        fn,
		co:        newCoroutine(),
		misuse:    newMisuseDetector(),
		pending:   map[int]*Action{},
		held:      map[int]*Action{},
		open:      map[int]*Future{},
		maxPastID: -1,
		keepFrom:  -1,
	}
	for _, o := range opts {
		o(x)
	}
	x.ctx = &Context{x: x}
	return x
}

// Close unwinds the orchestrator's coroutine if it is still blocked; its
// deferred calls run, with the replay-safe logger silent and every Await
// returning at once. Close never blocks longer than the step limit.
func (x *Executor) Close() {
	x.execGID = curGID()
	x.setOwner(x.execGID)
	x.unwind()
}

// Apply replays past (events already in history) and then runs new (the
// episode's inbound events), returning the episode's outcome. Events are
// applied in order; every event is applied, also after the execution ended
// (a later scheduling event in history must still match, and external
// events after a continue-as-new go to the next execution). Apply may be
// called again with later episodes' events (past empty) as long as the
// previous outcome was committed.
func (x *Executor) Apply(past, new []*history.Event) *Outcome {
	x.execGID = curGID()
	x.setOwner(x.execGID)
	for _, e := range past {
		if isScheduling(e.Type) && e.EventID > x.maxPastID {
			x.maxPastID = e.EventID
		}
	}
	x.replaying = true
	for _, e := range past {
		x.process(e)
	}
	x.replaying = false
	for _, e := range new {
		x.process(e)
	}
	if what := x.misuse.detected(); what != "" && !x.done {
		x.failMisuse(what)
	}
	return x.collect()
}

// collect gathers the new actions and the completion.
func (x *Executor) collect() *Outcome {
	out := x.outcome
	out.CustomStatus = x.customStatus
	if out.Done && !x.historyDone && out.Status != history.StatusContinuedAsNew {
		for _, e := range x.buffered {
			out.Unawaited = append(out.Unawaited, e.Name)
		}
	}
	for _, a := range x.pending {
		if x.keepFrom < 0 || a.ID >= x.keepFrom {
			out.Actions = append(out.Actions, a)
		}
	}
	sort.Slice(out.Actions, func(i, j int) bool { return out.Actions[i].ID < out.Actions[j].ID })
	x.pending = map[int]*Action{} // what the checkpoint writes is history from now on
	if x.done {
		x.unwind()
	}
	return &out
}

// unwind ends a blocked coroutine through runtime.Goexit; its deferred
// calls run while the executor reports IsReplaying and Await returns at
// once.
func (x *Executor) unwind() {
	if !x.co.started || x.co.abandoned || x.co.done {
		return
	}
	x.unloading = true
	x.setOwner(x.co.gid.Load())
	x.co.step(false, x.stepLimit, nil)
	x.setOwner(x.execGID)
}

func (x *Executor) process(e *history.Event) {
	if x.done {
		x.processAfterDone(e)
		return
	}
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
	case history.TaskScheduled, history.TimerCreated, history.SubOrchestrationInstanceCreated, history.EventSent:
		x.match(e)
	case history.TaskCompleted, history.SubOrchestrationInstanceCompleted:
		x.complete(e.TaskScheduledID, e.Result, nil)
	case history.TaskFailed, history.SubOrchestrationInstanceFailed:
		x.complete(e.TaskScheduledID, nil, failureOfEvent(e))
	case history.TimerFired:
		x.complete(e.TimerID, nil, nil)
	case history.EventRaised:
		x.raise(e)
	case history.ExecutionTerminated:
		x.runFinalizers()
		x.finish(history.StatusTerminated, e.Input, nil, nil)
	case history.ExecutionSuspended:
		x.suspended = true
		// As DurableTask.Core: actions taken before the suspension are
		// held back until the instance resumes.
		for id, a := range x.pending {
			x.held[id] = a
		}
		x.pending = map[int]*Action{}
	case history.ExecutionResumed:
		x.suspended = false
		for id, a := range x.held {
			x.pending[id] = a
		}
		x.held = map[int]*Action{}
		held := x.heldBack
		x.heldBack = nil
		for _, h := range held {
			x.process(h)
		}
	case history.ExecutionCompleted, history.ContinueAsNew:
		// A finished execution in history: nothing further runs.
		x.done, x.historyDone = true, true
		x.outcome = Outcome{Done: true, Status: e.OrchestrationStatus, Output: e.Result, Failure: e.Failure, CompletionID: e.EventID}
	}
}

// processAfterDone applies an event that comes after the execution ended
// in this episode: scheduling events in history must still match what the
// code did (code that returns early fails on non-determinism, as in
// DurableTask.Core), and external events after a continue-as-new are
// carried into the next execution.
func (x *Executor) processAfterDone(e *history.Event) {
	if x.historyDone || x.outcome.Err != nil {
		return
	}
	switch {
	case isScheduling(e.Type):
		x.match(e)
	case e.Type == history.EventRaised && x.outcome.Status == history.StatusContinuedAsNew:
		x.outcome.CarryOver = append(x.outcome.CarryOver, e)
	case e.Type == history.EventRaised:
		x.buffered = append(x.buffered, e) // discarded with the execution (Outcome.Unawaited)
	}
}

func isScheduling(t history.EventType) bool {
	switch t {
	case history.TaskScheduled, history.TimerCreated, history.SubOrchestrationInstanceCreated, history.EventSent:
		return true
	}
	return false
}

func kindOf(t history.EventType) ActionKind {
	switch t {
	case history.TaskScheduled:
		return ScheduleTask
	case history.TimerCreated:
		return CreateTimer
	case history.SubOrchestrationInstanceCreated:
		return CreateSubOrchestration
	}
	return SendEvent
}

func failureOfEvent(e *history.Event) *history.FailureDetails {
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
	x.runStep()
}

func (x *Executor) setOwner(gid int64) {
	x.mu.Lock()
	x.owner = gid
	x.mu.Unlock()
}

// run is the coroutine body.
func (x *Executor) run() {
	out, err := x.fn(x.ctx)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.owner != curGID() || x.done { // abandoned, or ended meanwhile
		return
	}
	switch {
	case err != nil:
		x.finish(history.StatusFailed, nil, FailureFromError(err), nil)
	case x.continueAsNew != nil:
		x.finish(history.StatusContinuedAsNew, x.continueAsNew.input, nil, nil)
		if x.continueAsNew.preserveEvents {
			x.outcome.CarryOver = append(x.outcome.CarryOver, x.buffered...)
		}
		x.outcome.CarryOver = append(x.outcome.CarryOver, x.carry...)
	default:
		x.finish(history.StatusCompleted, out, nil, nil)
	}
}

// runStep hands control to the coroutine until it blocks or ends, and
// turns a step that went wrong into the instance's failure.
func (x *Executor) runStep() {
	x.setOwner(x.co.gid.Load())
	r := x.co.step(true, x.stepLimit, x.misuse.ch)
	x.setOwner(x.execGID)
	switch r {
	case stepTimedOut:
		if what := x.misuse.detected(); what != "" {
			x.failMisuse(what)
			return
		}
		x.engineFailure(BlockedErrorType, fmt.Sprintf(
			"The orchestrator's code ran for more than %v without returning or awaiting a durable task. "+
				"Orchestrator code must not block: no mutexes, channels, time.Sleep or I/O; use durable timers and activities instead.",
			x.stepLimit), ErrBlocked)
	case stepMisused:
		x.failMisuse(x.misuse.detected())
	default:
		x.afterStep()
	}
}

// afterStep handles a coroutine that stopped by panicking or by
// runtime.Goexit, and context misuse reported during the step.
func (x *Executor) afterStep() {
	if what := x.misuse.detected(); what != "" {
		x.failMisuse(what)
		return
	}
	if !x.co.done || x.done {
		return
	}
	switch {
	case x.co.panicked != nil:
		msg := fmt.Sprint(x.co.panicked)
		stack := x.co.panicStack
		x.finish(history.StatusFailed, nil, &history.FailureDetails{ErrorType: PanicErrorType, ErrorMessage: msg, StackTrace: &stack}, nil)
	case !x.co.returned:
		msg := "The orchestrator's goroutine ended through runtime.Goexit (for example testing.T.FailNow or a Goexit call) before the orchestrator returned."
		x.finish(history.StatusFailed, nil, &history.FailureDetails{ErrorType: GoexitErrorType, ErrorMessage: msg, IsNonRetriable: true},
			fmt.Errorf("%w: %s", ErrGoexit, msg))
	}
}

func (x *Executor) failMisuse(what string) {
	msg := "Multithreaded execution was detected: the orchestrator's code " + what +
		" from a goroutine other than the orchestrator's own. Orchestrator code must not use the orchestration context " +
		"from goroutines it starts; schedule tasks and combine them with WhenAll or WhenAny instead."
	x.engineFailure(MultithreadedErrorType, msg, fmt.Errorf("%w: %s", ErrMultithreaded, msg))
}

// engineFailure fails the execution for a reason found by the engine. The
// actions the code took in this episode are dropped; finalizers still run
// and their actions (lock releases) are sent, with sequence numbers after
// every one in history.
func (x *Executor) engineFailure(errType, msg string, err error) {
	if x.done {
		if x.historyDone || x.outcome.Err != nil {
			return
		}
		x.done = false // the completion came from code that did not replay its history
	}
	x.nextID = max(x.nextID, x.maxPastID+1)
	x.keepFrom = x.nextID
	x.runFinalizers()
	x.finish(history.StatusFailed, nil, &history.FailureDetails{ErrorType: errType, ErrorMessage: msg, IsNonRetriable: true}, err)
}

// runFinalizers runs the code registered with Context.OnEnd, once, on the
// executor's goroutine.
func (x *Executor) runFinalizers() {
	fs := x.finalizers
	x.finalizers = nil
	for _, f := range fs {
		x.safeCall(f)
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

// safeCall runs code of the layers above on the executor's goroutine (a
// future's callback, a finalizer): a panic there fails the instance
// instead of the process.
func (x *Executor) safeCall(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			stack := string(debug.Stack())
			x.finish(history.StatusFailed, nil, &history.FailureDetails{ErrorType: PanicErrorType, ErrorMessage: fmt.Sprint(r), StackTrace: &stack}, nil)
		}
	}()
	fn()
}

// schedule is called for every new action.
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
func (x *Executor) match(e *history.Event) {
	kind := kindOf(e.Type)
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
	x.engineFailure(NonDeterministicErrorType, "Non-deterministic workflow detected: "+msg,
		fmt.Errorf("%w: %s", ErrNonDeterministic, msg))
}

// resolve completes f and runs its callbacks.
func (x *Executor) resolve(f *Future, result *string, failure *history.FailureDetails) {
	for _, cb := range f.set(result, failure) {
		x.safeCall(cb)
	}
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
	x.resolve(f, result, failure)
	x.wake()
}

// Event names match case-insensitively by one rule, strings.EqualFold,
// for buffered events and waiters alike.
func (x *Executor) waitForEvent(name string) *Future {
	f := &Future{ID: -1, Name: name}
	for i, e := range x.buffered {
		if strings.EqualFold(e.Name, name) {
			x.buffered = append(x.buffered[:i:i], x.buffered[i+1:]...)
			f.set(e.Input, nil)
			return f
		}
	}
	x.waiters = append(x.waiters, f)
	return f
}

func (x *Executor) cancelWait(f *Future) {
	if f.done {
		return
	}
	for i, w := range x.waiters {
		if w == f {
			x.waiters = append(x.waiters[:i:i], x.waiters[i+1:]...)
			break
		}
	}
	f.done, f.canceled = true, true
	f.callbacks = nil
}

func (x *Executor) raise(e *history.Event) {
	if x.continueAsNew != nil {
		// As DurableTask.Core: once the code asked to continue as new,
		// events go to the next execution.
		x.carry = append(x.carry, e)
		return
	}
	for i := len(x.waiters) - 1; i >= 0; i-- { // newest waiter first, as Durable Functions does
		f := x.waiters[i]
		if strings.EqualFold(f.Name, e.Name) {
			x.waiters = append(x.waiters[:i:i], x.waiters[i+1:]...)
			x.resolve(f, e.Input, nil)
			x.wake()
			return
		}
	}
	x.buffered = append(x.buffered, e)
}

// await runs on the coroutine: it blocks until ready holds. It returns
// false at once, without blocking, while the coroutine is being unwound.
func (x *Executor) await(ready func() bool) bool {
	for !ready() {
		if x.unloading {
			return false
		}
		x.blockedOn = ready
		x.co.block()
	}
	x.blockedOn = nil
	return true
}

func anyDone(fs []*Future) bool {
	for _, f := range fs {
		if f.done {
			return true
		}
	}
	return len(fs) == 0
}

// wake resumes the coroutine if what it waits for is ready.
func (x *Executor) wake() {
	if x.done || x.co.abandoned || x.co.done || x.blockedOn == nil {
		return
	}
	ready := false
	x.safeCall(func() { ready = x.blockedOn() })
	if ready && !x.done {
		x.runStep()
	}
}
