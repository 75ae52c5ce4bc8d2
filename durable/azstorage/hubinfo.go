package azstorage

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable/backend"
)

var _ backend.HubInspector = (*Backend)(nil)

// InspectHub implements backend.HubInspector: the Partitions table's rows,
// each queue's approximate depth and oldest visible message, and a peek at
// the poison queue. It only reads (peeks leave messages untouched).
func (b *Backend) InspectHub(ctx context.Context, opts backend.HubInspectOptions) (*backend.HubInfo, error) {
	info := &backend.HubInfo{TaskHub: b.names.TaskHub(), PartitionScheme: "table"}
	rows, err := b.queryRows(ctx, b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	if err != nil {
		return nil, fmt.Errorf("azstorage: read %s: %w", b.names.PartitionsTable(), err)
	}
	owners := map[string]bool{}
	for _, r := range rows {
		l := leaseFromRow(r)
		info.Partitions = append(info.Partitions, backend.PartitionInfo{
			Name: l.Queue, CurrentOwner: l.CurrentOwner, NextOwner: l.NextOwner,
			OwnedSince: l.OwnedSince, LastRenewal: l.LastRenewal, ExpiresAt: l.ExpiresAt, IsDraining: l.IsDraining,
		})
		if l.CurrentOwner != "" {
			owners[l.CurrentOwner] = true
		}
	}
	sort.Slice(info.Partitions, func(i, j int) bool { return info.Partitions[i].Name < info.Partitions[j].Name })
	for w := range owners {
		info.Workers = append(info.Workers, w)
	}
	sort.Strings(info.Workers)

	type q struct{ name, kind string }
	var queues []q
	for _, n := range b.names.ControlQueues() {
		queues = append(queues, q{n, "control"})
	}
	queues = append(queues, q{b.names.WorkItemQueue(), "workitems"}, q{b.names.PoisonQueue(), "poison"})
	info.Queues = make([]backend.QueueInfo, len(queues))
	err = inParallel(len(queues), func(i int) error {
		qi, err := b.inspectQueue(ctx, queues[i].name)
		if err != nil {
			return err
		}
		qi.Kind = queues[i].kind
		info.Queues[i] = qi
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := min(opts.PoisonMessages, 32); n > 0 {
		resp, err := b.queue(b.names.PoisonQueue()).PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(n))})
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("azstorage: peek %s: %w", b.names.PoisonQueue(), err)
		}
		if err == nil {
			for _, m := range resp.Messages {
				pm := backend.PoisonMessage{MessageID: deref(m.MessageID), InsertedAt: derefTime(m.InsertionTime), Body: deref(m.MessageText)}
				if m.DequeueCount != nil {
					pm.DequeueCount = *m.DequeueCount
				}
				info.Poison = append(info.Poison, pm)
			}
		}
	}
	return info, nil
}

// inspectQueue reads a queue's approximate length and the insertion time
// of its first visible message. A queue that does not exist is reported
// with Exists false.
func (b *Backend) inspectQueue(ctx context.Context, name string) (backend.QueueInfo, error) {
	qi := backend.QueueInfo{Name: name}
	qc := b.queue(name)
	props, err := qc.GetProperties(ctx, nil)
	if isNotFound(err) {
		return qi, nil
	}
	if err != nil {
		return qi, fmt.Errorf("azstorage: properties of queue %s: %w", name, err)
	}
	qi.Exists = true
	if props.ApproximateMessagesCount != nil {
		qi.ApproximateMessages = int(*props.ApproximateMessagesCount)
	}
	if qi.ApproximateMessages == 0 {
		return qi, nil
	}
	peek, err := qc.PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(1))})
	if err != nil {
		return qi, fmt.Errorf("azstorage: peek queue %s: %w", name, err)
	}
	if len(peek.Messages) > 0 {
		qi.OldestMessage = derefTime(peek.Messages[0].InsertionTime)
	}
	return qi, nil
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
