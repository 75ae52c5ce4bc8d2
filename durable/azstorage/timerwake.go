package azstorage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/godurable/functions/durable/history"
)

// Delayed messages (durable timers, scheduled starts, delayed entity
// signals) are queue messages written invisible until their due time. A
// poller that has backed off to MaxPollingInterval would find them up to
// that long late, so this worker remembers the due time of every delayed
// message it writes:
//
//   - For a control queue whose partition it owns at the due time, it
//     takes the message itself at that instant: an UpdateMessage with the
//     pop receipt of the enqueue makes it invisible for the usual
//     visibility timeout (exactly what a dequeue does), and the message is
//     dispatched in process. The queue's own visibility is rounded up to
//     whole seconds; this is not.
//   - Otherwise (the claim failed, the partition is not owned, or the due
//     time is too far ahead to hold the message in memory) the queue's
//     poller polls at the time the message becomes visible and often for
//     a short while after it (pollBackoff.dueAt).
//
// Timers due that were written by other workers are learned from the
// history an episode loads (learnTimers).

// claimHorizon is how far ahead a delayed message is held in memory to be
// claimed at its due time; later ones rely on the poller's due times.
const claimHorizon = time.Hour

// noteDelayed records a delayed message just enqueued to queue: body is
// the text written, resp the enqueue response and due when the message is
// due.
func (b *Backend) noteDelayed(queue string, m *MessageData, body string, resp azqueue.EnqueueMessagesResponse, due time.Time) {
	i := b.names.ControlQueueIndex(queue)
	if i < 0 {
		return
	}
	// The queue shows it after the delay rounded up to whole seconds,
	// counted from when it received it (before now).
	visible := time.Now().Add(time.Duration(seconds(time.Until(due)+time.Second)) * time.Second)
	var em *azqueue.EnqueuedMessage
	if len(resp.Messages) == 1 {
		em = resp.Messages[0]
	}
	if em == nil || em.MessageID == nil || em.PopReceipt == nil || time.Until(due) > claimHorizon {
		b.pollers[i].dueAt(visible)
		return
	}
	qm := &queueMessage{queue: queue, id: *em.MessageID, text: body, data: m, dequeueCount: 1}
	if em.InsertionTime != nil {
		qm.insertedAt = *em.InsertionTime
	}
	receipt := *em.PopReceipt
	b.claimAt(due, func() {
		if !b.claimDue(i, qm, receipt) {
			b.pollers[i].dueAt(visible)
		}
	})
}

// claimAt runs claim once the wall clock has reached due. A durable timer
// is due at a UTC time and the queue hides its message by the storage
// clock, so the wait follows the wall clock rather than the monotonic one:
// it is checked when it ends (a clock stepped back meanwhile, such as a
// virtual machine's clock corrected by its host, would otherwise have the
// message taken before it is due) and cut into halves of what is left,
// at least a second each, so that a clock stepped forward is noticed
// within half the time that was left, not at the old due time.
func (b *Backend) claimAt(due time.Time, claim func()) {
	now := b.wallNow
	if now == nil {
		now = time.Now
	}
	wall := due.Round(0) // no monotonic reading: compared by the wall clock
	next := func() time.Duration {
		left := wall.Sub(now().Round(0))
		return min(left, max(left/2, time.Second))
	}
	var wait func()
	wait = func() {
		if d := next(); d > 0 {
			time.AfterFunc(d, wait)
			return
		}
		claim()
	}
	time.AfterFunc(max(next(), 0), wait)
}

// scheduledStart records a client's start scheduled for due (its row is
// written) and writes its wake-up message.
func (b *Backend) scheduledStart(ctx context.Context, queue string, m *MessageData, body string, resp azqueue.EnqueueMessagesResponse, due time.Time) {
	b.noteDelayed(queue, m, body, resp, due)
	if b.opts.WakeUpQueue {
		if err := b.sendWakeUp(ctx, m, time.Until(due)); err != nil {
			b.log.Warn("writing the wake-up message failed; an app scaled to zero may start late for it", "error", err)
		}
	}
}

