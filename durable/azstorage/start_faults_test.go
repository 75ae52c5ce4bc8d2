package azstorage

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/storageproxy"
	"github.com/godurable/functions/internal/testazurite"
)

// chaosRetry is the client retry policy of the fault tests: the usual
// three retries, with a try timeout short enough that a held response
// costs seconds, not the default 30.
func chaosRetry() *policy.RetryOptions {
	return &policy.RetryOptions{MaxRetries: 3, TryTimeout: 3 * time.Second, RetryDelay: 100 * time.Millisecond, MaxRetryDelay: time.Second}
}

// proxiedClients returns clients for the test Azurite through a new
// fault proxy, closed when the test ends.
func proxiedClients(t *testing.T, cfg storageproxy.Config) (*Clients, *storageproxy.Proxy) {
	t.Helper()
	p, err := storageproxy.Start(testazurite.Shared(t).ConnectionString(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	acct, err := ParseConnectionString("S", p.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClients(acct, ClientOptions{Retry: chaosRetry()})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// newProxiedBackend is newTestBackend whose storage traffic goes through
// a fault proxy (configured to do nothing yet).
func newProxiedBackend(t *testing.T, mutate ...func(*Options)) (*Backend, *storageproxy.Proxy) {
	t.Helper()
	c, p := proxiedClients(t, storageproxy.Config{})
	b := newTestBackend(t, mutate...)
	b.c = c
	return b, p
}

// A start whose Instances-row write was applied but answered with an
// error (500, reset, held past the timeout) is answered as started, and
// the instance runs once; one refused before it was applied (503) is
// answered ErrUnavailable, leaves no row, and its start message is gone
// within seconds (deleted, or discarded as an orphan if the worker had
// already taken it).
func TestStartResolvesAmbiguousRowWrites(t *testing.T) {
	b, p := newProxiedBackend(t, func(o *Options) { o.StartWriteTimeout = 2 * time.Second })
	runWorker(t, b, helloRegistry(t))
	c := durable.NewClient(b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, f := range []storageproxy.Fault{storageproxy.AfterApply, storageproxy.Reset, storageproxy.Hold} {
		id := "applied-" + f.String()
		p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{f}, Only: "table.insert"})
		_, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID(id))
		p.Set(storageproxy.Config{})
		if err != nil {
			t.Fatalf("%v on the row insert: StartNew = %v, want success (the row was written)", f, err)
		}
		st, err := c.WaitForCompletion(ctx, id)
		if err != nil || st.RuntimeStatus != durable.StatusCompleted {
			t.Fatalf("%s: %v %v", id, st, err)
		}
	}
	id := "refused"
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Busy}, Only: "table.insert"})
	_, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID(id))
	p.Set(storageproxy.Config{})
	if !errors.Is(err, durable.ErrUnavailable) {
		t.Fatalf("busy on the row insert: StartNew = %v, want ErrUnavailable", err)
	}
	if _, err := c.GetStatus(ctx, id); !errors.Is(err, durable.ErrInstanceNotFound) {
		t.Fatalf("after a 503 start: %v, want not found", err)
	}
	queue, _ := b.controlQueue(id)
	waitFor(t, "the control queue to be empty", func() bool { return queueLength(t, b, queue) == 0 })
}

// A row write that the service applies only after the client gave up
// (and read the row back too early to see it) is settled by writing the
// row again: the start is answered as started and runs once.
func TestStartSettlesALateRowWrite(t *testing.T) {
	// The start gives up (2 s) before the client's try timeout (3 s): the
	// one attempt is cut off and applied 300 ms later, after the read-back.
	b, p := newProxiedBackend(t, func(o *Options) { o.StartWriteTimeout = 2 * time.Second })
	runWorker(t, b, helloRegistry(t))
	c := durable.NewClient(b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Late}, Only: "table.insert", Limit: 1})
	_, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID("late"))
	p.Set(storageproxy.Config{})
	if err != nil {
		t.Fatalf("StartNew with a late row write = %v, want success", err)
	}
	st, err := c.WaitForCompletion(ctx, "late")
	if err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("%v %v", st, err)
	}
	h, err := b.GetHistory(ctx, "late")
	if err != nil || countEvents(h, history.ExecutionStarted) != 1 || countEvents(h, history.ExecutionCompleted) != 1 {
		t.Fatalf("history: %v, %d events", err, len(h))
	}
}

