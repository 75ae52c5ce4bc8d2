package azstorage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// buildEpisode loads the instance's history and decides, message by
// message, what the episode consumes: stale or duplicate messages
// are deleted, responses that arrived before their request's history are
// put back for later, the rest become the episode's new events.
func (b *Backend) buildEpisode(ctx context.Context, s *session, msgs []*queueMessage) (*backend.OrchestrationWorkItem, error) {
	if _, cached := b.cache.get(s.instanceID); cached && b.cachedHistoryLooksStale(s.instanceID, msgs) {
		// A response to something the cached history does not know: the
		// history moved on elsewhere (the partition was owned by another
		// worker for a while). Read it from storage instead.
		b.cache.drop(s.instanceID)
	}
	expected := ""
	var start *queueMessage
	for _, m := range msgs {
		if e := m.data.TaskMessage.Event; e.Type == history.ExecutionStarted {
			expected = m.data.TaskMessage.OrchestrationInstance.ExecutionID
			start = m
		}
	}
	rows := &instanceRowOnce{}
	h, cached := b.cache.get(s.instanceID)
	if cached && expected != "" && expected != h.executionID {
		cached = false
	}
	if !cached && start != nil && b.isFreshStart(ctx, s.instanceID, start, rows) {
		h, cached = &storedHistory{}, true
	}
	if !cached {
		var err error
		if h, err = b.loadHistory(ctx, s.instanceID, expected); err != nil {
			return nil, err
		}
		// A row an interrupted commit left behind is repaired before the
		// messages that tell of it are dropped as duplicates: when the
		// repair fails they are all retried, so that it is tried again.
		if err := b.repairFinishedRow(ctx, s.instanceID, h, rows); err != nil {
			return nil, fmt.Errorf("repairing the Instances row of a finished instance: %w", err)
		}
		b.learnTimers(s.instanceID, h.events) // open timers (timerwake.go)
		if err := b.repairRow(ctx, s.instanceID, h, msgs); err != nil {
			return nil, fmt.Errorf("repairing the Instances row from history: %w", err)
		}
	}
	current := h.executionID
	if expected != "" {
		current = expected
	}
	hasStart := findEvent(h.events, history.ExecutionStarted) != nil
	var keep, drop, later []*queueMessage
	poisonReason := ""
	answered := answeredIDs(h.events)
	for _, m := range msgs {
		e := m.data.TaskMessage.Event
		target := m.data.TaskMessage.OrchestrationInstance
		switch {
		case e.Type == history.ExecutionStarted:
			if hasStart {
				drop = append(drop, m) // a duplicate start of a running execution
				continue
			}
			verdict, err := b.dedupeStart(ctx, s.instanceID, m, rows)
			if err != nil {
				return nil, err
			}
			switch verdict {
			case startProcess:
				keep = append(keep, m)
				hasStart = true
			case startDiscard:
				drop = append(drop, m)
			default:
				later = append(later, m)
			}
		case target.ExecutionID != "" && current != "" && !strings.EqualFold(target.ExecutionID, current):
			drop = append(drop, m) // addressed to another execution
		case isResponse(e) && answered[responseID(e)]:
			// A second result for the same call: an activity that ran again
			// after its worker died, or a redelivered message. The first
			// result stands; history stays free of duplicates.
			drop = append(drop, m)
		case isResponse(e) && !hasRequest(h.events, keep, e):
			if !hasStart && m.dequeueCount > 5 {
				keep = append(keep, m) // nothing will ever answer; the episode drops it
			} else {
				later = append(later, m) // its request's checkpoint has not landed yet
			}
		case isEntityResponse(m, s.instanceID) && e.Name != "" && !hasEventSentFor(h.events, e.Name):
			if !hasStart && m.dequeueCount > 5 {
				keep = append(keep, m) // nothing will ever answer; the episode drops it
			} else {
				later = append(later, m) // its request's checkpoint has not landed yet
			}
		default:
			keep = append(keep, m)
		}
		if isResponse(e) && len(keep) > 0 && keep[len(keep)-1] == m {
			answered[responseID(e)] = true
		}
	}
	if !hasStart && len(keep) > 0 && !strings.HasPrefix(s.instanceID, "@") {
		// Messages for an instance whose start has not been processed yet
		// (it is still in the queue, or its row is being written): keep
		// them for a moment instead of dropping them as Durable Task drops
		// messages for instances that never started.
		st, found, err := rows.get(ctx, b, s.instanceID)
		if err != nil {
			// Whether the instance is still to start cannot be told:
			// retry the messages rather than process them as if it did
			// not exist (which drops them).
			return nil, fmt.Errorf("reading the Instances row to place messages that came before the start: %w", err)
		}
		if found && st.RuntimeStatus == history.StatusPending {
			if term := findTerminate(keep); term != nil {
				if err := b.terminateNeverStarted(ctx, s.instanceID, term); err != nil {
					return nil, err
				}
				drop = append(drop, keep...)
			} else {
				later = append(later, keep...)
			}
			keep = nil
		}
	}
	// Only a message that would be processed now and was delivered too
	// often is poison: its episodes keep failing. Deferred messages (a
	// start waiting for its Instances row, a response waiting for its
	// request's checkpoint, messages for an instance not started yet) are
	// put back with DurableTask's backoff, up to 10 minutes, however
	// often they come back.
	kept := keep[:0]
	for _, m := range keep {
		poisoned := b.isPoison(m)
		if !poisoned {
			kept = append(kept, m)
			continue
		}
		// Set the message aside and fail the instance with a reason
		// naming it. A poisoned start is kept, so that the instance
		// exists and ends Failed rather than Pending forever.
		reason := fmt.Sprintf("message %s (%s) on %s was delivered %d times without being processed",
			m.id, m.data.TaskMessage.Event.Type, m.queue, m.dequeueCount)
		if _, err := b.poison(ctx, m, reason); err != nil {
			return nil, err
		}
		if m.data.TaskMessage.Event.Type == history.ExecutionStarted {
			kept = append(kept, m)
			m.deleted = true
		}
		if hasStart {
			poisonReason = reason
		}
	}
	keep = kept
	for _, m := range drop {
		b.log.Debug("discarding stale message", "instanceId", s.instanceID, "event", m.data.TaskMessage.Event.Type, "messageId", m.id)
		if err := b.deleteMessage(ctx, m); err != nil {
			b.log.Warn("deleting stale message failed", "error", err)
		}
	}
	for _, m := range later {
		delay := abandonBackoff(m.dequeueCount)
		if m.data.TaskMessage.Event.Type == history.ExecutionStarted || !hasStart {
			// Most often the client has not written the Instances row yet:
			// look again sooner, but still back off exponentially (1 s,
			// 2 s, 4 s …): a start is discarded after 10 deliveries,
			// which must not happen while a slow client is still writing.
			delay = abandonBackoff(m.dequeueCount - 1)
		}
		if delay >= maxAbandonDelay {
			b.log.Warn("a deferred message keeps coming back; retrying it every 10 minutes", "instanceId", s.instanceID,
				"event", m.data.TaskMessage.Event.Type, "messageId", m.id, "queue", m.queue, "dequeueCount", m.dequeueCount)
		}
		b.deferrals.add(m.id, time.Now())
		if err := b.abandonMessage(ctx, m, delay); err != nil {
			b.log.Warn("deferring message failed", "error", err)
		}
	}
	if len(keep) == 0 && poisonReason == "" {
		return nil, nil
	}
	wi := &backend.OrchestrationWorkItem{InstanceID: s.instanceID, History: h.events, PoisonReason: poisonReason}
	for _, m := range keep {
		e := m.data.TaskMessage.Event
		wi.NewEvents = append(wi.NewEvents, e)
		sender := history.OrchestrationInstance{}
		if m.data.Sender != nil {
			sender = *m.data.Sender
		}
		wi.Messages = append(wi.Messages, &backend.Message{Event: e, Target: m.data.TaskMessage.OrchestrationInstance,
			Sender: sender, DequeueCount: m.dequeueCount, InsertedAt: m.insertedAt})
	}
	wi.Provider = &workItemState{session: s, messages: keep, executionID: h.executionID, historyLen: len(h.events),
		sentinelETag: h.sentinelETag, episode: countEvents(h.events, history.OrchestratorStarted), ctx: ctx,
		blobs: executionBlobs{names: h.blobs}}
	if b.opts.UseInstanceTableETag {
		guard, err := b.readRowETag(ctx, s.instanceID)
		if err != nil {
			return nil, err
		}
		wi.Provider.(*workItemState).instanceRow = guard
	}
	return wi, nil
}