// claimDue takes a due delayed message of an owned partition with the pop
// receipt of its enqueue and dispatches it in process, holding it as a
// dequeue would (msglock.go). It reports whether it did.
func (b *Backend) claimDue(i int, qm *queueMessage, receipt string) bool {
	rc := b.runCtx.Load()
	if rc == nil || (*rc).Err() != nil || !b.parts.owns(qm.queue) {
		return false
	}
	ctx := *rc
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	b.hold(qm, receipt, b.opts.ControlQueueVisibility, time.Now())
	if err := b.renewLock(cctx, qm.msgLock, b.opts.ControlQueueVisibility); err != nil {
		// Already taken by a poll, or gone: the poller handles it.
		l := qm.msgLock
		l.mu.Lock()
		if !l.done {
			b.releaseLocked(l)
		}
		l.mu.Unlock()
		b.log.Debug("claiming a due message failed; leaving it to the poller",
			"queue", qm.queue, "messageId", qm.id, "error", err)
		return false
	}
	b.dispatchBatch(ctx, i, []*queueMessage{qm})
	return true
}

// learnTimers records the fire times of the open timers of a history read
// from storage (timers another worker may have created), so the
// partition's poller polls when they come due.
func (b *Backend) learnTimers(instanceID string, events []*history.Event) {
	fired := map[int]bool{}
	for _, e := range events {
		if e.Type == history.TimerFired {
			fired[e.TimerID] = true
		}
	}
	_, i := b.controlQueue(instanceID)
	for _, e := range events {
		if e.Type == history.TimerCreated && !fired[e.EventID] && time.Until(e.FireAt) > 0 {
			// The queue's visibility was rounded up to whole seconds.
			b.pollers[i].dueAt(e.FireAt.Add(time.Second))
		}
	}
}

// noteAbandoned records that a message put back on a control queue shows
// again after delay.
func (b *Backend) noteAbandoned(queue string, delay time.Duration) {
	if i := b.names.ControlQueueIndex(queue); i >= 0 && delay > 0 {
		b.pollers[i].dueAt(time.Now().Add(time.Duration(seconds(delay)) * time.Second))
	}
}

// WakeUpQueue is the queue "{hub}-wakeup" that a queue-triggered function
// of the app watches: a worker writes a small message to it for every
// delayed message, visible at the same time, so that a platform that
// scales an idle app to zero (the Consumption plan) starts an instance
// when a timer comes due. It is never one of the hub's own queues.
func (n Names) WakeUpQueue() string { return n.lc() + "-wakeup" }

// wakeUpMessage is the body of a wake-up message (base64 of this JSON, the
// Functions queue trigger's default encoding).
type wakeUpMessage struct {
	TaskHub    string    `json:"taskHub"`
	InstanceID string    `json:"instanceId"`
	Event      string    `json:"event"`
	Due        time.Time `json:"due"`
}

// startWakeUp writes, when the hub uses a wake-up queue and m is delayed,
// its wake-up message concurrently with m itself; wait returns once it is
// written. A failure is logged, not returned: the delayed message is
// written, and a running worker takes it at its due time anyway.
func (b *Backend) startWakeUp(ctx context.Context, m *MessageData, delay time.Duration) (wait func()) {
	if delay <= 0 || !b.opts.WakeUpQueue {
		return func() {}
	}
	done := make(chan error, 1)
	go func() { done <- b.sendWakeUp(ctx, m, delay) }()
	return func() {
		if err := <-done; err != nil {
			b.log.Warn("writing the wake-up message failed; an app scaled to zero may start late for it", "error", err)
		}
	}
}

// sendWakeUp writes the wake-up message for delayed message m, visible
// after delay.
func (b *Backend) sendWakeUp(ctx context.Context, m *MessageData, delay time.Duration) error {
	w := wakeUpMessage{TaskHub: b.opts.TaskHub, Due: time.Now().Add(delay).UTC()}
	if m.TaskMessage != nil {
		w.InstanceID = m.TaskMessage.OrchestrationInstance.InstanceID
		if m.TaskMessage.Event != nil {
			w.Event = m.TaskMessage.Event.Type.String()
		}
	}
	raw, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("azstorage: encode wake-up message: %w", err)
	}
	q := b.names.WakeUpQueue()
	opts := enqueueOptions(delay)
	// Unread wake-up messages (no function watching) expire a day after
	// they are due.
	opts.TimeToLive = to.Ptr(seconds(delay) + 24*3600)
	if _, err := b.queue(q).EnqueueMessage(ctx, base64.StdEncoding.EncodeToString(raw), opts); err != nil {
		return fmt.Errorf("azstorage: enqueue wake-up message for %q to %s: %w", w.InstanceID, q, err)
	}
	return nil
}

// WakeUp makes every poller of this worker poll at once: the wake-up
// function calls it when the platform delivers a wake-up message (the
// Functions host then deletes that message).
func (b *Backend) WakeUp() {
	for _, p := range b.pollers {
		p.poke()
	}
	b.actBackoff.poke()
}
