package azstorage

import (
	"context"
	"sort"
	"sync/atomic"
	"time"

	"github.com/godurable/functions/durable/backend"
)

// session is an instance with a work item in flight. Messages for it that
// arrive meanwhile wait in pending and form its next work item, so an
// instance never runs two episodes at once.
type session struct {
	instanceID string
	partition  int
	pending    []*queueMessage
}

// pollPartition reads one owned control queue until ctx ends or the
// partition is no longer owned.
func (b *Backend) pollPartition(ctx context.Context, i int) {
	queue := b.names.ControlQueue(i)
	log := b.log.With("queue", queue)
	log.Debug("listening to control queue")
	// A partition just taken may have had an owner that died: its
	// messages, and the work items it held, show up within one
	// visibility timeout; look for them often until then.
	b.pollers[i].hurry(b.opts.ControlQueueVisibility)
	b.actBackoff.hurry(b.opts.WorkItemQueueVisibility)
	b.pollQueue(ctx, queue, b.opts.ControlQueueBatchSize, b.opts.ControlQueueVisibility, b.pollers[i], log,
		func(msgs []*queueMessage) bool {
			b.dispatchBatch(ctx, i, msgs)
			return true
		})
	log.Debug("stopped listening to control queue")
}

// dispatchBatch groups a batch by instance and hands each group to its
// session.
func (b *Backend) dispatchBatch(ctx context.Context, partition int, msgs []*queueMessage) {
	var good []*queueMessage
	for _, m := range msgs {
		if m.decodeErr != nil {
			if b.isPoison(m) {
				if _, err := b.poison(ctx, m, "undecodable: "+m.decodeErr.Error()); err != nil {
					b.log.Warn("moving poison message failed", "error", err)
				}
				continue
			}
			b.log.Error("control-queue message does not decode; leaving it for a later retry",
				"queue", m.queue, "messageId", m.id, "dequeueCount", m.dequeueCount, "error", m.decodeErr)
			_ = b.abandonMessage(ctx, m, abandonBackoff(m.dequeueCount))
			continue
		}
		good = append(good, m)
	}
	sort.SliceStable(good, func(i, j int) bool {
		if !good[i].insertedAt.Equal(good[j].insertedAt) {
			return good[i].insertedAt.Before(good[j].insertedAt)
		}
		return good[i].data.SequenceNumber < good[j].data.SequenceNumber
	})
	var order []string
	groups := map[string][]*queueMessage{}
	for _, m := range good {
		id := m.data.TaskMessage.OrchestrationInstance.InstanceID
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], m)
	}
	for _, id := range order {
		b.offer(ctx, partition, id, groups[id])
	}
}

// offer gives messages to the instance's session, starting one if none is
// in flight.
func (b *Backend) offer(ctx context.Context, partition int, instanceID string, msgs []*queueMessage) {
	b.mu.Lock()
	if s, ok := b.sessions[instanceID]; ok {
		var superseded []*msgLock
		s.pending, superseded = appendUnique(s.pending, msgs)
		b.mu.Unlock()
		for _, l := range superseded {
			b.supersede(l)
		}
		return
	}
	s := &session{instanceID: instanceID, partition: partition}
	b.sessions[instanceID] = s
	b.mu.Unlock()
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		b.runSession(ctx, s, msgs)
	}()
}

// appendUnique adds messages, replacing an older copy of a redelivered one.
// The older copy's hold is returned when the new copy has its own: the
// newer delivery's receipt is the valid one, so the old hold must stop
// (supersede), or it would be renewed for ever and never deleted.
func appendUnique(list, msgs []*queueMessage) ([]*queueMessage, []*msgLock) {
	var superseded []*msgLock
	for _, m := range msgs {
		replaced := false
		for i, old := range list {
			if old.id == m.id {
				if old.msgLock != nil && old.msgLock != m.msgLock {
					superseded = append(superseded, old.msgLock)
				}
				list[i] = m
				replaced = true
			}
		}
		if !replaced {
			list = append(list, m)
		}
	}
	return list, superseded
}

// runSession builds the work item for msgs and hands it to a dispatcher.
// The session ends when the work item is completed or abandoned.
func (b *Backend) runSession(ctx context.Context, s *session, msgs []*queueMessage) {
	wi, err := b.buildWorkItem(ctx, s, msgs)
	if err != nil {
		b.log.Warn("loading orchestration work item failed; messages will be retried",
			"instanceId", s.instanceID, "error", err)
		for _, m := range msgs {
			_ = b.abandonMessage(context.WithoutCancel(ctx), m, time.Second)
		}
		b.endSession(ctx, s)
		return
	}
	if wi == nil {
		b.endSession(ctx, s)
		return
	}
	select {
	case b.work <- wi:
	case <-ctx.Done():
		// Not processed: the messages become visible again after their
		// visibility timeout; carried results are sent on.
		b.mu.Lock()
		delete(b.sessions, s.instanceID)
		next := s.pending
		s.pending = nil
		b.mu.Unlock()
		b.materializeAll(ctx, append(msgs, next...))
	}
}

// endSession releases the instance, or starts its next work item if
// messages arrived meanwhile.
func (b *Backend) endSession(ctx context.Context, s *session) {
	b.mu.Lock()
	next := s.pending
	s.pending = nil
	if len(next) == 0 || ctx.Err() != nil {
		delete(b.sessions, s.instanceID)
		b.mu.Unlock()
		b.materializeAll(ctx, next)
		return
	}
	b.mu.Unlock()
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		b.runSession(ctx, s, next)
	}()
}

// workItemState is the backend's part of an orchestration work item.
type workItemState struct {
	session      *session
	messages     []*queueMessage // consumed by this episode
	executionID  string          // the execution the stored history belongs to
	historyLen   int
	sentinelETag string   // "" when no sentinel row exists yet
	instanceRow  *rowETag // the Instances row seen at fetch (UseInstanceTableETag only)
	episode      int      // OrchestratorStarted events so far
	ctx          context.Context
	blobs        executionBlobs // large-message blobs of the execution's history rows
	ended        atomic.Bool    // completed or abandoned: the work item is no longer held
}

func stateOf(wi *backend.OrchestrationWorkItem) *workItemState {
	s, _ := wi.Provider.(*workItemState)
	return s
}
