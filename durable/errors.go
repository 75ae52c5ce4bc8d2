package durable

import (
	"errors"
	"fmt"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
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
	// under that name.
	ErrUnknownFunction = errors.New("unknown function")
	// ErrNonDeterministic: the orchestrator's code did not replay its history
	// the same way (different action kind or name for the same sequence number).
	ErrNonDeterministic = errors.New("non-deterministic orchestration")
	// ErrTimeout: a wait (WaitForExternalEvent with a timeout, WaitForCompletion)
	// ran out of time.
	ErrTimeout = errors.New("timed out")
	// ErrTaskCanceled: the task was canceled before it completed.
	ErrTaskCanceled = errors.New("task canceled")
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

// OrchestrationFailedError is returned by WaitForCompletion-style helpers
// when the instance ended Failed.
type OrchestrationFailedError struct {
	InstanceID string
	Details    *FailureDetails
}

func (e *OrchestrationFailedError) Error() string {
	return fmt.Sprintf("orchestration %q failed: %s", e.InstanceID, e.Details.String())
}

// FailureDetails lets an unhandled task failure fail the orchestration with
// the task's failure as its inner failure.
func (e *TaskFailedError) FailureDetails() *FailureDetails {
	return &FailureDetails{ErrorType: "TaskFailedError", ErrorMessage: e.Error(), InnerFailure: e.Details}
}

// ErrInvalidInput: a caller-supplied value (instance id, input) is not
// acceptable; the error text says which and why.
var ErrInvalidInput = errors.New("invalid input")

// ErrInstanceFinished: the instance already completed, failed, was
// terminated or canceled, so it takes no more events or commands.
var ErrInstanceFinished = errors.New("orchestration instance has finished")
