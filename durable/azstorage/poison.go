package azstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"

	"github.com/godurable/functions/internal/telemetry"
)

// PoisonQueue is where messages that cannot be processed are set aside:
// "{hub}-poison". DurableTask itself retries such messages forever with
// a growing delay; moving them keeps a partition flowing and keeps the
// message for inspection. .NET workers never read this queue.
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

// isPoison reports a message that has been tried too often.
func (b *Backend) isPoison(m *queueMessage) bool {
	return m.dequeueCount > b.opts.MaxDequeueCount
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
	q := b.queue(b.names.PoisonQueue())
	if _, err := q.Create(ctx, nil); err != nil && !queueerror.HasCode(err, queueerror.QueueAlreadyExists) {
		return instance, fmt.Errorf("azstorage: create %s: %w", b.names.PoisonQueue(), err)
	}
	if len(body) > 60*1024 { // keep the record under the queue's 64 KiB
		rec.Body = rec.Body[:min(len(rec.Body), 40*1024)] + "…(truncated)"
		body, _ = json.Marshal(rec)
	}
	if _, err := q.EnqueueMessage(ctx, string(body), enqueueOptions(0)); err != nil {
		return instance, fmt.Errorf("azstorage: move message %s to %s: %w", m.id, b.names.PoisonQueue(), err)
	}
	b.log.Error("moved a poison message aside", "queue", m.queue, "messageId", m.id, "dequeueCount", m.dequeueCount,
		"instanceId", instance, "reason", reason, "poisonQueue", b.names.PoisonQueue())
	telemetry.PoisonMessage(b.names.queueKind(m.queue))
	err := b.deleteMessage(ctx, m)
	m.deleted = true
	return instance, err
}