// cachedHistoryLooksStale reports a response whose request is not in the
// cached history.
func (b *Backend) cachedHistoryLooksStale(instanceID string, msgs []*queueMessage) bool {
	h, ok := b.cache.get(instanceID)
	if !ok {
		return false
	}
	for _, m := range msgs {
		e := m.data.TaskMessage.Event
		if isResponse(e) && !hasRequest(h.events, nil, e) {
			return true
		}
	}
	return false
}

// answeredIDs are the calls (by sequence number) that history already
// holds a result for.
func answeredIDs(events []*history.Event) map[int]bool {
	ids := map[int]bool{}
	for _, e := range events {
		if isResponse(e) {
			ids[responseID(e)] = true
		}
	}
	return ids
}

// responseID is the sequence number of the call a response answers.
func responseID(e *history.Event) int {
	if e.Type == history.TimerFired {
		return e.TimerID
	}
	return e.TaskScheduledID
}

// isResponse reports the messages that answer something the instance
// scheduled.
func isResponse(e *history.Event) bool {
	switch e.Type {
	case history.TaskCompleted, history.TaskFailed, history.SubOrchestrationInstanceCompleted,
		history.SubOrchestrationInstanceFailed, history.TimerFired:
		return true
	}
	return false
}

// hasRequest reports whether the event that a response answers is in the
// history (or among the messages already taken, for sub-orchestration ids).
func hasRequest(events []*history.Event, _ []*queueMessage, resp *history.Event) bool {
	id := resp.TaskScheduledID
	if resp.Type == history.TimerFired {
		id = resp.TimerID
	}
	for _, e := range events {
		if e.EventID == id && e.EventID >= 0 {
			return true
		}
	}
	return false
}

func findEvent(events []*history.Event, t history.EventType) *history.Event {
	for _, e := range events {
		if e.Type == t {
			return e
		}
	}
	return nil
}

func countEvents(events []*history.Event, t history.EventType) int {
	n := 0
	for _, e := range events {
		if e.Type == t {
			n++
		}
	}
	return n
}
