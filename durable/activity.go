package durable

import (
	"context"
	"encoding/json"
	"fmt"
)

// ActivityFunc is an activity in untyped form: it gets its input as JSON
// text (nil for none) and returns a JSON-marshalable result. Adapt a typed
// function with Activity.
type ActivityFunc func(ctx context.Context, input json.RawMessage) (any, error)

// Activity adapts a typed activity function.
func Activity[In, Out any](fn func(ctx context.Context, input In) (Out, error)) ActivityFunc {
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var in In
		if raw != nil {
			if err := json.Unmarshal(raw, &in); err != nil {
				info, _ := ActivityInfoFrom(ctx)
				return nil, &InputError{Function: info.Name, Err: err}
			}
		}
		return fn(ctx, in)
	}
}

// ActivityInfo describes the activity call being executed.
type ActivityInfo struct {
	Name       string // the activity's name
	InstanceID string // the calling orchestration instance
	TaskID     int    // the call's sequence number in the orchestration
}

type activityInfoKey struct{}

// ActivityInfoFrom returns the activity call an activity's context belongs to.
func ActivityInfoFrom(ctx context.Context) (ActivityInfo, bool) {
	i, ok := ctx.Value(activityInfoKey{}).(ActivityInfo)
	return i, ok
}

func withActivityInfo(ctx context.Context, i ActivityInfo) context.Context {
	return context.WithValue(ctx, activityInfoKey{}, i)
}

// unwrapActivityInput turns TaskScheduled.Input into the activity's input:
// Durable Functions sends a one-element JSON array holding the input; any
// other JSON is taken as the input itself.
func unwrapActivityInput(in *string) (json.RawMessage, error) {
	if in == nil {
		return nil, nil
	}
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(*in), &arr); err == nil {
		switch len(arr) {
		case 0:
			return nil, nil
		case 1:
			if string(arr[0]) == "null" {
				return nil, nil
			}
			return arr[0], nil
		}
		return nil, fmt.Errorf("activity input is an array of %d values; expected one", len(arr))
	}
	if !json.Valid([]byte(*in)) {
		return nil, fmt.Errorf("activity input is not JSON")
	}
	return json.RawMessage(*in), nil
}
