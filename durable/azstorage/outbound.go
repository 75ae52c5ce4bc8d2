package azstorage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable/history"
)

// maxQueuePayload is the largest serialized message sent inline; larger
// ones go to the large-message container (MessageManager's 45 KiB).
const maxQueuePayload = 45 * 1024

// controlQueue returns the control queue that owns an instance.
func (b *Backend) controlQueue(instanceID string) (string, int) {
	i := PartitionIndex(instanceID, b.opts.PartitionCount)
	return b.names.ControlQueue(i), i
}

// newMessage wraps an event in the MessageData envelope.
func (b *Backend) newMessage(e *history.Event, target, sender history.OrchestrationInstance, episode *int) *MessageData {
	m := &MessageData{
		ActivityID:     newGUID(),
		SequenceNumber: b.seq.Add(1),
		Episode:        episode,
		Sender:         &sender,
		TaskMessage: &TaskMessage{
			Event:                 e,
			OrchestrationInstance: target,
		},
	}
	if e.Type == history.TaskScheduled || (e.Type == history.ExecutionStarted && e.Parent != nil) {
		m.TaskMessage.ExecutionContext = &ExecutionContext{OrchestrationTags: map[string]string{}}
	}
	return m
}

// send enqueues a message, offloading it to a blob when it is too large,
// and wakes this process's poller of that queue.
func (b *Backend) send(ctx context.Context, queue string, m *MessageData, delay time.Duration) error {
	_, err := b.sendReportingBlob(ctx, queue, m, delay)
	return err
}

// sendReportingBlob is send that also returns the name of the blob the
// message was offloaded to ("" if it went inline).
func (b *Backend) sendReportingBlob(ctx context.Context, queue string, m *MessageData, delay time.Duration) (string, error) {
	return b.enqueue(ctx, queue, m, delay, true)
}

// enqueue is send with the choice of in-process delivery: with allowLocal
// false the message always goes through its queue.
func (b *Backend) enqueue(ctx context.Context, queue string, m *MessageData, delay time.Duration, allowLocal bool) (string, error) {
	if delay <= 0 {
		delay = signalDelay(m)
	}
	body, blob, err := b.encodeQueueMessage(ctx, m)
	if err != nil {
		return "", err
	}
	opts := enqueueOptions(delay)
	local := b.localDelivery(queue, delay)
	clientStart := m.TaskMessage.Event.Type == history.ExecutionStarted && m.TaskMessage.Event.Parent == nil
	if clientStart || !allowLocal {
		// Its Instances row is written after the enqueue and the start
		// dedupe reads it: CreateInstance wakes the poller once it is.
		local = nil
	}
	if local != nil {
		// Delivered in process: the message is enqueued invisible for a
		// short visibility timeout that this worker keeps extending while
		// it holds the message (msglock.go), and handed over directly,
		// saving a dequeue and a poll's wait. If this worker dies, the
		// message shows up for the next reader within one timeout.
		opts.VisibilityTimeout = to.Ptr(seconds(local.visibility))
	}
	wakeUpWritten := b.startWakeUp(ctx, m, delay) // timerwake.go
	sent := time.Now()
	resp, tried, err := b.enqueueOnce(ctx, queue, m, body, opts)
	wakeUpWritten()
	if err == nil && delay > 0 {
		b.noteDelayed(queue, m, body, resp, sent.Add(delay)) // timerwake.go
	}
	if err == nil && local != nil && len(resp.Messages) == 1 {
		local.deliver(b.holdEnqueued(queue, body, m, resp.Messages[0], local.visibility, sent))
		return blob, nil
	}
	if err != nil {
		// ErrUnavailable when no copy can have been enqueued; otherwise a
		// copy may be in the queue (an attempt's answer was lost).
		return "", unavailable(fmt.Errorf("azstorage: enqueue %s for %q to %s: %w", m.TaskMessage.Event.Type, m.TaskMessage.OrchestrationInstance.InstanceID, queue, err), tried)
	}
	if delay <= 0 && !clientStart {
		if queue == b.names.WorkItemQueue() {
			b.actBackoff.poke()
		} else if i := b.names.ControlQueueIndex(queue); i >= 0 {
			b.wakePartition(i)
		}
	}
	return blob, nil
}

