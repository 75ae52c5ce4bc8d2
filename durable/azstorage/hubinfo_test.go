package azstorage

import (
	"context"
	"testing"
	"time"

	"github.com/godurable/functions/durable/backend"
)

// InspectHub reads what storage holds: the Partitions rows (with the owner
// once a worker has claimed them), queue depths with the oldest message,
// and the poison queue's messages, and changes none of it.
func TestInspectHubReadsPartitionsQueuesAndPoison(t *testing.T) {
	b := newTestBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	info, err := b.InspectHub(ctx, backend.HubInspectOptions{PoisonMessages: 5})
	if err != nil {
		t.Fatal(err)
	}
	if info.TaskHub != b.names.TaskHub() || info.PartitionScheme != "table" || len(info.Partitions) != 4 || len(info.Workers) != 0 {
		t.Fatalf("fresh hub: %+v", info)
	}
	if info.Partitions[0].Name != b.names.ControlQueue(0) || info.Partitions[0].CurrentOwner != "" {
		t.Fatalf("partition 0 of a fresh hub: %+v", info.Partitions[0])
	}
	if len(info.Queues) != 6 || info.Queues[5].Kind != "poison" || info.Queues[5].Exists {
		t.Fatalf("queues of a fresh hub (no poison queue yet): %+v", info.Queues)
	}

	// Two messages in the work-item queue, one in the poison queue.
	wq := b.queue(b.names.WorkItemQueue())
	for _, text := range []string{"one", "two"} {
		if _, err := wq.EnqueueMessage(ctx, text, nil); err != nil {
			t.Fatal(err)
		}
	}
	pq := b.queue(b.names.PoisonQueue())
	if _, err := pq.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pq.EnqueueMessage(ctx, `{"reason":"undecodable"}`, nil); err != nil {
		t.Fatal(err)
	}
	info, err = b.InspectHub(ctx, backend.HubInspectOptions{PoisonMessages: 5})
	if err != nil {
		t.Fatal(err)
	}
	work := info.Queues[4]
	if work.Name != b.names.WorkItemQueue() || work.Kind != "workitems" || work.ApproximateMessages != 2 || work.OldestMessage.IsZero() ||
		time.Since(work.OldestMessage) > time.Minute {
		t.Fatalf("work-item queue: %+v", work)
	}
	if !info.Queues[5].Exists || info.Queues[5].ApproximateMessages != 1 {
		t.Fatalf("poison queue: %+v", info.Queues[5])
	}
	if len(info.Poison) != 1 || info.Poison[0].Body != `{"reason":"undecodable"}` || info.Poison[0].MessageID == "" {
		t.Fatalf("poison messages: %+v", info.Poison)
	}
	// Peeking left the messages visible.
	msgs, err := wq.DequeueMessages(ctx, nil)
	if err != nil || len(msgs.Messages) != 1 {
		t.Fatalf("the work items must stay visible after inspection: %v %d", err, len(msgs.Messages))
	}

	// Once the worker runs, the partitions name it as their owner.
	if _, err := wq.ClearMessages(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = b.Stop(ctx)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err = b.InspectHub(ctx, backend.HubInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		owned := 0
		for _, p := range info.Partitions {
			if p.CurrentOwner == "test-worker" && p.ExpiresAt.After(time.Now()) {
				owned++
			}
		}
		if owned == 4 && len(info.Workers) == 1 && info.Workers[0] == "test-worker" && info.Poison == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions never owned: %+v", info)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
