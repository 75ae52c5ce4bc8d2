package durabletest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

// Instance is an orchestration instance of a Tester.
type Instance struct {
	tt   *Tester
	id   string
	name string
}

// ID is the instance id.
func (i *Instance) ID() string { return i.id }

// Status reads the instance's status; the test fails if it does not exist.
func (i *Instance) Status() *durable.InstanceStatus {
	i.tt.t.Helper()
	st, err := i.tt.client.GetStatus(context.Background(), i.id)
	if err != nil {
		i.tt.t.Fatalf("durabletest: status of %s: %v", i.id, err)
	}
	return st
}

// RuntimeStatus is the instance's runtime status.
func (i *Instance) RuntimeStatus() durable.RuntimeStatus {
	i.tt.t.Helper()
	return i.Status().RuntimeStatus
}

// IsDone reports whether the instance has finished: Completed, Failed,
// Terminated or Canceled.
func (i *Instance) IsDone() bool {
	st, err := i.tt.client.GetStatus(context.Background(), i.id)
	return err == nil && st.IsTerminal()
}

// History is the current execution's history, oldest first.
func (i *Instance) History() []*history.Event {
	i.tt.t.Helper()
	h, err := i.tt.be.GetHistory(context.Background(), i.id)
	if err != nil {
		i.tt.t.Fatalf("durabletest: history of %s: %v", i.id, err)
	}
	return h
}

// Failure returns the failure of a Failed instance (nil otherwise), with
// its error type, message and inner failure.
func (i *Instance) Failure() *durable.FailureDetails {
	i.tt.t.Helper()
	for _, e := range i.History() {
		if e.Type == history.ExecutionCompleted && e.OrchestrationStatus == history.StatusFailed {
			if e.Failure != nil {
				return e.Failure
			}
			return &durable.FailureDetails{ErrorMessage: history.Deref(e.Result)}
		}
	}
	return nil
}

// Err is nil for a Completed instance, a *durable.OrchestrationFailedError
// for a Failed one, and an error naming the status otherwise.
func (i *Instance) Err() error {
	i.tt.t.Helper()
	st := i.Status()
	switch st.RuntimeStatus {
	case durable.StatusCompleted:
		return nil
	case durable.StatusFailed:
		return &durable.OrchestrationFailedError{InstanceID: i.id, Details: i.Failure()}
	}
	return fmt.Errorf("durabletest: instance %s is %s (output %s)", i.id, st.RuntimeStatus, history.Deref(st.Output))
}

// Output decodes the result of a Completed instance into a T. The test
// fails, saying why, if the instance did not complete (still running, or
// failed: with its failure) or the result does not decode into T.
func Output[T any](i *Instance) T {
	i.tt.t.Helper()
	var v T
	st := i.Status()
	if st.RuntimeStatus != durable.StatusCompleted {
		msg := fmt.Sprintf("durabletest: %s is %s, not Completed", i.id, st.RuntimeStatus)
		switch st.RuntimeStatus {
		case durable.StatusFailed:
			f := i.Failure()
			msg += ": " + f.String()
			if f.ErrorType == "InputError" {
				msg += " (the input given to Start does not fit the orchestrator's input type)"
			}
		case durable.StatusRunning, durable.StatusPending, durable.StatusSuspended:
			msg += fmt.Sprintf(" at virtual time %s: it waits for an event, an entity or a timer nobody triggers "+
				"(raise it with RaiseEvent, or schedule it with After)", i.tt.now.Format("2006-01-02T15:04:05Z"))
		default:
			msg += ": " + history.Deref(st.Output)
		}
		i.tt.t.Fatal(msg)
	}
	if st.Output == nil {
		return v
	}
	if err := json.Unmarshal([]byte(*st.Output), &v); err != nil {
		i.tt.t.Fatalf("durabletest: the output of %s is %s, which does not decode into %T: %v", i.id, *st.Output, v, err)
	}
	return v
}

// CustomStatus decodes the instance's custom status into a T (the zero
// value when it has none).
func CustomStatus[T any](i *Instance) T {
	i.tt.t.Helper()
	var v T
	st := i.Status()
	if st.CustomStatus == nil {
		return v
	}
	if err := json.Unmarshal([]byte(*st.CustomStatus), &v); err != nil {
		i.tt.t.Fatalf("durabletest: the custom status of %s is %s, which does not decode into %T: %v", i.id, *st.CustomStatus, v, err)
	}
	return v
}

// RaiseEvent sends the instance an external event now; it is processed on
// the next run.
func (i *Instance) RaiseEvent(name string, data any) {
	i.tt.t.Helper()
	if err := i.tt.client.RaiseEvent(context.Background(), i.id, name, data); err != nil {
		i.tt.t.Fatalf("durabletest: raise %q on %s: %v", name, i.id, err)
	}
}

// RaiseEventAfter raises the event when virtual time reaches now+d.
func (i *Instance) RaiseEventAfter(d time.Duration, name string, data any) {
	i.tt.After(d, func() { i.RaiseEvent(name, data) })
}

// Terminate ends the instance with reason.
func (i *Instance) Terminate(reason string) {
	i.tt.t.Helper()
	if err := i.tt.client.Terminate(context.Background(), i.id, reason); err != nil {
		i.tt.t.Fatalf("durabletest: terminate %s: %v", i.id, err)
	}
}

// Suspend pauses the instance; events wait until Resume.
func (i *Instance) Suspend(reason string) {
	i.tt.t.Helper()
	if err := i.tt.client.Suspend(context.Background(), i.id, reason); err != nil {
		i.tt.t.Fatalf("durabletest: suspend %s: %v", i.id, err)
	}
}

// Resume continues a suspended instance.
func (i *Instance) Resume(reason string) {
	i.tt.t.Helper()
	if err := i.tt.client.Resume(context.Background(), i.id, reason); err != nil {
		i.tt.t.Fatalf("durabletest: resume %s: %v", i.id, err)
	}
}

// Rewind makes a Failed instance run its failed calls again.
func (i *Instance) Rewind(reason string) {
	i.tt.t.Helper()
	if err := i.tt.client.Rewind(context.Background(), i.id, reason); err != nil {
		i.tt.t.Fatalf("durabletest: rewind %s: %v", i.id, err)
	}
}
