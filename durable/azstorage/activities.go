package azstorage

import (
	"context"
	"fmt"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// activityBatchSize is how many work items one poll takes. They wait in
// memory (invisible to others) until a dispatcher slot takes them, so it
// stays small next to the visibility timeout.
const activityBatchSize = 16

// activityState is the backend's part of an activity work item.
type activityState struct {
	msg  *queueMessage
	data *MessageData
}

// pollActivities reads the work-item queue and hands activities to the
// dispatcher. Activities are shared by every worker of the hub.
func (b *Backend) pollActivities(ctx context.Context) {
	b.pollQueue(ctx, b.names.WorkItemQueue(), activityBatchSize, b.opts.WorkItemQueueVisibility, b.actBackoff, b.log,
		func(msgs []*queueMessage) bool {
			for i, m := range msgs {
				if b.isPoison(m) {
					b.poisonActivity(ctx, m)
					continue
				}
				if m.decodeErr != nil || m.data.TaskMessage.Event.Type != history.TaskScheduled {
					b.log.Error("work-item message is not a TaskScheduled event; leaving it for a later retry",
						"messageId", m.id, "dequeueCount", m.dequeueCount, "error", m.decodeErr)
					_ = b.abandonMessage(ctx, m, abandonBackoff(m.dequeueCount))
					continue
				}
				if !b.deliverActivity(ctx, m) {
					b.letGo(ctx, msgs[i:])
					return false
				}
			}
			return true
		})
}

func activityStateOf(wi *backend.ActivityWorkItem) (*activityState, error) {
	s, ok := wi.Provider.(*activityState)
	if !ok {
		return nil, fmt.Errorf("azstorage: activity work item was not fetched from this backend")
	}
	return s, nil
}

// CompleteActivityWorkItem sends the result to the orchestration's control
// queue, then deletes the work item — or, when this worker owns
// the orchestration's partition, hands the result over in process and
// leaves the work item to be deleted by the history commit (carried.go).
func (b *Backend) CompleteActivityWorkItem(ctx context.Context, wi *backend.ActivityWorkItem, result *history.Event) error {
	s, err := activityStateOf(wi)
	if err != nil {
		return err
	}
	queue, _ := b.controlQueue(wi.Instance.InstanceID)
	m := b.newMessage(result, wi.Instance, wi.Instance, s.data.Episode)
	if b.carryResult(s, wi, m) {
		return nil
	}
	if err := b.send(ctx, queue, m, 0); err != nil {
		return err
	}
	return b.deleteMessage(ctx, s.msg)
}

// AbandonActivityWorkItem implements backend.Backend.
func (b *Backend) AbandonActivityWorkItem(ctx context.Context, wi *backend.ActivityWorkItem, delay time.Duration) error {
	s, err := activityStateOf(wi)
	if err != nil {
		return err
	}
	return b.abandonMessage(ctx, s.msg, delay)
}

// RenewActivityWorkItem implements backend.Backend.
func (b *Backend) RenewActivityWorkItem(ctx context.Context, wi *backend.ActivityWorkItem) error {
	s, err := activityStateOf(wi)
	if err != nil {
		return err
	}
	return b.renewMessage(ctx, s.msg, b.opts.WorkItemQueueVisibility)
}

// poisonActivity sets aside an activity message tried too often and, when
// it names an orchestration, answers it with a non-retriable TaskFailed so
// the orchestration is not left waiting forever.
func (b *Backend) poisonActivity(ctx context.Context, m *queueMessage) {
	reason := fmt.Sprintf("work item %s was delivered %d times without completing", m.id, m.dequeueCount)
	if m.decodeErr != nil {
		reason = fmt.Sprintf("work item %s does not decode (delivered %d times): %v", m.id, m.dequeueCount, m.decodeErr)
	}
	if _, err := b.poison(ctx, m, reason); err != nil {
		b.log.Warn("moving poison work item failed", "error", err)
		return
	}
	if m.data == nil || m.data.TaskMessage == nil || m.data.TaskMessage.Event.Type != history.TaskScheduled {
		return
	}
	tm := m.data.TaskMessage
	failed := &history.Event{Type: history.TaskFailed, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: tm.Event.EventID,
		Reason: &reason, Failure: &history.FailureDetails{ErrorType: "PoisonMessage", ErrorMessage: reason, IsNonRetriable: true}}
	queue, _ := b.controlQueue(tm.OrchestrationInstance.InstanceID)
	if err := b.send(ctx, queue, b.newMessage(failed, tm.OrchestrationInstance, tm.OrchestrationInstance, m.data.Episode), 0); err != nil {
		b.log.Warn("failing the task of a poison work item failed", "error", err)
	}
}

// deliverActivity hands a work item to the dispatcher; false when ctx ended.
func (b *Backend) deliverActivity(ctx context.Context, m *queueMessage) bool {
	tm := m.data.TaskMessage
	wi := &backend.ActivityWorkItem{Instance: tm.OrchestrationInstance, Scheduled: tm.Event,
		DequeueCount: m.dequeueCount, Provider: &activityState{msg: m, data: m.data}}
	if m.data.Episode != nil {
		wi.Episode = *m.data.Episode
	}
	select {
	case b.activities <- wi:
		return true
	case <-ctx.Done():
		return false
	}
}
