package azstorage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// visibleCount is how many messages of the queue another reader could
// dequeue now.
func visibleCount(t *testing.T, b *Backend, queue string) int {
	t.Helper()
	resp, err := b.queue(queue).PeekMessages(context.Background(), &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(32))})
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.Messages)
}

// A message handed over in process and a dequeued one stay hidden from
// other readers as long as their holder lives, well past one visibility
// timeout, and show up within one timeout once the holder is gone (its
// renewals stop, as when the process dies).
func TestHeldMessagesReappearSoonAfterTheHolderDies(t *testing.T) {
	vis := 2 * time.Second
	b := newTestBackend(t, func(o *Options) { o.ControlQueueVisibility, o.WorkItemQueueVisibility = vis, vis })
	ctx := context.Background()
	// The dispatching context outlives the test body (a dead process
	// releases nothing); only the renewals stop.
	runCtx, endRun := context.WithCancel(ctx)
	t.Cleanup(endRun)
	b.runCtx.Store(&runCtx)
	rctx, stop := context.WithCancel(ctx)
	renewing := make(chan struct{})
	go func() { defer close(renewing); b.renewHeld(rctx) }()

	self := history.OrchestrationInstance{InstanceID: "held", ExecutionID: "e1"}
	scheduled := &history.Event{Type: history.TaskScheduled, EventID: 0, Timestamp: time.Now().UTC(), Name: "SayHello"}
	queue := b.names.WorkItemQueue()
	// Handed over in process: enqueued hidden, delivered to b.activities.
	if _, err := b.enqueue(ctx, queue, b.newMessage(scheduled, self, self, nil), 0, true); err != nil {
		t.Fatal(err)
	}
	// And one dequeued the usual way.
	if _, err := b.enqueue(ctx, queue, b.newMessage(scheduled, self, self, nil), 0, false); err != nil {
		t.Fatal(err)
	}
	msgs, err := b.dequeue(ctx, queue, 32, vis)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("dequeue: %v, %d messages", err, len(msgs))
	}
	if n := b.heldCount(); n != 2 {
		t.Fatalf("held messages = %d, want 2", n)
	}
	time.Sleep(3 * vis)
	if n := visibleCount(t, b, queue); n != 0 {
		t.Fatalf("%d messages visible while their holder lives", n)
	}
	stop() // the holder dies: no more renewals
	<-renewing
	died := time.Now()
	waitFor(t, "both messages to be visible again", func() bool { return visibleCount(t, b, queue) == 2 })
	if d := time.Since(died); d > vis+time.Second {
		t.Errorf("the messages reappeared %v after the holder died, want within %v", d, vis)
	}
	// Another reader takes them: the old receipts are stale, and renewing
	// says so.
	if _, err := b.queue(queue).DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{NumberOfMessages: to.Ptr(int32(32))}); err != nil {
		t.Fatal(err)
	}
	if err := b.renewMessage(ctx, msgs[0], vis); !errors.Is(err, backend.ErrWorkItemLost) {
		t.Errorf("renewing a lapsed message: %v, want ErrWorkItemLost", err)
	}
}

// Deleting or abandoning a message ends its renewals; abandoning a message
// whose receipt is stale (a retried update that went through) is not an
// error.
func TestReleasedMessagesAreNotRenewed(t *testing.T) {
	b := newTestBackend(t)
	ctx := context.Background()
	queue := b.names.WorkItemQueue()
	self := history.OrchestrationInstance{InstanceID: "released", ExecutionID: "e1"}
	for i := 0; i < 3; i++ {
		e := &history.Event{Type: history.TaskScheduled, EventID: i, Timestamp: time.Now().UTC(), Name: "SayHello"}
		if _, err := b.enqueue(ctx, queue, b.newMessage(e, self, self, nil), 0, false); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := b.dequeue(ctx, queue, 32, time.Minute)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("dequeue: %v, %d messages", err, len(msgs))
	}
	if err := b.deleteMessage(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	if err := b.abandonMessage(ctx, msgs[1], 0); err != nil {
		t.Fatal(err)
	}
	// A renewal whose answer was lost: the receipt in hand is stale.
	stale := msgs[2].popReceipt
	if err := b.renewMessage(ctx, msgs[2], time.Minute); err != nil {
		t.Fatal(err)
	}
	msgs[2].popReceipt = stale
	if err := b.abandonMessage(ctx, msgs[2], 0); err != nil {
		t.Errorf("abandon with a stale receipt: %v, want nil", err)
	}
	if n := b.heldCount(); n != 0 {
		t.Errorf("held messages = %d, want 0", n)
	}
	if n := visibleCount(t, b, queue); n != 1 {
		t.Errorf("visible messages = %d, want 1 (the abandoned one)", n)
	}
}
