package functions

import (
	"time"

	"github.com/godurable/functions/durable"
)

// Sleeper waits on a durable timer for the given number of seconds.
func Sleeper(ctx *durable.OrchestrationContext, seconds int) (string, error) {
	fireAt := ctx.CurrentUTCDateTime().Add(time.Duration(seconds) * time.Second)
	if _, err := durable.CreateTimer(ctx, fireAt).Await(); err != nil {
		return "", err
	}
	return "woke", nil
}
