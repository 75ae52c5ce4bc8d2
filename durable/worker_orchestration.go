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
	"github.com/godurable/functions/durable/replay"
	"github.com/godurable/functions/internal/telemetry"
)

// maxContinueAsNewPerWorkItem bounds how many executions one work item may
// run when an orchestrator continues as new without ever waiting.
const maxContinueAsNewPerWorkItem = 1000

func (w *Worker) processOrchestration(ctx context.Context, wi *backend.OrchestrationWorkItem) {
	if w.versionRejected(ctx, wi) {
		return
	}
	began := time.Now()
	cp, err := w.safeRunEpisode(wi)
	if err != nil {
		// User code cannot get here (its panics fail the instance); this is
		// the runtime's own failure. The work item is retried later.
		w.log.Error("orchestration episode failed inside the runtime; the work item will be retried",
			"instanceId", wi.InstanceID, "error", err)
		w.sessions.settle(wi.InstanceID, false)
		if aerr := w.be.AbandonOrchestrationWorkItem(ctx, wi, time.Second); aerr != nil {
			w.log.Warn("abandoning orchestration work item failed", "instanceId", wi.InstanceID, "error", aerr)
		}
		return
	}
	if cp == abortedEpisode {
		w.sessions.settle(wi.InstanceID, false)
		w.abandonAborted(ctx, wi)
		return
	}
	observed := observeEpisode(wi, cp, w.clock())
	err = w.be.CompleteOrchestrationWorkItem(ctx, wi, cp)
	w.sessions.settle(wi.InstanceID, err == nil)
	if err != nil {
		w.log.Warn("orchestration checkpoint failed; the episode will be replayed",
			"instanceId", wi.InstanceID, "error", err)
		if aerr := w.be.AbandonOrchestrationWorkItem(ctx, wi, abandonDelay(err)); aerr != nil {
			w.log.Warn("abandoning orchestration work item failed", "instanceId", wi.InstanceID, "error", aerr)
		}
		return
	}
	observed.committed(time.Since(began))
}

// safeRunEpisode runs runEpisode, turning a panic into an error so that a
// bug never takes the process down.
func (w *Worker) safeRunEpisode(wi *backend.OrchestrationWorkItem) (cp *backend.Checkpoint, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return w.runEpisode(wi), nil
}

// runEpisode replays the instance and returns the checkpoint to commit. A
// nil checkpoint's NewEvents means the messages are to be dropped.
func (w *Worker) runEpisode(wi *backend.OrchestrationWorkItem) *backend.Checkpoint {
	log := w.log.With("instanceId", wi.InstanceID)
	if IsEntityInstance(wi.InstanceID) {
		return w.runEntityEpisode(wi, log)
	}
	started := findStarted(wi.History)
	if started == nil {
		started = findStarted(wi.NewEvents)
	}
	if started == nil {
		log.Warn("dropping messages for an instance that has not started", "messages", len(wi.NewEvents))
		return &backend.Checkpoint{}
	}
	log = w.log.With(telemetry.InstanceAttrs(started)...)
	if isFinished(wi.History) {
		log.Info("dropping messages for a finished execution", "messages", len(wi.NewEvents))
		return &backend.Checkpoint{}
	}
	now := w.clock()
	past := wi.History
	if wi.PoisonReason != "" {
		news := append([]*history.Event{{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now}}, wi.NewEvents...)
		cp, ep := w.failEpisodeAs(started, past, news, now, ErrorTypePoisonMessage, wi.PoisonReason)
		w.logFailure(log, ep)
		return cp
	}
	news := append([]*history.Event{{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now}}, wi.NewEvents...)
	if cp, failed := w.versionFailure(started, past, news, now); failed {
		return cp
	}
	cp, ep := w.execute(started, past, news, now)
	for i := 0; ep.outcome.Status == history.StatusContinuedAsNew && ep.outcome.Done; i++ {
		sent := cp.Outbound
		next := append([]*history.Event{{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now}}, ep.continuedHistory()...)
		if i >= maxContinueAsNewPerWorkItem {
			cp, ep = w.failEpisode(next[1], nil, next, now,
				fmt.Sprintf("the orchestrator continued as new %d times in a row without waiting for anything", i))
			w.logFailure(log, ep)
			cp.ContinuedAsNew = true
			return cp
		}
		cp, ep = w.execute(next[1], nil, next, now)
		if cp == abortedEpisode {
			return cp
		}
		cp.ContinuedAsNew = true
		cp.Outbound = append(sent, cp.Outbound...)
	}
	w.logFailure(log, ep)
	if names := ep.outcome.Unawaited; len(names) > 0 {
		// Durable Functions notes each at information level as it arrives
		// (ExternalEventDropped); a misspelt event name is easier to find
		// with one warning when they are discarded.
		log.Warn("orchestration ended with external events it never waited for; they are discarded",
			"orchestrator", started.Name, "events", names)
	}
	return cp
}

