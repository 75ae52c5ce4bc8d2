package azstorage

import (
	"context"
	"time"

	"github.com/godurable/functions/durable/backend"
)

// An activity result for an instance whose partition this worker owns is
// "carried": handed to the instance's session in process instead of being
// enqueued to the control queue and dequeued again. Its durability comes
// from the activity's work-item message, which stays in the work-item
// queue (invisible) until the result is in history; deleting it then is
// what deleting the control message would have been. That saves an
// enqueue and a delete per activity.
//
// If this worker dies before the history commit, the work-item message
// becomes visible again and the activity runs once more (at least once,
// as always); a result committed but not yet deleted is answered again
// and dropped as a duplicate. If the episode cannot use the result now
// (abandoned, partition lost, shutting down), the result is materialized:
// enqueued to the control queue as Durable Task would have sent it, and
// the work item deleted.

// carryResult hands a completed activity's result to its instance's
// session when this worker owns the instance's partition. It reports
// false when the result must go through the control queue.
func (b *Backend) carryResult(s *activityState, wi *backend.ActivityWorkItem, m *MessageData) bool {
	if b.opts.QueueActivityResults || s.msg.deleted || m.TaskMessage == nil {
		return false
	}
	rc := b.runCtx.Load()
	if rc == nil || (*rc).Err() != nil {
		return false
	}
	queue, part := b.controlQueue(wi.Instance.InstanceID)
	if !b.parts.owns(queue) {
		return false
	}
	if raw, err := EncodeMessage(m); err != nil || len(raw) > maxQueuePayload {
		// Large results keep the usual path: their blob is written once,
		// by the enqueue, and the history row reuses it.
		return false
	}
	qm := &queueMessage{queue: s.msg.queue, id: s.msg.id, msgLock: s.msg.msgLock, text: s.msg.text,
		data: m, dequeueCount: 1, insertedAt: time.Now().UTC(), carriedTo: queue}
	b.dispatchBatch(*rc, part, []*queueMessage{qm})
	return true
}

// materialize sends a carried result to its control queue after delay and
// deletes the work item it was riding on.
func (b *Backend) materialize(ctx context.Context, m *queueMessage, delay time.Duration) error {
	if m.deleted {
		return nil
	}
	if _, err := b.enqueue(ctx, m.carriedTo, m.data, delay, false); err != nil {
		// The result cannot be sent on: put its work item back instead,
		// so that the activity runs again (a copy of the result that did
		// reach the queue is then answered twice and the second dropped).
		// Holding the work item would hide it for ever, with nobody left
		// to delete it.
		if perr := b.putBack(ctx, m, delay); perr != nil {
			b.log.Warn("putting back the work item of a result that could not be sent on failed; it shows again when its visibility ends",
				"instanceId", m.data.TaskMessage.OrchestrationInstance.InstanceID, "messageId", m.id, "error", perr)
		}
		return err
	}
	err := b.deleteMessage(ctx, m)
	m.deleted = true // sent on: never again, even if the delete failed
	return err
}

// materializeAll releases the messages among msgs that will not be
// processed here (a session dropped at shutdown or partition loss):
// carried results go to their control queue, other messages become
// visible again at once.
func (b *Backend) materializeAll(ctx context.Context, msgs []*queueMessage) {
	b.letGo(ctx, msgs)
}
