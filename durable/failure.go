package durable

import (
	"errors"
	"time"

	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replay"
)

// failureOf describes an activity's error: a recovered panic keeps its
// stack, other errors go through the same rules as orchestrator errors.
func failureOf(err error) *history.FailureDetails {
	var p *panicError
	if errors.As(err, &p) {
		stack := p.stack
		return &history.FailureDetails{ErrorType: ErrorTypePanic, ErrorMessage: p.Error(), StackTrace: &stack}
	}
	return replay.FailureFromError(err)
}

// activityFailed is the TaskFailed event of a failed activity, shaped as
// Durable Functions writes it: Reason "Activity function '{name}' failed:
// {message}" and Details the error as serialized .NET exception JSON
// (what a .NET orchestrator deserializes as the inner exception). The
// FailureDetails are kept as well, for orchestrators that read those (Go
// and .NET isolated).
func activityFailed(scheduled *history.Event, now time.Time, f *history.FailureDetails) *history.Event {
	reason := "Activity function '" + scheduled.Name + "' failed: " + f.ErrorMessage
	details := history.ExceptionJSON(f)
	return &history.Event{Type: history.TaskFailed, EventID: -1, Timestamp: now, TaskScheduledID: scheduled.EventID,
		Reason: &reason, Details: &details, Failure: f}
}