// enqueueOnce enqueues body. An entity's messages carry request ids the
// entity deduplicates by, so when an attempt's answer is lost (a copy may
// be in the queue) the same message is sent again rather than reporting
// an ambiguity; other messages are sent as they are, once.
func (b *Backend) enqueueOnce(ctx context.Context, queue string, m *MessageData, body string,
	opts *azqueue.EnqueueMessageOptions) (azqueue.EnqueueMessagesResponse, *attempts, error) {
	dedupedByReceiver := strings.HasPrefix(m.TaskMessage.OrchestrationInstance.InstanceID, "@") &&
		m.TaskMessage.Event.Type == history.EventRaised
	all := &attempts{}
	for try := 0; ; try++ {
		actx, tried := trackAttempts(ctx)
		resp, err := b.queue(queue).EnqueueMessage(actx, body, opts)
		if tried.MaybeApplied() {
			all.maybeApplied = true
		}
		if err == nil || !dedupedByReceiver || !tried.MaybeApplied() || try == 2 || ctx.Err() != nil {
			return resp, all, err
		}
		b.log.Debug("an entity message's enqueue may or may not have happened; sending it again", "queue", queue, "error", err)
	}
}

// encodeQueueMessage serializes m for a queue, as raw JSON or base64, and
// offloads it to the large-message container when it is over 45 KiB.
func (b *Backend) encodeQueueMessage(ctx context.Context, m *MessageData) (body, blob string, err error) {
	raw, err := EncodeMessage(m)
	if err != nil {
		return "", "", fmt.Errorf("azstorage: encode message: %w", err)
	}
	if len(raw) > maxQueuePayload {
		blob = largeMessageBlobName(m.TaskMessage.OrchestrationInstance.InstanceID, m.ActivityID, m.TaskMessage.Event.Type)
		if err := b.uploadCompressed(ctx, blob, raw); err != nil {
			return "", "", err
		}
		wrapper := &MessageData{ActivityID: "00000000-0000-0000-0000-000000000000", CompressedBlobName: &blob}
		if raw, err = EncodeMessage(wrapper); err != nil {
			return "", "", fmt.Errorf("azstorage: encode large-message wrapper: %w", err)
		}
	}
	if b.opts.Base64Messages {
		return encodeBase64(raw), blob, nil
	}
	return string(raw), blob, nil
}

// decodeQueueMessage reads a body written by any Durable Task writer: raw
// JSON or base64, inline or offloaded to a blob.
func (b *Backend) decodeQueueMessage(ctx context.Context, body []byte) (*MessageData, error) {
	m, err := decodeMessage(body)
	if err != nil {
		return nil, err
	}
	if m.CompressedBlobName != nil && *m.CompressedBlobName != "" && m.TaskMessage == nil {
		raw, err := b.downloadCompressed(ctx, *m.CompressedBlobName)
		if err != nil {
			return nil, err
		}
		inner, err := decodeMessage(raw)
		if err != nil {
			return nil, fmt.Errorf("azstorage: large message %s: %w", *m.CompressedBlobName, err)
		}
		inner.CompressedBlobName = m.CompressedBlobName
		return inner, nil
	}
	if m.TaskMessage == nil || m.TaskMessage.Event == nil {
		return nil, fmt.Errorf("azstorage: message has no TaskMessage event")
	}
	return m, nil
}

// signalDelay is the visibility delay of a scheduled entity signal: an
// EventRaised to an "@…" instance named "op@{due time}" waits
// until its due time, at most 6 days (the entity re-checks the time).
func signalDelay(m *MessageData) time.Duration {
	if m.TaskMessage == nil || m.TaskMessage.Event == nil {
		return 0
	}
	e := m.TaskMessage.Event
	if e.Type != history.EventRaised || !strings.HasPrefix(m.TaskMessage.OrchestrationInstance.InstanceID, "@") ||
		len(e.Name) < 4 || e.Name[2] != '@' {
		return 0
	}
	due, err := history.ParseTime(e.Name[3:])
	if err != nil {
		return 0
	}
	return min(time.Until(due), 6*24*time.Hour)
}

// localTarget hands a just-enqueued message to this worker's own
// dispatching.
type localTarget struct {
	visibility time.Duration
	deliver    func(*queueMessage)
}

// localDelivery says whether a message for queue can be delivered in
// process: activities always (this worker runs them), control-queue
// messages when this worker currently reads that partition.
func (b *Backend) localDelivery(queue string, delay time.Duration) *localTarget {
	rc := b.runCtx.Load()
	if delay > 0 || rc == nil || (*rc).Err() != nil {
		return nil
	}
	ctx := *rc
	if queue == b.names.WorkItemQueue() {
		return &localTarget{visibility: b.opts.WorkItemQueueVisibility, deliver: func(qm *queueMessage) {
			go func() {
				if !b.deliverActivity(ctx, qm) { // ends with ctx if no dispatcher takes it
					b.letGo(ctx, []*queueMessage{qm})
				}
			}()
		}}
	}
	i := b.names.ControlQueueIndex(queue)
	if i < 0 || !b.parts.owns(queue) {
		return nil
	}
	return &localTarget{visibility: b.opts.ControlQueueVisibility, deliver: func(qm *queueMessage) {
		b.dispatchBatch(ctx, i, []*queueMessage{qm})
	}}
}
