package durable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/telemetry"
)

func (w *Worker) processActivity(ctx context.Context, wi *backend.ActivityWorkItem) {
	renewCtx, stopRenew := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() { defer close(renewed); w.renewActivity(renewCtx, wi) }()
	ctx, observed := telemetry.StartActivity(ctx, wi.Instance.InstanceID, wi.Scheduled)
	result := w.runActivity(ctx, wi)
	observed.End(result)
	stopRenew()
	if result == nil { // the activity aborted its work item
		w.log.Info("activity aborted its work item; it will run again", "activity", wi.Scheduled.Name,
			"instanceId", wi.Instance.InstanceID)
		if err := w.be.AbandonActivityWorkItem(ctx, wi, abortRetryDelay); err != nil {
			w.log.Warn("abandoning an aborted activity work item failed", "error", err)
		}
		return
	}
	<-renewed
	if err := w.be.CompleteActivityWorkItem(ctx, wi, result); err != nil {
		w.log.WarnContext(ctx, "completing activity failed; it will run again", "activity", wi.Scheduled.Name,
			"instanceId", wi.Instance.InstanceID, "error", err)
		if aerr := w.be.AbandonActivityWorkItem(ctx, wi, time.Second); aerr != nil {
			w.log.Warn("abandoning activity work item failed", "error", aerr)
		}
	}
}

func (w *Worker) renewActivity(ctx context.Context, wi *backend.ActivityWorkItem) {
	t := time.NewTicker(w.opts.ActivityRenewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.be.RenewActivityWorkItem(ctx, wi); err != nil && ctx.Err() == nil {
				w.log.Warn("renewing activity lock failed", "activity", wi.Scheduled.Name, "error", err)
			}
		}
	}
}

// runActivity runs the activity and returns its TaskCompleted or TaskFailed,
// or nil when the activity aborted its work item (ErrSessionAborted).
func (w *Worker) runActivity(ctx context.Context, wi *backend.ActivityWorkItem) *history.Event {
	s := wi.Scheduled
	now := w.clock()
	fail := func(f *history.FailureDetails) *history.Event {
		level := slog.LevelWarn // the orchestration decides what the failure means
		if f.ErrorType == ErrorTypeActivityNotFound {
			level = slog.LevelError
		}
		w.log.Log(ctx, level, "activity failed", "activity", s.Name, "instanceId", wi.Instance.InstanceID, "executionId", wi.Instance.ExecutionID,
			"taskId", s.EventID, "errorType", f.ErrorType, "message", f.ErrorMessage)
		return activityFailed(s, now, f)
	}
	fn, ok := w.reg.activity(s.Name)
	if !ok {
		return fail(&history.FailureDetails{ErrorType: ErrorTypeActivityNotFound, IsNonRetriable: true,
			ErrorMessage: fmt.Sprintf("the activity %q is not registered in this app", s.Name)})
	}
	in, err := unwrapActivityInput(s.Input)
	if err != nil {
		return fail(&history.FailureDetails{ErrorType: ErrorTypeInput, ErrorMessage: err.Error(), IsNonRetriable: true})
	}
	actx := withActivityInfo(ctx, ActivityInfo{Name: s.Name, InstanceID: wi.Instance.InstanceID, TaskID: s.EventID})
	out, err := callActivity(actx, fn, in)
	if errors.Is(err, ErrSessionAborted) {
		return nil
	}
	if err != nil {
		f := failureOf(err)
		return fail(f)
	}
	res, err := marshalPayload(out)
	if err != nil {
		return fail(&history.FailureDetails{ErrorType: ErrorTypeOutput, ErrorMessage: fmt.Sprintf("the result of %q does not encode as JSON: %v", s.Name, err)})
	}
	return &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: w.clock(), TaskScheduledID: s.EventID, Result: res}
}

// panicError is an activity's recovered panic.
type panicError struct {
	value any
	stack string
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

func callActivity(ctx context.Context, fn ActivityFunc, in []byte) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: string(debug.Stack())}
		}
	}()
	return fn(ctx, in)
}
