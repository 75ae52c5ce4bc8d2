package azstorage

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"
)

// maxVisibilityDelay is the longest delay Azure Queues accept.
const maxVisibilityDelay = 7 * 24 * time.Hour

// queueMessage is one dequeued message: its receipt and decoded content.
type queueMessage struct {
	queue        string
	id           string
	*msgLock            // the pop receipt, shared with every copy of this message
	text         string // the raw body, needed to abandon (UpdateMessage rewrites it)
	dequeueCount int
	insertedAt   time.Time
	data         *MessageData // nil if the body did not decode
	decodeErr    error
	deleted      bool // already removed from its queue (moved to poison)
	// carriedTo is set on an activity result handed over in process: the
	// control queue it would have been sent to. queue, id and popReceipt
	// are then those of the activity's work-item message (carried.go).
	carriedTo string
}

func (b *Backend) queue(name string) *azqueue.QueueClient { return b.c.Queue.NewQueueClient(name) }

// seconds rounds a delay up to whole seconds, clamped to what queues accept.
func seconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	if d > maxVisibilityDelay {
		d = maxVisibilityDelay
	}
	return int32(math.Ceil(d.Seconds()))
}

// dequeue receives up to n messages and decodes them.
func (b *Backend) dequeue(ctx context.Context, queue string, n int, visibility time.Duration) ([]*queueMessage, error) {
	requested := time.Now()
	resp, err := b.queue(queue).DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{
		NumberOfMessages:  to.Ptr(int32(n)),
		VisibilityTimeout: to.Ptr(max(seconds(visibility), 1)),
	})
	if err != nil {
		return nil, fmt.Errorf("azstorage: dequeue from %s: %w", queue, err)
	}
	out := make([]*queueMessage, 0, len(resp.Messages))
	for _, m := range resp.Messages {
		qm := &queueMessage{queue: queue, id: deref(m.MessageID), text: deref(m.MessageText)}
		if m.DequeueCount != nil {
			qm.dequeueCount = int(*m.DequeueCount)
		}
		if m.InsertionTime != nil {
			qm.insertedAt = *m.InsertionTime
		}
		qm.data, qm.decodeErr = b.decodeQueueMessage(ctx, []byte(qm.text))
		b.hold(qm, deref(m.PopReceipt), visibility, requested)
		out = append(out, qm)
	}
	return out, nil
}

// pollQueue dequeues batches of up to n messages from queue until ctx
// ends, handing each non-empty batch to handle (false stops the loop).
// Empty polls and failures wait on bo, which grows the idle delay; a
// batch resets it.
func (b *Backend) pollQueue(ctx context.Context, queue string, n int, visibility time.Duration, bo *pollBackoff,
	log *slog.Logger, handle func([]*queueMessage) bool) {
	for ctx.Err() == nil {
		msgs, err := b.dequeue(ctx, queue, n, visibility)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("queue poll failed", "queue", queue, "error", err)
				bo.wait(ctx)
			}
			continue
		}
		if len(msgs) == 0 {
			bo.wait(ctx)
			continue
		}
		bo.reset()
		if !handle(msgs) {
			return
		}
	}
}

// deleteMessage removes a processed message. A message already gone (or
// whose receipt changed because it was redelivered) is not an error for
// the caller: it will be handled as a duplicate.
func (b *Backend) deleteMessage(ctx context.Context, m *queueMessage) error {
	if m.deleted {
		return nil
	}
	l := m.msgLock
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done || l.lost {
		return nil // deleted already, or out of this worker's hands
	}
	defer b.releaseLocked(l)
	_, err := b.queue(m.queue).DeleteMessage(ctx, m.id, l.popReceipt, nil)
	switch {
	case err == nil || isNotFound(err):
		return nil
	case isPopReceiptMismatch(err):
		// A renewal whose answer was lost changed the receipt, or the
		// message was taken by another reader after its lock lapsed: it
		// comes back and is dropped as a duplicate.
		b.log.Info("message receipt is stale; it will be delivered again and dropped as a duplicate", "queue", m.queue, "messageId", m.id)
		return nil
	}
	return fmt.Errorf("azstorage: delete message %s from %s: %w", m.id, m.queue, err)
}

// abandonMessage makes a message visible again after delay.
func (b *Backend) abandonMessage(ctx context.Context, m *queueMessage, delay time.Duration) error {
	if m.deleted {
		return nil
	}
	if m.carriedTo != "" {
		return b.materialize(ctx, m, delay)
	}
	return b.putBack(ctx, m, delay)
}

// putBack makes m's message visible again after delay and ends this
// worker's hold on it, whatever the outcome: when the update fails the
// hold still stops, and the message shows once its current visibility
// ends.
func (b *Backend) putBack(ctx context.Context, m *queueMessage, delay time.Duration) error {
	l := m.msgLock
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done || l.lost {
		return nil
	}
	defer b.releaseLocked(l)
	resp, err := b.queue(m.queue).UpdateMessage(ctx, m.id, l.popReceipt, m.text,
		&azqueue.UpdateMessageOptions{VisibilityTimeout: to.Ptr(seconds(delay))})
	if err != nil {
		if isNotFound(err) || isPopReceiptMismatch(err) {
			// Gone, or a retried update whose first attempt went through
			// (the receipt it sent is stale now): either way the message
			// is out of this worker's hands, as abandoning wants.
			l.lost = true
			return nil
		}
		return fmt.Errorf("azstorage: abandon message %s on %s: %w", m.id, m.queue, err)
	}
	if resp.PopReceipt != nil {
		l.popReceipt = *resp.PopReceipt
	}
	b.noteAbandoned(m.queue, delay) // timerwake.go
	return nil
}

// renewMessage keeps a message invisible for another visibility period.
func (b *Backend) renewMessage(ctx context.Context, m *queueMessage, visibility time.Duration) error {
	return b.renewLock(ctx, m.msgLock, visibility)
}

func isPopReceiptMismatch(err error) bool {
	return queueerror.HasCode(err, queueerror.PopReceiptMismatch)
}

// abandonBackoff is DurableTask.AzureStorage's abandon delay: 2^dequeueCount
// seconds, at most 10 minutes.
func abandonBackoff(dequeueCount int) time.Duration {
	if dequeueCount > 9 {
		return 600 * time.Second
	}
	return min(time.Duration(1<<max(dequeueCount, 0))*time.Second, 600*time.Second)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
