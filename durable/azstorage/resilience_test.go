package azstorage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/testazurite"
)

// Azurite (with its data on disk) restarts while orchestrations run; the
// worker rides it out without a restart of its own and everything completes.
func TestAzuriteRestartUnderLoad(t *testing.T) {
	srv, err := testazurite.Start(testazurite.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() }) // after the worker stops (cleanups run last-in first-out)
	acct, _ := ParseConnectionString("S", srv.ConnectionString())
	clients, err := NewClients(acct, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(clients, Options{TaskHub: "Restart" + time.Now().Format("150405"), WorkerID: "survivor",
		ControlQueueVisibility: 3 * time.Second, WorkItemQueueVisibility: 3 * time.Second, MaxPollingInterval: 500 * time.Millisecond,
		LeaseInterval: 5 * time.Second, LeaseRenewInterval: time.Second, LeaseAcquireInterval: time.Second, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	if err := b.CreateTaskHub(ctx); err != nil {
		t.Fatal(err)
	}
	r := helloRegistry(t)
	_ = r.AddActivity("Square", durable.Activity(func(ctx context.Context, n int) (int, error) { return n * n, nil }))
	_ = r.AddOrchestrator("FanOut", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
		var ts []*durable.Task[int]
		for i := 1; i <= n; i++ {
			ts = append(ts, durable.CallActivity[int](ctx, "Square", i))
		}
		vals, err := durable.WhenAllOf(ctx, ts...)
		sum := 0
		for _, v := range vals {
			sum += v
		}
		return sum, err
	}))
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	var ids []string
	for i := 0; i < 20; i++ {
		id, err := c.StartNew(ctx, "FanOut", 20, durable.WithInstanceID(fmt.Sprintf("restart-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	time.Sleep(300 * time.Millisecond)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		var st *durable.InstanceStatus
		for {
			st, err = c.WaitForCompletion(ctx, id)
			if err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(200 * time.Millisecond) // storage still coming back
		}
		if err != nil || st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != "2870" {
			t.Fatalf("%s: %v %v", id, st, err)
		}
	}
}

// 1 MB as orchestration input, activity result, event data and output.
func TestOneMegabytePayloads(t *testing.T) {
	b := newTestBackend(t)
	mb := strings.Repeat("a", 1<<20)
	r := durable.NewRegistry()
	_ = r.AddActivity("Echo", durable.Activity(func(ctx context.Context, s string) (string, error) { return s + "!", nil }))
	_ = r.AddOrchestrator("Big", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (string, error) {
		echoed, err := durable.CallActivity[string](ctx, "Echo", in).Await()
		if err != nil {
			return "", err
		}
		ev, err := durable.WaitForExternalEvent[string](ctx, "data").Await()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d+%d:", len(echoed), len(ev)) + ev, nil
	}))
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id, err := c.StartNew(ctx, "Big", mb)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RaiseEvent(ctx, id, "data", strings.Repeat("b", 1<<20)); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id, durable.WithHistory())
	if err != nil {
		t.Fatal(err)
	}
	out, err := durable.OutputAs[string](st)
	if err != nil || st.RuntimeStatus != durable.StatusCompleted || !strings.HasPrefix(out, fmt.Sprintf("%d+%d:bbb", 1<<20+1, 1<<20)) || len(out) != 1<<20+len("1048577+1048576:") {
		t.Fatalf("status %v, output %.40q (len %d), %v", st.RuntimeStatus, out, len(out), err)
	}
	if in, _ := durable.InputAs[string](st); len(in) != 1<<20 {
		t.Fatalf("input length %d", len(in))
	}
	for _, e := range st.History {
		if e.Type == history.TaskCompleted && len(history.Deref(e.Result)) != 1<<20+3 {
			t.Fatalf("activity result in history has %d bytes", len(history.Deref(e.Result)))
		}
	}
}
