package functions

import "github.com/godurable/functions/durable"

// Countdown is an eternal orchestration in miniature: it shows n as its
// custom status and continues as new with n-1 until it reaches 0.
func Countdown(ctx *durable.OrchestrationContext, n int) (string, error) {
	if err := ctx.SetCustomStatus(n); err != nil {
		return "", err
	}
	if n <= 0 {
		return "done", nil
	}
	return "", ctx.ContinueAsNew(n - 1)
}
