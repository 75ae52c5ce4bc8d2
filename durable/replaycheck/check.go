// Package replaycheck checks, before a deployment, that the current
// orchestrator code still replays the histories stored by the running
// version: it replays them with the real engine (durable's worker over an
// in-memory backend, one episode per check) and reports each instance
// whose history the code no longer reproduces, with the history event
// where it departs and what the code did instead.
//
// Histories come from a task hub (LoadHistories: by instance id, by
// query, or all running instances), from export files (WriteHistories,
// ReadHistories) and from the status API's JSON (ParseStatusJSON).
// Command is the command line (cmd/durable-replay, and the replay
// subcommand of an app built with funcapp); durabletest.Replay runs a
// check in a test.
package replaycheck

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/memory"
	"github.com/godurable/functions/durable/replay"
)

// Mismatch is where a stored history and the current code part ways: the
// code, replayed over the history, takes another action than the one
// recorded, ends where the history goes on, or goes on where the history
// ended. Deploying the code would fail (or corrupt) the instance.
type Mismatch struct {
	InstanceID   string
	Orchestrator string
	// EventIndex is the index in the history of the first event the code
	// does not reproduce; Event is that event.
	EventIndex int
	Event      *history.Event
	// Reason says what the code did instead.
	Reason string
}

func (m *Mismatch) Error() string {
	return fmt.Sprintf("instance %s (%s): history event %d, %s: %s", m.InstanceID, m.Orchestrator, m.EventIndex, describe(m.Event), m.Reason)
}

// describe names an event for a report: its type, name and sequence number.
func describe(e *history.Event) string {
	if e == nil {
		return "end of history"
	}
	s := e.Type.String()
	if e.Name != "" {
		s += " " + e.Name
	}
	if e.EventID >= 0 {
		s += fmt.Sprintf(" (EventId %d)", e.EventID)
	}
	return s
}

