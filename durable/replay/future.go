package replay

import (
	"github.com/godurable/functions/durable/history"
)

// Future is the pending outcome of an action or of an external event wait.
type Future struct {
	ID   int // the action's sequence number (-1 for event waits)
	Kind ActionKind
	Name string

	done     bool
	result   *string
	failure  *history.FailureDetails
	canceled bool
}

// Done reports whether the outcome is known.
func (f *Future) Done() bool { return f.done }

// Result returns the outcome: the result payload, or the failure details of
// a failed task. canceled is true for a wait that was canceled.
func (f *Future) Result() (result *string, failure *history.FailureDetails, canceled bool) {
	return f.result, f.failure, f.canceled
}

func (f *Future) resolve(result *string, failure *history.FailureDetails) {
	if f.done {
		return
	}
	f.done, f.result, f.failure = true, result, failure
}
