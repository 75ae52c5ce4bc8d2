package azstorage

import (
	"context"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/storageproxy"
)

// dequeueWorkItem enqueues a TaskScheduled message for instanceID on the
// work-item queue and dequeues it, held by b with a short visibility.
func dequeueWorkItem(t *testing.T, ctx context.Context, b *Backend, instanceID string, visibility time.Duration) *queueMessage {
	t.Helper()
	inst := history.OrchestrationInstance{InstanceID: instanceID, ExecutionID: "e1"}
	sched := &history.Event{Type: history.TaskScheduled, EventID: 0, Name: "Work", Timestamp: time.Now().UTC()}
	if err := b.send(ctx, b.names.WorkItemQueue(), b.newMessage(sched, inst, inst, nil), 0); err != nil {
		t.Fatal(err)
	}
	// The send may have handed the message over in process (a held
	// local delivery); read it from the queue either way.
	return dequeueWithin(t, ctx, b, 10*time.Second, visibility, func(*queueMessage) bool { return true })
}

// dequeueWithin dequeues from the work-item queue until a message that
// match accepts shows up, failing the test after within.
func dequeueWithin(t *testing.T, ctx context.Context, b *Backend, within, visibility time.Duration, match func(*queueMessage) bool) *queueMessage {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msgs, err := b.dequeue(ctx, b.names.WorkItemQueue(), 1, visibility)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 1 && match(msgs[0]) {
			return msgs[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("the expected work item never showed up in its queue")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newRenewingBackend is a proxied backend with 2 s visibility timeouts
// whose held messages are renewed (the worker's renewal loop alone), and
// a context for the test.
func newRenewingBackend(t *testing.T) (*Backend, *storageproxy.Proxy, context.Context) {
	t.Helper()
	b, p := newProxiedBackend(t, func(o *Options) {
		o.WorkItemQueueVisibility, o.ControlQueueVisibility = 2*time.Second, 2*time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	go b.renewHeld(ctx)
	return b, p, ctx
}

// A carried activity result (riding on its work item's hold, carried.go)
// that cannot be sent on to its control queue when its episode gives it
// back must not leave the work item held: the hold ends and the work item
// shows again, so the activity runs once more, instead of being renewed
// for ever with nobody to delete it.
func TestFailedMaterializeLetsTheWorkItemGo(t *testing.T) {
	b, p, ctx := newRenewingBackend(t)

	wm := dequeueWorkItem(t, ctx, b, "carried-1", 2*time.Second)
	inst := history.OrchestrationInstance{InstanceID: "carried-1", ExecutionID: "e1"}
	done := &history.Event{Type: history.TaskCompleted, EventID: -1, TaskScheduledID: 0, Timestamp: time.Now().UTC()}
	ctrl, _ := b.controlQueue("carried-1")
	carried := &queueMessage{queue: wm.queue, id: wm.id, msgLock: wm.msgLock, text: wm.text,
		data: b.newMessage(done, inst, inst, nil), dequeueCount: 1, carriedTo: ctrl}

	// Every enqueue fails: the result cannot be materialized.
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Busy}, Only: "queue.enqueue"})
	if err := b.abandonMessage(ctx, carried, 0); err == nil {
		t.Fatal("abandoning a carried result whose enqueue failed reported success")
	}
	p.Set(storageproxy.Config{})
	if n := b.heldCount(); n != 0 {
		t.Fatalf("after the failed hand-back %d messages are still held: %v", n, b.heldSummary())
	}
	// The work item is back in its queue at once (the activity runs again).
	again, err := b.dequeue(ctx, b.names.WorkItemQueue(), 1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].id != wm.id {
		t.Fatalf("the work item is not visible again after the failed hand-back (got %d messages)", len(again))
	}
}

// A work item that should move to the poison queue but cannot (the move
// fails) is put back rather than held for ever.
func TestFailedPoisonMoveLetsTheWorkItemGo(t *testing.T) {
	b, p, ctx := newRenewingBackend(t)

	wm := dequeueWorkItem(t, ctx, b, "poison-1", 2*time.Second)
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Busy}, Only: "queue.enqueue"})
	b.poisonActivity(ctx, wm)
	p.Set(storageproxy.Config{})
	if n := b.heldCount(); n != 0 {
		t.Fatalf("after the failed poison move %d messages are still held: %v", n, b.heldSummary())
	}
	// It shows again (after the abandon backoff of its first delivery).
	dequeueWithin(t, ctx, b, 10*time.Second, time.Second, func(m *queueMessage) bool { return m.id == wm.id })
}

// When the Instances row of a committed episode cannot be written for
// longer than the writer retries, the episode's messages are put back
// (not held for ever): they come again, the row is repaired from
// history, and the instance's status catches up once storage recovers.
func TestRowWriteFailuresDoNotHoldMessages(t *testing.T) {
	b, p := newProxiedBackend(t, func(o *Options) {
		o.WorkItemQueueVisibility, o.ControlQueueVisibility = 2*time.Second, 2*time.Second
	})
	b.rowRetryFor = time.Second
	runWorker(t, b, helloRegistry(t))
	c := durable.NewClient(b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID("rowfaults")); err != nil {
		t.Fatal(err)
	}
	// Every row merge fails for a while: the orchestration runs on (its
	// history commits), its row stays behind.
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Busy}, Only: "table.merge"})
	time.Sleep(6 * time.Second)
	p.Set(storageproxy.Config{})
	st, err := c.WaitForCompletion(ctx, "rowfaults")
	if err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("after the row faults: %+v, %v; want Completed", st, err)
	}
	for end := time.Now().Add(15 * time.Second); b.heldCount() != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("messages still held after the instance completed: %v", b.heldSummary())
		}
	}
}

// An event raised for an instance whose start has not run yet (here a
// scheduled start) waits for it, even when the worker cannot read the
// instance's row at that moment: it is retried, never processed as if
// the instance did not exist (which drops it).
func TestEventBeforeStartSurvivesAFailedRowRead(t *testing.T) {
	b, p := newProxiedBackend(t, func(o *Options) {
		o.WorkItemQueueVisibility, o.ControlQueueVisibility = 2*time.Second, 2*time.Second
	})
	r := waitRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.StartNew(ctx, "Wait", nil, durable.WithInstanceID("early"), durable.WithStartTime(time.Now().Add(6*time.Second))); err != nil {
		t.Fatal(err)
	}
	if err := c.RaiseEvent(ctx, "early", "go", "went"); err != nil {
		t.Fatal(err)
	}
	// Row reads fail while the event is looked at.
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Busy}, Only: "table.get"})
	time.Sleep(3 * time.Second)
	p.Set(storageproxy.Config{})
	st, err := c.WaitForCompletion(ctx, "early")
	if err != nil || st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != `"went"` {
		t.Fatalf("%+v, %v; want Completed with the event's data", st, err)
	}
}

// waitRegistry has the orchestrator "Wait" (addWaitOrchestrator).
func waitRegistry(t *testing.T) *durable.Registry {
	t.Helper()
	r := durable.NewRegistry()
	addWaitOrchestrator(t, r, "Wait")
	return r
}

// addWaitOrchestrator registers, under name, an orchestrator that returns
// the data of the first event "go" it gets.
func addWaitOrchestrator(t *testing.T, r *durable.Registry, name string) {
	t.Helper()
	if err := r.AddOrchestrator(name, durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		return durable.WaitForExternalEvent[string](ctx, "go").Await()
	})); err != nil {
		t.Fatal(err)
	}
}
