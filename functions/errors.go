package functions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/godurable/functions/durable"
)

// FlakyInput says how many attempts of Flaky fail before one succeeds.
type FlakyInput struct {
	FailTimes int `json:"failTimes"`
}

// RetryFlaky calls Flaky with a retry policy and reports how many attempts
// it took.
func RetryFlaky(ctx *durable.OrchestrationContext, in FlakyInput) (int, error) {
	return durable.CallActivity[int](ctx, "Flaky", in, durable.WithRetry(durable.RetryPolicy{
		MaxAttempts:        in.FailTimes + 2,
		FirstRetryInterval: 200 * time.Millisecond,
		BackoffCoefficient: 1.5,
		MaxRetryInterval:   2 * time.Second,
	})).Await()
}

// flakyAttempts counts Flaky's attempts per orchestration instance. It is
// process-local on purpose: the sample shows retries, not durable state.
var flakyAttempts sync.Map

// Flaky fails its first FailTimes attempts for each calling instance and
// then returns the attempt number.
func Flaky(ctx context.Context, in FlakyInput) (int, error) {
	info, _ := durable.ActivityInfoFrom(ctx)
	v, _ := flakyAttempts.LoadOrStore(info.InstanceID, new(int))
	n := v.(*int)
	*n++
	if *n <= in.FailTimes {
		return 0, fmt.Errorf("flaky failure %d of %d", *n, in.FailTimes)
	}
	return *n, nil
}

// CatchFailure calls an activity that always fails, catches the failure
// and returns its message.
func CatchFailure(ctx *durable.OrchestrationContext, _ any) (string, error) {
	_, err := durable.CallActivity[any](ctx, "AlwaysFails", nil).Await()
	var tf *durable.TaskFailedError
	if errors.As(err, &tf) {
		return "caught: " + tf.Details.ErrorMessage, nil
	}
	return "", fmt.Errorf("expected a task failure, got %v", err)
}

// Crash does not catch the failure: the instance ends Failed with it.
func Crash(ctx *durable.OrchestrationContext, _ any) (any, error) {
	return durable.CallActivity[any](ctx, "AlwaysFails", nil).Await()
}

// AlwaysFails is an activity that fails every time.
func AlwaysFails(ctx context.Context, _ any) (any, error) {
	return nil, errors.New("this activity always fails")
}

// CallFlaky calls Flaky once, without retries: with failTimes 1 it fails,
// and a rewind makes it run (and succeed) again.
func CallFlaky(ctx *durable.OrchestrationContext, in FlakyInput) (int, error) {
	return durable.CallActivity[int](ctx, "Flaky", in).Await()
}