// Check replays one execution's history against the orchestrators
// in reg, with the real engine, and returns the first point where the
// current code departs from it (nil if it reproduces it). instanceID may
// be empty: it is then read from the ExecutionStarted event. Entity
// histories are not orchestrations and replay clean. An error means the
// history cannot be replayed at all (it has no ExecutionStarted event).
//
// What counts as a departure is what would break the instance after a
// deployment: an action of another kind or name for a recorded sequence
// number (an activity renamed, calls reordered, one inserted or removed),
// the code finishing while the history goes on to schedule more, and the
// code not finishing (or finishing differently) where the history
// completed, failed or continued as new.
func Check(reg *durable.Registry, instanceID string, h []*history.Event) (*Mismatch, error) {
	start := -1
	for i, e := range h {
		if e.Type == history.ExecutionStarted {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("the history of %q has no ExecutionStarted event", instanceID)
	}
	if instanceID == "" && h[start].Instance != nil {
		instanceID = h[start].Instance.InstanceID
	}
	if instanceID == "" {
		instanceID = "replayed-instance"
	}
	if h[start].Instance == nil || h[start].Instance.InstanceID == "" {
		// The engine needs to know whose execution it replays.
		h = append([]*history.Event(nil), h...)
		s := h[start].Clone()
		s.Instance = &history.OrchestrationInstance{InstanceID: instanceID, ExecutionID: "replayed-execution"}
		h[start] = s
	}
	if strings.HasPrefix(instanceID, "@") {
		return nil, nil
	}
	name := h[start].Name
	mm := func(i int, reason string) *Mismatch {
		var e *history.Event
		if i >= 0 && i < len(h) {
			e = h[i]
		}
		return &Mismatch{InstanceID: instanceID, Orchestrator: name, EventIndex: i, Event: e, Reason: reason}
	}
	if !reg.HasOrchestrator(name) {
		return mm(start, fmt.Sprintf("no orchestrator named %q is registered in the current code", name)), nil
	}
	// The end of the execution, if the history has one.
	end := len(h)
	for i, e := range h {
		if e.Type == history.ExecutionCompleted || e.Type == history.ContinueAsNew || e.Type == history.ExecutionTerminated {
			end = i
			break
		}
	}
	// Find the shortest prefix after which the code has ended (done is
	// monotone: once the code ends, later events are not looked at).
	outcome := func(n int) (*history.Event, error) {
		e, _, err := replayPrefix(reg, instanceID, h[:n])
		return e, err
	}
	last, scheduled, err := replayPrefix(reg, instanceID, h[:end])
	if err != nil {
		return nil, err
	}
	if last == nil {
		if end < len(h) && h[end].Type != history.ExecutionTerminated {
			return mm(end, fmt.Sprintf("the history ends the execution here (%s), but the current code does not finish: it waits for more",
				endStatus(h[end]))), nil
		}
		if end == len(h) && len(scheduled) > 0 && h[end-1].Type == history.OrchestratorCompleted {
			var names []string
			for _, e := range scheduled {
				names = append(names, describe(e))
			}
			return mm(end, fmt.Sprintf("after the last recorded episode the current code also schedules %s, which that episode did not: "+
				"the instance would take another path", strings.Join(names, ", "))), nil
		}
		return nil, nil
	}
	lo, hi := start+1, end // the code has not ended after h[:lo-1]; it has after h[:hi]
	for lo < hi {
		mid := (lo + hi) / 2
		done, err := outcome(mid)
		if err != nil {
			return nil, err
		}
		if done != nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	at, final, err := replayPrefix(reg, instanceID, h[:hi])
	if err != nil {
		return nil, err
	}
	if f := at.Failure; f != nil && f.ErrorType == replay.NonDeterministicErrorType {
		return mm(hi-1, strings.TrimPrefix(f.ErrorMessage, "Non-deterministic workflow detected: ")), nil
	}
	// What the history schedules after that point must be what the code
	// scheduled as it finished (a lock release sent on return, say).
	emitted := map[string]string{}
	for _, e := range final {
		emitted[fmt.Sprint(e.Type, e.EventID)] = e.Name
	}
	for i := hi; i < end; i++ {
		switch h[i].Type {
		case history.TaskScheduled, history.SubOrchestrationInstanceCreated, history.TimerCreated, history.EventSent:
			if name, ok := emitted[fmt.Sprint(h[i].Type, h[i].EventID)]; ok && strings.EqualFold(name, h[i].Name) {
				continue
			}
			return mm(i, fmt.Sprintf("the current code has already finished (%s) after event %d, but the history goes on to schedule this",
				endStatus(at), hi-1)), nil
		}
	}
	if end == len(h) || h[end].Type == history.ExecutionTerminated {
		return nil, nil
	}
	if want, got := endStatus(h[end]), endStatus(at); want != got {
		return mm(end, fmt.Sprintf("the history ends the execution %s, but the current code ends it %s", want, got)), nil
	}
	return nil, nil
}

func endStatus(e *history.Event) string {
	switch e.Type {
	case history.ContinueAsNew:
		return history.StatusContinuedAsNew.String()
	case history.ExecutionTerminated:
		return history.StatusTerminated.String()
	}
	s := e.OrchestrationStatus.String()
	if e.OrchestrationStatus == history.StatusFailed && e.Failure != nil {
		s += " (" + e.Failure.ErrorType + ")"
	}
	return s
}

// replayPrefix runs one episode of the real engine over the events as
// stored history and returns the execution's end (ExecutionCompleted or
// ContinueAsNew) if the code ended during it, else nil, and the
// scheduling events the episode added.
func replayPrefix(reg *durable.Registry, instanceID string, past []*history.Event) (end *history.Event, scheduled []*history.Event, err error) {
	now := time.Now().UTC()
	for _, e := range past {
		if !e.Timestamp.IsZero() {
			now = e.Timestamp
		}
	}
	be := memory.New(memory.Options{Clock: func() time.Time { return now }})
	if err := be.ImportInstance(instanceID, past); err != nil {
		return nil, nil, err
	}
	wake := "replay check"
	ctx := context.Background()
	if err := be.SendEvent(ctx, history.OrchestrationInstance{InstanceID: instanceID},
		&history.Event{Type: history.GenericEvent, EventID: -1, Timestamp: now, Data: &wake}); err != nil {
		return nil, nil, err
	}
	wi := be.TryFetchOrchestrationWorkItem()
	if wi == nil {
		return nil, nil, fmt.Errorf("replaying %q: no work item", instanceID)
	}
	w := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock: func() time.Time { return now }})
	w.ProcessOrchestrationWorkItem(ctx, wi)
	after, err := be.GetHistory(ctx, instanceID)
	if err != nil {
		return nil, nil, err
	}
	if exec := executionOf(after); exec != "" && exec != executionOf(past) {
		// Continued as new: the history was replaced by the next
		// execution's.
		return &history.Event{Type: history.ContinueAsNew}, nil, nil
	}
	if len(after) < len(past) {
		return nil, nil, fmt.Errorf("replaying %q: the history shrank from %d to %d events", instanceID, len(past), len(after))
	}
	for _, e := range after[len(past):] {
		switch e.Type {
		case history.ExecutionCompleted, history.ContinueAsNew:
			return e, scheduled, nil
		case history.TaskScheduled, history.SubOrchestrationInstanceCreated, history.TimerCreated, history.EventSent:
			scheduled = append(scheduled, e)
		}
	}
	return nil, scheduled, nil
}

func executionOf(h []*history.Event) string {
	for _, e := range h {
		if e.Type == history.ExecutionStarted && e.Instance != nil {
			return e.Instance.ExecutionID
		}
	}
	return ""
}
