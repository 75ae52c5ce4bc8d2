package durable

import (
	"errors"
	"fmt"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replay"
)

// Sentinel errors, for errors.Is.
var (
	// ErrInstanceNotFound: no orchestration instance has that id.
	ErrInstanceNotFound = backend.ErrInstanceNotFound
	// ErrInstanceExists: an instance with that id is still running.
	ErrInstanceExists = backend.ErrInstanceExists
	// ErrUnavailable: storage failed transiently and nothing was changed;
	// retrying later is safe (the HTTP API answers 503 with Retry-After).
	ErrUnavailable = backend.ErrUnavailable
	// ErrUnknownFunction: no orchestrator, activity or entity is registered
	// under that name. Client.StartNew returns it for an unknown
	// orchestrator; a *TaskFailedError matches it when the called activity
	// or sub-orchestrator is not registered (ErrorTypeActivityNotFound,
	// ErrorTypeOrchestratorNotFound).
	ErrUnknownFunction = errors.New("unknown function")
	// ErrNonDeterministic: an orchestrator's code did not replay its
	// history the same way (a different action kind or name for the same
	// sequence number, or code that ends before its history does). The
	// instance fails with ErrorTypeNonDeterministic; a *TaskFailedError of
	// a sub-orchestration that failed this way matches it.
	ErrNonDeterministic = replay.ErrNonDeterministic
	// ErrTimeout: a wait (WaitForExternalEvent with a timeout, WaitForCompletion)
	// ran out of time.
	ErrTimeout = errors.New("timed out")
	// ErrTaskCanceled: the task could not complete because the orchestrator
	// is being unloaded: Await, WhenAll and WhenAny return it when they run
	// in a deferred call after the episode ended.
	ErrTaskCanceled = errors.New("task canceled")
	// ErrLockingRulesViolation: an orchestration broke the rules of a
	// critical section (LockEntities): a call to an entity it did not
	// lock, a signal to one it did, a nested lock, or a sub-orchestration
	// call while holding locks. The call fails; nothing is sent.
	ErrLockingRulesViolation = errors.New("locking rules violation")
)

// The ErrorType of failures the runtime itself produces, as recorded in
// FailureDetails (an instance's failure, a TaskFailedError's Details).
// Errors returned by user code get their ErrorType method's value or their
// Go type ("error" for plain errors).
const (
	// ErrorTypeTaskFailed: an orchestrator failed with an unhandled task
	// failure; the task's failure is the InnerFailure.
	ErrorTypeTaskFailed = "TaskFailedError"
	// ErrorTypeActivityNotFound: the called activity is not registered.
	ErrorTypeActivityNotFound = "ActivityNotFound"
	// ErrorTypeOrchestratorNotFound: the orchestrator is not registered.
	ErrorTypeOrchestratorNotFound = "OrchestratorNotFound"
	// ErrorTypeInput: the input does not decode into the function's type.
	ErrorTypeInput = "InputError"
	// ErrorTypeOutput: the result does not encode as JSON.
	ErrorTypeOutput = "OutputError"
	// ErrorTypePanic: the function panicked; StackTrace holds the stack.
	ErrorTypePanic = replay.PanicErrorType
	// ErrorTypePoisonMessage: a message for the instance failed too often.
	ErrorTypePoisonMessage = "PoisonMessage"
	// ErrorTypeNonDeterministic: the code did not replay its history (the
	// name DurableTask.Core uses).
	ErrorTypeNonDeterministic = replay.NonDeterministicErrorType
	// ErrorTypeMultithreaded: orchestrator code used its context from a
	// goroutine of its own.
	ErrorTypeMultithreaded = replay.MultithreadedErrorType
	// ErrorTypeBlocked: a step of orchestrator code ran longer than
	// WorkerOptions.OrchestratorStepLimit without awaiting or returning.
	ErrorTypeBlocked = replay.BlockedErrorType
	// ErrorTypeGoexit: the orchestrator's goroutine ended through
	// runtime.Goexit.
	ErrorTypeGoexit = replay.GoexitErrorType
)

// FailureDetails describes a failure: error type, message, stack trace and
// the inner failure that caused it.
type FailureDetails = history.FailureDetails

