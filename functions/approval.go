package functions

import (
	"errors"
	"time"

	"github.com/godurable/functions/durable"
)

// ApprovalInput configures Approval.
type ApprovalInput struct {
	TimeoutSeconds int `json:"timeoutSeconds"`
}

// Approval is human interaction: it waits for the "Approval" event (true
// or false) or for the timeout, whichever comes first.
func Approval(ctx *durable.OrchestrationContext, in ApprovalInput) (string, error) {
	timeout := time.Duration(in.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Hour
	}
	_ = ctx.SetCustomStatus("waiting for approval")
	approved, err := durable.WaitForExternalEvent[bool](ctx, "Approval", durable.WithTimeout(timeout)).Await()
	switch {
	case errors.Is(err, durable.ErrTimeout):
		return "timed out", nil
	case err != nil:
		return "", err
	case approved:
		return "approved", nil
	default:
		return "rejected", nil
	}
}