// logFailure logs a failed execution once, at error level, with what its
// failure says.
func (w *Worker) logFailure(log *slog.Logger, ep *episode) {
	o := ep.outcome
	if !o.Done || o.Status != history.StatusFailed || o.Failure == nil {
		return
	}
	args := []any{"orchestrator", ep.started.Name, "errorType", o.Failure.ErrorType, "message", o.Failure.ErrorMessage}
	if o.Err != nil {
		args = append(args, "error", o.Err)
	}
	if o.Failure.InnerFailure != nil {
		args = append(args, "innerMessage", o.Failure.InnerFailure.ErrorMessage)
	}
	log.Error("orchestration failed", args...)
}

// execute runs one execution's episode and lays out its checkpoint.
func (w *Worker) execute(started *history.Event, past, news []*history.Event, now time.Time) (*backend.Checkpoint, *episode) {
	fn, ok := w.reg.orchestrator(started.Name)
	if !ok {
		return w.failEpisode(started, past, news, now,
			fmt.Sprintf("the orchestrator %q is not registered in this app", started.Name))
	}
	id, execID := started.Instance.InstanceID, started.Instance.ExecutionID
	var out *replay.Outcome
	s := w.sessions.take(id, execID, len(past))
	if s != nil {
		out = s.x.Apply(nil, news) // continues where the last episode stopped
	} else {
		s = &orchSession{aborted: new(bool), execID: execID}
		s.x = replay.New(w.adapt(fn, s.aborted), replay.WithStepLimit(w.opts.OrchestratorStepLimit))
		out = s.x.Apply(past, news)
	}
	if *s.aborted {
		s.x.Close()
		return abortedEpisode, &episode{started: started, now: now, outcome: &replay.Outcome{}}
	}
	ep := &episode{started: started, now: now, newEvents: news, outcome: out,
		suspended: isSuspended(past, news), newExecID: w.newID, storeInputs: w.opts.StoreInputsInOrchestrationHistory}
	cp := ep.checkpoint()
	if w.sessions != nil && !out.Done && out.Err == nil {
		s.historyLen = len(past) + len(cp.NewEvents)
		w.sessions.stage(id, s) // kept if the checkpoint commits
	} else {
		s.x.Close()
	}
	return cp, ep
}

// failEpisode fails the execution without running user code.
func (w *Worker) failEpisode(started *history.Event, past, news []*history.Event, now time.Time, msg string) (*backend.Checkpoint, *episode) {
	return w.failEpisodeAs(started, past, news, now, ErrorTypeOrchestratorNotFound, msg)
}

func (w *Worker) failEpisodeAs(started *history.Event, past, news []*history.Event, now time.Time, errType, msg string) (*backend.Checkpoint, *episode) {
	next := 0
	for _, e := range past {
		if e.EventID >= next {
			next = e.EventID + 1
		}
	}
	out := &replay.Outcome{Done: true, Status: history.StatusFailed, CompletionID: next,
		Failure: &history.FailureDetails{ErrorType: errType, ErrorMessage: msg, IsNonRetriable: true}}
	ep := &episode{started: started, now: now, newEvents: news, outcome: out, newExecID: w.newID}
	return ep.checkpoint(), ep
}

// adapt turns a registered orchestrator into the replay engine's form.
func (w *Worker) adapt(fn OrchestratorFunc, aborted *bool) replay.Orchestrator {
	return func(rc *replay.Context) (*string, error) {
		ctx := newOrchestrationContext(rc, w.log)
		out, err := func() (any, error) {
			defer ctx.releaseLocks() // also on failure and panic
			return fn(ctx)
		}()
		if err != nil {
			*aborted = errors.Is(err, ErrSessionAborted)
			return nil, err
		}
		s, err := marshalPayload(out)
		if err != nil {
			return nil, fmt.Errorf("durable: output of %q does not encode as JSON: %w", rc.Name(), err)
		}
		return s, nil
	}
}

func findStarted(events []*history.Event) *history.Event {
	for _, e := range events {
		if e.Type == history.ExecutionStarted {
			return e
		}
	}
	return nil
}

func isFinished(events []*history.Event) bool {
	for _, e := range events {
		if e.Type == history.ExecutionCompleted || e.Type == history.ContinueAsNew || e.Type == history.ExecutionTerminated {
			return true
		}
	}
	return false
}

func isSuspended(lists ...[]*history.Event) bool {
	s := false
	for _, l := range lists {
		for _, e := range l {
			switch e.Type {
			case history.ExecutionSuspended:
				s = true
			case history.ExecutionResumed:
				s = false
			}
		}
	}
	return s
}