// TaskFailedError is returned by Await when an activity, sub-orchestration or
// entity operation failed. Use errors.As to read its details.
type TaskFailedError struct {
	// TaskName is the activity, orchestrator or entity operation that failed.
	TaskName string
	// TaskID is the sequence number of the call in the orchestration.
	TaskID  int
	Details *FailureDetails
	// SubOrchestration is set when the failed call was a sub-orchestration.
	SubOrchestration bool
	// Entity is set when the failed call was an entity operation.
	Entity bool
}

// Error reads as Durable Functions words it: The activity function 'X'
// failed: "message". See the function execution logs for additional details.
func (e *TaskFailedError) Error() string {
	msg := ""
	if e.Details != nil {
		msg = e.Details.ErrorMessage
	}
	kind := "activity"
	switch {
	case e.SubOrchestration:
		kind = "orchestrator"
	case e.Entity:
		return fmt.Sprintf("The operation %s failed: %q.", e.TaskName, msg)
	}
	return fmt.Sprintf("The %s function '%s' failed: %q. See the function execution logs for additional details.", kind, e.TaskName, msg)
}

// Is lets errors.Is match the failure's kind: ErrUnknownFunction for a
// function that is not registered, ErrNonDeterministic for a
// sub-orchestration that failed on replay.
func (e *TaskFailedError) Is(target error) bool {
	if e.Details == nil {
		return false
	}
	switch target {
	case ErrUnknownFunction:
		return e.Details.ErrorType == ErrorTypeActivityNotFound || e.Details.ErrorType == ErrorTypeOrchestratorNotFound
	case ErrNonDeterministic:
		return e.Details.ErrorType == ErrorTypeNonDeterministic
	}
	return false
}

// FailureDetails lets an unhandled task failure fail the orchestration with
// the task's failure as its inner failure.
func (e *TaskFailedError) FailureDetails() *FailureDetails {
	return &FailureDetails{ErrorType: ErrorTypeTaskFailed, ErrorMessage: e.Error(), InnerFailure: e.Details}
}

// OrchestrationFailedError describes an instance that ended Failed, for
// helpers that wait for an instance and report its outcome as an error
// (durabletest's Instance.Err). errors.Is matches ErrNonDeterministic and
// ErrUnknownFunction by the failure's ErrorType, as for TaskFailedError.
type OrchestrationFailedError struct {
	InstanceID string
	Details    *FailureDetails
}

func (e *OrchestrationFailedError) Error() string {
	return fmt.Sprintf("orchestration %q failed: %s", e.InstanceID, e.Details.String())
}

// Is matches the failure's kind, as TaskFailedError.Is does.
func (e *OrchestrationFailedError) Is(target error) bool {
	return (&TaskFailedError{Details: e.Details}).Is(target)
}

// NonRetriable marks err as a failure that retrying cannot fix: returned
// from an activity or orchestrator (directly or wrapped), it sets the
// failure's IsNonRetriable, and a caller's RetryPolicy then stops at once.
// NonRetriable(nil) is nil.
func NonRetriable(err error) error {
	if err == nil {
		return nil
	}
	return &nonRetriableError{err: err}
}

type nonRetriableError struct{ err error }

func (e *nonRetriableError) Error() string      { return e.err.Error() }
func (e *nonRetriableError) Unwrap() error      { return e.err }
func (e *nonRetriableError) NonRetriable() bool { return true }

// FailureDetails describes the wrapped error, marked non-retriable.
func (e *nonRetriableError) FailureDetails() *FailureDetails {
	fd := replay.FailureFromError(e.err)
	fd.IsNonRetriable = true
	return fd
}

// errMultithreaded is what a call made from a goroutine other than the
// orchestrator's own returns; the instance fails with
// ErrorTypeMultithreaded.
var errMultithreaded = fmt.Errorf("the orchestration context was used from another goroutine: %w", replay.ErrMultithreaded)

// ErrInvalidInput: a caller-supplied value (instance id, input) is not
// acceptable; the error text says which and why.
var ErrInvalidInput = errors.New("invalid input")

// ErrInstanceFinished: the instance already completed, failed, was
// terminated or canceled, so it takes no more events or commands.
var ErrInstanceFinished = errors.New("orchestration instance has finished")
