package azstorage

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable/backend"
)

// A message this worker has dequeued, or enqueued invisible to hand it
// over in process, is hidden from every other reader only for a short
// visibility timeout (ControlQueueVisibility, WorkItemQueueVisibility),
// which this worker keeps extending while it holds the message. When the
// process dies the extensions stop, and the message is visible to the
// next owner of its queue within one timeout, instead of the minutes a
// timeout long enough for any episode or activity would cost.
//
// msgLock is that hold: the message's current pop receipt, shared by every
// in-memory copy of the message (an activity result carried in process
// shares its work item's). Every operation on the message — renew,
// delete, abandon — holds mu, so a renewal's new receipt is never raced by
// a delete that still has the old one.
type msgLock struct {
	mu         sync.Mutex
	queue, id  string
	text       string // UpdateMessage rewrites the body, so it is sent again as is
	popReceipt string
	visibility time.Duration
	renewedAt  time.Time // when the current invisibility period began (request sent)
	heldSince  time.Time
	what       string // the message's event and instance, for logs
	lost       bool   // the receipt is no longer valid: the message is out of this worker's hands
	done       bool   // deleted, abandoned or released: no more renewals
}

// heldMessages are the locks the renewal loop keeps alive.
type heldMessages struct {
	mu  sync.Mutex
	set map[*msgLock]struct{}
}

// hold attaches a new lock to m, taken at requested (when the dequeue or
// enqueue that hid the message was sent), and starts renewing it.
func (b *Backend) hold(m *queueMessage, popReceipt string, visibility time.Duration, requested time.Time) {
	l := &msgLock{queue: m.queue, id: m.id, text: m.text, popReceipt: popReceipt, visibility: visibility, renewedAt: requested, heldSince: requested}
	if m.data != nil && m.data.TaskMessage != nil && m.data.TaskMessage.Event != nil {
		l.what = fmt.Sprintf("%s for %q", m.data.TaskMessage.Event.Type, m.data.TaskMessage.OrchestrationInstance.InstanceID)
	}
	m.msgLock = l
	b.held.mu.Lock()
	if b.held.set == nil {
		b.held.set = map[*msgLock]struct{}{}
	}
	b.held.set[l] = struct{}{}
	b.held.mu.Unlock()
}

// holdEnqueued is the message m this worker just enqueued to queue
// (invisible for visibility, the enqueue sent at sent), held with the
// pop receipt of the enqueue, to be handed over in process.
func (b *Backend) holdEnqueued(queue, body string, m *MessageData, em *azqueue.EnqueuedMessage, visibility time.Duration, sent time.Time) *queueMessage {
	qm := &queueMessage{queue: queue, id: deref(em.MessageID), text: body, data: m, dequeueCount: 1}
	if em.InsertionTime != nil {
		qm.insertedAt = *em.InsertionTime
	}
	b.hold(qm, deref(em.PopReceipt), visibility, sent)
	return qm
}

// releaseLocked stops renewing l; l.mu is held.
func (b *Backend) releaseLocked(l *msgLock) {
	l.done = true
	b.held.mu.Lock()
	delete(b.held.set, l)
	b.held.mu.Unlock()
}

// supersede stops a hold whose message was delivered again: the receipt
// it has is stale, and the newer copy's hold takes over.
func (b *Backend) supersede(l *msgLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.lost = true
		b.releaseLocked(l)
	}
}

// heldCount is the number of messages being kept invisible.
func (b *Backend) heldCount() int {
	b.held.mu.Lock()
	defer b.held.mu.Unlock()
	return len(b.held.set)
}

// heldSummary describes the held messages (for tests and logs).
func (b *Backend) heldSummary() []string {
	b.held.mu.Lock()
	defer b.held.mu.Unlock()
	var out []string
	for l := range b.held.set {
		out = append(out, fmt.Sprintf("%s/%s (%s) held since %v", l.queue, l.id, l.what, l.heldSince.Format(time.RFC3339Nano)))
	}
	return out
}

// renewLock extends the message's invisibility by visibility from now.
// It fails with backend.ErrWorkItemLost when the message is no longer
// this worker's (deleted, abandoned, or taken by another reader after a
// lapse).
func (b *Backend) renewLock(ctx context.Context, l *msgLock, visibility time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return b.renewLocked(ctx, l, visibility)
}

