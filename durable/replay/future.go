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
	// dead futures were handed to a goroutine that misused the context:
	// they never complete and take no callbacks.
	dead      bool
	callbacks []func()
}

// Done reports whether the outcome is known.
func (f *Future) Done() bool { return f.done }

// Result returns the outcome: the result payload, or the failure details of
// a failed task. canceled is true for a wait that was canceled.
func (f *Future) Result() (result *string, failure *history.FailureDetails, canceled bool) {
	return f.result, f.failure, f.canceled
}

// OnDone registers fn to run as soon as the future completes, whether or
// not the orchestrator is awaiting it; a done future runs fn at once. The
// executor runs fn while it processes the completing event, before the
// orchestrator resumes, so fn may schedule further actions (a retry, a
// timer's next hop) deterministically. fn must not block.
func (f *Future) OnDone(fn func()) {
	switch {
	case f.dead:
	case f.done:
		fn()
	default:
		f.callbacks = append(f.callbacks, fn)
	}
}

// set records the outcome and returns the callbacks to run.
func (f *Future) set(result *string, failure *history.FailureDetails) []func() {
	if f.done {
		return nil
	}
	f.done, f.result, f.failure = true, result, failure
	cbs := f.callbacks
	f.callbacks = nil
	return cbs
}
