package azstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"

	"github.com/godurable/functions/internal/telemetry"
)

// PoisonQueue is where messages that cannot be processed are set aside:
// "{hub}-poison": messages that do not decode, and messages that were
// delivered more than MaxDequeueCount times to be processed and never
// were (their episodes keep failing). DurableTask itself retries such
// messages forever with a growing delay; moving them keeps a partition
// flowing and keeps the message for inspection. Messages deferred on
// purpose are never moved here. .NET workers never read this queue.
func (n Names) PoisonQueue() string { return n.lc() + "-poison" }

// queueKind names the kind of a queue of the hub, for metrics: "workitems"
// or "control".
func (n Names) queueKind(queue string) string {
	if queue == n.WorkItemQueue() {
		return "workitems"
	}
	return "control"
}

// poisonRecord is what the poison queue holds for each message.
type poisonRecord struct {
	Reason       string    `json:"reason"`
	Queue        string    `json:"queue"`
	MessageID    string    `json:"messageId"`
	DequeueCount int       `json:"dequeueCount"`
	InstanceID   string    `json:"instanceId,omitempty"`
	MovedAt      time.Time `json:"movedAt"`
	Body         string    `json:"body"`
}

var instanceIDInBody = regexp.MustCompile(`"InstanceId"\s*:\s*"([^"]+)"`)

// isPoison reports a message that has been tried too often. Deliveries
// this process deferred on purpose do not count (deferralLog).
func (b *Backend) isPoison(m *queueMessage) bool {
	return m.dequeueCount-b.deferrals.count(m.id) > b.opts.MaxDequeueCount
}

// deferralLog counts, per message id, the deliveries this process put
// back on purpose (a start waiting for its Instances row, a response
// waiting for its request's checkpoint), so that a message whose wait is
// over is not taken for poison because of them. It lives in memory: a
// message deferred by another worker counts those deliveries, which is
// what a message that waited more than MaxDequeueCount times (hours of
// backoff) elsewhere deserves anyway.
type deferralLog struct {
	mu      sync.Mutex
	entries map[string]deferral
}

type deferral struct {
	n    int
	last time.Time
}

// deferralMemory is how long a deferral is remembered: past the longest
// backoff, a message not seen again is gone.
const deferralMemory = 3 * maxAbandonDelay

func (l *deferralLog) add(id string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = map[string]deferral{}
	}
	if len(l.entries) >= 1024 {
		for k, d := range l.entries {
			if now.Sub(d.last) > deferralMemory {
				delete(l.entries, k)
			}
		}
	}
	d := l.entries[id]
	l.entries[id] = deferral{n: d.n + 1, last: now}
}

func (l *deferralLog) count(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.entries[id].n
}

// poison moves a message to the poison queue with the reason, and logs it.
// It returns the instance the message names, when one can be told.
func (b *Backend) poison(ctx context.Context, m *queueMessage, reason string) (string, error) {
	instance := ""
	if m.data != nil && m.data.TaskMessage != nil {
		instance = m.data.TaskMessage.OrchestrationInstance.InstanceID
	} else if sub := instanceIDInBody.FindStringSubmatch(m.text); sub != nil {
		instance = sub[1]
	}
	rec := poisonRecord{Reason: reason, Queue: m.queue, MessageID: m.id, DequeueCount: m.dequeueCount,
		InstanceID: instance, MovedAt: time.Now().UTC(), Body: m.text}
	body, _ := json.Marshal(rec)
	if len(body) > 60*1024 { // keep the record under the queue's 64 KiB
		rec.Body = rec.Body[:min(len(rec.Body), 40*1024)] + "…(truncated)"
		body, _ = json.Marshal(rec)
	}
	if err := b.writePoisonRecord(ctx, string(body)); err != nil {
		// Not moved: the message is put back to be tried again later
		// rather than held (and hidden) for ever.
		if perr := b.putBack(ctx, m, abandonBackoff(m.dequeueCount)); perr != nil {
			b.log.Warn("putting back a poison message that could not be moved failed; it shows again when its visibility ends",
				"queue", m.queue, "messageId", m.id, "error", perr)
		}
		return instance, fmt.Errorf("azstorage: move message %s to %s: %w", m.id, b.names.PoisonQueue(), err)
	}
	b.log.Error("moved a poison message aside", "queue", m.queue, "messageId", m.id, "dequeueCount", m.dequeueCount,
		"instanceId", instance, "reason", reason, "poisonQueue", b.names.PoisonQueue())
	telemetry.PoisonMessage(b.names.queueKind(m.queue))
	err := b.deleteMessage(ctx, m)
	m.deleted = true
	return instance, err
}

// maxAbandonDelay is the longest abandon backoff (TaskHubQueue's 600 s):
// a deferred message is retried this often for as long as it comes back,
// and never moved to the poison queue.
const maxAbandonDelay = 600 * time.Second

// writePoisonRecord adds a record to the poison queue, creating it first.
func (b *Backend) writePoisonRecord(ctx context.Context, body string) error {
	q := b.queue(b.names.PoisonQueue())
	if _, err := q.Create(ctx, nil); err != nil && !queueerror.HasCode(err, queueerror.QueueAlreadyExists) {
		return fmt.Errorf("create: %w", err)
	}
	if _, err := q.EnqueueMessage(ctx, body, enqueueOptions(0)); err != nil {
		return err
	}
	return nil
}
