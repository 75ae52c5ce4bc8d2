package durable

import (
	"errors"

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