func (b *Backend) renewLocked(ctx context.Context, l *msgLock, visibility time.Duration) error {
	if l.done || l.lost {
		return fmt.Errorf("azstorage: renew message %s on %s: %w", l.id, l.queue, backend.ErrWorkItemLost)
	}
	sent := time.Now()
	resp, err := b.queue(l.queue).UpdateMessage(ctx, l.id, l.popReceipt, l.text,
		&azqueue.UpdateMessageOptions{VisibilityTimeout: to.Ptr(max(seconds(visibility), 1))})
	if err != nil {
		if isNotFound(err) || isPopReceiptMismatch(err) {
			// Gone, taken by another reader after the lock lapsed, or a
			// retried update whose first attempt went through and whose
			// new receipt never arrived. The message is delivered again
			// (at the latest when that attempt's visibility ends) and the
			// copy in hand is dropped or tolerated as a duplicate.
			l.lost = true
			b.releaseLocked(l)
			return fmt.Errorf("azstorage: renew message %s on %s: %w (%w)", l.id, l.queue, backend.ErrWorkItemLost, err)
		}
		return fmt.Errorf("azstorage: renew message %s on %s: %w", l.id, l.queue, err)
	}
	if resp.PopReceipt != nil {
		l.popReceipt = *resp.PopReceipt
	}
	l.visibility = visibility
	l.renewedAt = sent
	return nil
}

// maxControlHold bounds how long a control-queue message is kept hidden:
// episodes take seconds, so a message held this long has been forgotten
// by a path that neither deleted nor released it. It is let go (it
// reappears and is handled, or dropped as a duplicate) rather than hidden
// for ever. Work items are held as long as their activity runs.
const maxControlHold = 15 * time.Minute

// renewInterval is how often the renewal loop looks at the held messages.
func (b *Backend) renewInterval() time.Duration {
	return max(min(b.opts.ControlQueueVisibility, b.opts.WorkItemQueueVisibility)/6, 100*time.Millisecond)
}

// renewHeld keeps every held message invisible until ctx ends: a message
// whose current period is a third gone is extended by a full period.
func (b *Backend) renewHeld(ctx context.Context) {
	t := time.NewTicker(b.renewInterval())
	defer t.Stop()
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		b.held.mu.Lock()
		var due []*msgLock
		for l := range b.held.set {
			due = append(due, l)
		}
		b.held.mu.Unlock()
		for _, l := range due {
			if !l.mu.TryLock() {
				continue // being deleted, abandoned or renewed right now
			}
			if l.done || l.lost || now.Sub(l.renewedAt) < l.visibility/3 {
				l.mu.Unlock()
				continue
			}
			if l.queue != b.names.WorkItemQueue() && now.Sub(l.heldSince) > maxControlHold {
				b.log.Warn("letting go of a message held too long; it will be delivered again", "queue", l.queue, "messageId", l.id, "message", l.what,
					"heldSince", l.heldSince)
				b.releaseLocked(l)
				l.mu.Unlock()
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				l.mu.Unlock()
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer l.mu.Unlock()
				rctx, cancel := context.WithTimeout(ctx, l.visibility)
				defer cancel()
				if err := b.renewLocked(rctx, l, l.visibility); err != nil && ctx.Err() == nil {
					b.log.Warn("keeping a message invisible failed", "queue", l.queue, "messageId", l.id, "error", err)
				}
			}()
		}
	}
}

// letGo makes messages this worker will not process visible again at
// once (a session dropped at shutdown or on losing its partition, work
// items no dispatcher took), so the next reader need not wait out their
// visibility timeout. Carried results are sent to their control queue.
func (b *Backend) letGo(ctx context.Context, msgs []*queueMessage) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = inParallel(len(msgs), func(i int) error {
		m := msgs[i]
		if err := b.abandonMessage(ctx, m, 0); err != nil {
			if m.carriedTo != "" {
				b.log.Warn("sending a carried activity result to its control queue failed; the activity will run again",
					"instanceId", m.data.TaskMessage.OrchestrationInstance.InstanceID, "error", err)
			} else {
				b.log.Debug("releasing a message failed; it reappears when its visibility ends", "messageId", m.id, "error", err)
			}
		}
		return nil
	})
}
