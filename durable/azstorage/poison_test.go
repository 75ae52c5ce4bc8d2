package azstorage

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

func poisonRecords(t *testing.T, b *Backend) []poisonRecord {
	t.Helper()
	resp, err := b.queue(b.names.PoisonQueue()).PeekMessages(context.Background(), &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(32))})
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	var out []poisonRecord
	for _, m := range resp.Messages {
		var r poisonRecord
		if err := json.Unmarshal([]byte(*m.MessageText), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// Malformed messages put by hand into a control queue and the work-item
// queue are moved to {hub}-poison after the dequeue limit, and the
// partition keeps serving other instances.
func TestMalformedMessagesGoToThePoisonQueue(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.MaxDequeueCount = 1; o.PartitionCount = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	for _, q := range []string{b.names.ControlQueue(0), b.names.WorkItemQueue()} {
		if _, err := b.queue(q).EnqueueMessage(ctx, `{"$type":"DurableTask.AzureStorage.MessageData","TaskMessage":{"Event":{"$type":"Nope"}}}`, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := b.queue(q).EnqueueMessage(ctx, "%%% not a message %%%", nil); err != nil {
			t.Fatal(err)
		}
	}
	r := helloRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	id, err := c.StartNew(ctx, "HelloCities", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.WaitForCompletion(ctx, id); err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("an instance on the same partition: %v %v", st, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(poisonRecords(t, b)) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("poison queue holds %d records, want 4", len(poisonRecords(t, b)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, rec := range poisonRecords(t, b) {
		if !strings.Contains(rec.Reason, "decode") || rec.Body == "" || rec.DequeueCount < 2 || rec.Queue == "" {
			t.Errorf("record = %+v", rec)
		}
	}
	for _, q := range []string{b.names.ControlQueue(0), b.names.WorkItemQueue()} {
		props, _ := b.queue(q).GetProperties(ctx, nil)
		if n := *props.ApproximateMessagesCount; n != 0 {
			t.Errorf("%s still holds %d messages", q, n)
		}
	}
}

// A start message that was delivered too often (its episode kept crashing
// the worker) fails the instance with a reason naming the message.
func TestRepeatedlyDeliveredStartFailsTheInstance(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.MaxDequeueCount = 2; o.PartitionCount = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := helloRegistry(t)
	c := durable.NewClient(b, r)
	id, err := c.StartNew(ctx, "HelloCities", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Three deliveries that never complete, as from a worker that dies.
	for i := 0; i < 3; i++ {
		msgs, err := b.dequeue(ctx, b.names.ControlQueue(0), 1, time.Second)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("dequeue %d: %v %d", i, err, len(msgs))
		}
		time.Sleep(1100 * time.Millisecond)
	}
	runWorker(t, b, r)
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil || st.RuntimeStatus != durable.StatusFailed || !strings.Contains(history.Deref(st.Output), "delivered 4 times") {
		t.Fatalf("status %v output %q err %v", st.RuntimeStatus, history.Deref(st.Output), err)
	}
	recs := poisonRecords(t, b)
	if len(recs) != 1 || recs[0].InstanceID != id || !strings.Contains(recs[0].Body, "ExecutionStartedEvent") {
		t.Fatalf("poison records = %+v", recs)
	}
}