// A start whose enqueue failed is ErrUnavailable and creates nothing; the
// copy of its message that an attempt may have enqueued is discarded by
// the worker once the start's deadline has certainly passed, not after
// minutes of redelivery.
func TestFailedStartLeavesNoLastingOrphan(t *testing.T) {
	b, p := newProxiedBackend(t, func(o *Options) { o.StartWriteTimeout = 2 * time.Second })
	runWorker(t, b, helloRegistry(t))
	c := durable.NewClient(b, nil)
	ctx := context.Background()
	id := "orphan"
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Reset}, Only: "queue.enqueue"})
	_, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID(id))
	p.Set(storageproxy.Config{})
	if !errors.Is(err, durable.ErrUnavailable) {
		t.Fatalf("reset on the enqueue: StartNew = %v, want ErrUnavailable", err)
	}
	queue, _ := b.controlQueue(id)
	if n := queueLength(t, b, queue); n != 1 {
		t.Fatalf("control queue holds %d messages, want the orphan", n)
	}
	start := time.Now()
	for queueLength(t, b, queue) != 0 {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the orphan start message is still there after %v", time.Since(start))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := c.GetStatus(ctx, id); !errors.Is(err, durable.ErrInstanceNotFound) {
		t.Fatalf("after a failed start: %v, want not found", err)
	}
	// The id is free: a retry starts it.
	if _, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	if st, err := c.WaitForCompletion(ctx, id); err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("%v %v", st, err)
	}
}

// Starting an explicit id again with the same orchestrator and input, while
// the first start's instance runs, is the same request repeated and
// succeeds; with another input it is refused.
func TestExplicitIDStartIsIdempotent(t *testing.T) {
	b := newTestBackend(t)
	c := durable.NewClient(b, nil)
	ctx := context.Background()
	if _, err := c.StartNew(ctx, "HelloCities", map[string]int{"n": 1}, durable.WithInstanceID("idem")); err != nil {
		t.Fatal(err)
	}
	if id, err := c.StartNew(ctx, "HelloCities", map[string]int{"n": 1}, durable.WithInstanceID("idem")); err != nil || id != "idem" {
		t.Fatalf("same start again: %q %v, want success", id, err)
	}
	if _, err := c.StartNew(ctx, "HelloCities", map[string]int{"n": 2}, durable.WithInstanceID("idem")); !errors.Is(err, backend.ErrInstanceExists) {
		t.Fatalf("another input: %v, want ErrInstanceExists", err)
	}
	if _, err := c.StartNew(ctx, "Other", map[string]int{"n": 1}, durable.WithInstanceID("idem")); !errors.Is(err, backend.ErrInstanceExists) {
		t.Fatalf("another orchestrator: %v, want ErrInstanceExists", err)
	}
}

// A table merge whose answer was lost is retried; writing the same
// properties twice is harmless.
func TestMergeWithCutOffAnswerIsRetried(t *testing.T) {
	b, p := newProxiedBackend(t)
	ctx := context.Background()
	row := map[string]any{"PartitionKey": "merged", "RowKey": "", "RuntimeStatus": "Running"}
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Reset}, Only: "table.merge", Limit: 1})
	if err := b.mergeInstanceRow(ctx, "merged", row, "update"); err != nil {
		t.Fatalf("merge with one reset answer: %v", err)
	}
	if st := p.Stats(); st.Faults["table.merge"][storageproxy.Reset] != 1 || st.Requests["table.merge"] != 2 {
		t.Fatalf("proxy saw %v merges with faults %v, want 2 with 1 reset", st.Requests["table.merge"], st.Faults["table.merge"])
	}
}

// An enqueue refused before it was applied (503 on every attempt) is
// ErrUnavailable; one whose attempt may have been applied (500) is not.
func TestEnqueueFailuresSayWhetherAnythingWasApplied(t *testing.T) {
	b, p := newProxiedBackend(t)
	ctx := context.Background()
	to := history.OrchestrationInstance{InstanceID: "someone"}
	e := &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(), Name: "x"}
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.Busy}, Only: "queue.enqueue"})
	if err := b.SendEvent(ctx, to, e); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("enqueue refused with 503: %v, want ErrUnavailable", err)
	}
	p.Set(storageproxy.Config{Rate: 1, Faults: []storageproxy.Fault{storageproxy.AfterApply}, Only: "queue.enqueue"})
	if err := b.SendEvent(ctx, to, e); err == nil || errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("enqueue answered 500 after being applied: %v, want an error that is not ErrUnavailable", err)
	}
	p.Set(storageproxy.Config{})
}
