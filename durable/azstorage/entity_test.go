package azstorage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/functions"
	"github.com/godurable/functions/internal/testazurite"
)

func entityRegistry(t *testing.T) *durable.Registry {
	r := durable.NewRegistry()
	if err := functions.Register(r); err != nil {
		t.Fatal(err)
	}
	_ = r.AddOrchestrator("AddAndFail", durable.Orchestrator(func(ctx *durable.OrchestrationContext, key string) (string, error) {
		id := durable.NewEntityID("Counter", key)
		v, err := durable.CallEntity[int](ctx, id, "add", 5).Await()
		if err != nil {
			return "", err
		}
		_, err = durable.CallEntity[int](ctx, id, "add", -100).Await()
		var tf *durable.TaskFailedError
		if !errors.As(err, &tf) {
			return "", fmt.Errorf("want an entity failure, got %v", err)
		}
		after, err := durable.CallEntity[int](ctx, id, "get", nil).Await()
		return fmt.Sprintf("%d|%s|%d", v, tf.Details.ErrorMessage, after), err
	}))
	return r
}

func counterValue(t *testing.T, c *durable.Client, key string) (int, bool) {
	t.Helper()
	md, err := c.GetEntity(context.Background(), durable.NewEntityID("Counter", key))
	if errors.Is(err, durable.ErrInstanceNotFound) {
		return 0, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := json.Unmarshal([]byte(*md.State), &n); err != nil {
		t.Fatal(err)
	}
	return n, true
}

// 1,000 signals from concurrent clients sum exactly.
func TestThousandSignalsSumExactly(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < 1000; i += 16 {
				errs <- c.SignalEntity(ctx, durable.NewEntityID("Counter", "sum"), "add", 1)
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n, _ := counterValue(t, c, "sum"); n == 1000 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("counter = %d after 1000 signals", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if n, _ := counterValue(t, c, "sum"); n != 1000 {
		t.Fatalf("counter went past 1000: %d", n)
	}
	// The stored form: three history rows, and the scheduler state.
	h, err := b.GetHistory(ctx, "@counter@sum")
	if err != nil || len(h) != 3 || h[0].Type != history.OrchestratorStarted || h[1].Type != history.ExecutionStarted || h[2].Type != history.OrchestratorCompleted {
		t.Fatalf("entity history = %d events, %v", len(h), err)
	}
	row := rawRow(t, b, b.names.InstancesTable(), "@counter@sum", "")
	// The scheduler state keeps the ids of the signals it accepted lately
	// (1000 of them, 16 bytes each), to drop a signal delivered twice.
	var st struct {
		State  *string         `json:"state"`
		Sorter json.RawMessage `json:"sorter"`
		Exists bool            `json:"exists"`
		Recent []struct {
			T   string `json:"t"`
			IDs []byte `json:"ids"`
		} `json:"recentRequests"`
	}
	input, _ := row["Input"].(string)
	if err := json.Unmarshal([]byte(input), &st); err != nil || st.State == nil || *st.State != "1000" || string(st.Sorter) != "{}" || !st.Exists {
		t.Fatalf("instance row Input = %s (%v)", input, err)
	}
	ids := 0
	for _, g := range st.Recent {
		ids += len(g.IDs) / 16
	}
	if ids != 1000 || !strings.HasPrefix(input, `{"state":"1000","sorter":{},"exists":true,"recentRequests":[{"t":"`) {
		t.Fatalf("%d request ids recorded in %s", ids, input)
	}
	if row["CustomStatus"] != `{"entityExists":true}` || row["RuntimeStatus"] != "Running" || row["Name"] != "@counter@sum" {
		t.Fatalf("instance row = %v", row)
	}
	rows, _ := b.queryRows(ctx, b.names.HistoryTable(), PartitionKeyFilter("@counter@sum"), nil)
	if len(rows) != 4 { // RK 0..2 and the sentinel
		t.Fatalf("history rows = %d", len(rows))
	}
}

// Calls return values and errors; a failing operation leaves the state as
// it was; delete removes the entity.
func TestEntityCallsAndErrors(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := c.StartNew(ctx, "AddAndFail", "calls")
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil || history.Deref(st.Output) != `"5|counter calls would go below zero (5 -100)|5"` {
		t.Fatalf("%v %s %v", st.RuntimeStatus, history.Deref(st.Output), err)
	}
	if err := c.SignalEntity(ctx, durable.NewEntityID("counter", "calls"), "delete", nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, exists := counterValue(t, c, "calls"); !exists {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("delete did not remove the entity")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Two orchestrations moving amounts between the same two counters at the
// same time never lose or double-count, and never deadlock.
func TestConcurrentTransfersInCriticalSections(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, k := range []string{"a", "b"} {
		if err := c.SignalEntity(ctx, durable.NewEntityID("Counter", k), "add", 100); err != nil {
			t.Fatal(err)
		}
	}
	for {
		av, _ := counterValue(t, c, "a")
		bv, _ := counterValue(t, c, "b")
		if av == 100 && bv == 100 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var ids []string
	for i := 0; i < 10; i++ {
		tr := functions.Transfer{From: "a", To: "b", Amount: 3}
		if i%2 == 1 {
			tr = functions.Transfer{From: "b", To: "a", Amount: 5}
		}
		id, err := c.StartNew(ctx, "CounterWorkflow", tr)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		st, err := c.WaitForCompletion(ctx, id)
		if err != nil || st.RuntimeStatus != durable.StatusCompleted {
			t.Fatalf("%s: %v %v %s", id, st, err, history.Deref(st.Output))
		}
	}
	av, _ := counterValue(t, c, "a")
	bv, _ := counterValue(t, c, "b")
	if av+bv != 200 || av != 100-15+25 {
		t.Fatalf("a=%d b=%d; want a=110 b=90", av, bv)
	}
}

// Entity state is in storage: a new worker (a handler restart) sees it.
func TestEntityStateSurvivesRestart(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	ctx := context.Background()
	c := durable.NewClient(b, r)
	func() {
		wctx, stop := context.WithCancel(ctx)
		w := durable.NewWorker(b, r, durable.WorkerOptions{Logger: testLogger(t)})
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		defer func() { stop(); <-done }()
		_ = c.SignalEntity(ctx, durable.NewEntityID("Counter", "keep"), "add", 42)
		for n, _ := counterValue(t, c, "keep"); n != 42; n, _ = counterValue(t, c, "keep") {
			time.Sleep(100 * time.Millisecond)
		}
	}()
	b2, err := New(b.c, b.opts)
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, b2, r)
	c2 := durable.NewClient(b2, r)
	_ = c2.SignalEntity(ctx, durable.NewEntityID("Counter", "keep"), "add", 1)
	deadline := time.Now().Add(20 * time.Second)
	for n, _ := counterValue(t, c2, "keep"); n != 43; n, _ = counterValue(t, c2, "keep") {
		if time.Now().After(deadline) {
			t.Fatalf("after restart the counter is %d, want 43", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A scheduled signal waits in the queue until its due time.
func TestScheduledSignalAndMessageFormat(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	c := durable.NewClient(b, r)
	ctx := context.Background()
	due := time.Now().Add(3 * time.Second)
	if err := c.SignalEntity(ctx, durable.NewEntityID("Counter", "later"), "add", 7, durable.SignalAt(due)); err != nil {
		t.Fatal(err)
	}
	q, _ := b.controlQueue("@counter@later")
	msgs, err := b.dequeue(ctx, q, 1, time.Second)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("a scheduled signal must not be visible before its time: %d messages, %v", len(msgs), err)
	}
	runWorker(t, b, r)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if n, ok := counterValue(t, c, "later"); ok && n == 7 {
			if time.Now().Before(due) {
				t.Fatal("the signal ran before its due time")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduled signal never ran")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// applyThenFail is a storage fault: the first `remaining` requests that
// match are carried out, then answered 500 as if the response had been
// lost, so the SDK retries an operation that already took effect.
type applyThenFail struct {
	match     func(*policy.Request) bool
	remaining atomic.Int32
	injected  atomic.Int32
}

func (f *applyThenFail) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if err != nil || resp.StatusCode >= 300 || !f.match(req) || f.remaining.Add(-1) < 0 {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	f.injected.Add(1)
	return &http.Response{StatusCode: http.StatusInternalServerError, Status: "500 Injected", Header: http.Header{},
		Body: io.NopCloser(strings.NewReader("")), Request: req.Raw()}, nil
}

// faultyBackend is a backend on the same task hub as b whose storage
// requests go through fault.
func faultyBackend(t *testing.T, b *Backend, fault *applyThenFail) *Backend {
	t.Helper()
	acct, err := ParseConnectionString("AzureWebJobsStorage", testazurite.Shared(t).ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClients(acct, ClientOptions{PerRetry: []policy.Policy{fault}})
	if err != nil {
		t.Fatal(err)
	}
	fb, err := New(c, b.opts)
	if err != nil {
		t.Fatal(err)
	}
	return fb
}

// waitCounterSettled waits until every control queue of the hub is empty
// (duplicates included) and returns the counter's value then.
func waitCounterSettled(t *testing.T, b *Backend, c *durable.Client, key string, want int, within time.Duration) int {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(within)
	for {
		pending := 0
		for _, q := range b.names.ControlQueues() {
			props, err := b.c.Queue.NewQueueClient(q).GetProperties(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			pending += int(*props.ApproximateMessagesCount)
		}
		n, _ := counterValue(t, c, key)
		if pending == 0 && n >= want {
			time.Sleep(300 * time.Millisecond) // let a last checkpoint land
			n, _ = counterValue(t, c, key)
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("counter %s = %d with %d messages still queued after %v", key, n, pending, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A signal whose enqueue took effect but was answered 500 is enqueued a
// second time by the SDK's retry; the entity applies it once.
func TestRetriedSignalEnqueueAppliedOnce(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	runWorker(t, b, r)
	var attempts atomic.Int32
	fault := &applyThenFail{match: func(req *policy.Request) bool {
		// the first attempt of each (sequential) signal
		return req.Raw().Method == http.MethodPost && strings.HasSuffix(req.Raw().URL.Path, "/messages") && attempts.Add(1)%2 == 1
	}}
	fault.remaining.Store(20)
	fb := faultyBackend(t, b, fault)
	c := durable.NewClient(fb, r)
	ctx := context.Background()
	const signals = 30
	for i := 0; i < signals; i++ {
		if err := c.SignalEntity(ctx, durable.NewEntityID("Counter", "retried"), "add", 1); err != nil {
			t.Fatalf("signal %d: %v", i, err)
		}
	}
	if fault.injected.Load() != 20 {
		t.Fatalf("%d faults injected, want 20", fault.injected.Load())
	}
	// Both copies of the 20 retried signals are in the queue: 50 messages.
	if n := waitCounterSettled(t, b, durable.NewClient(b, r), "retried", signals, 30*time.Second); n != signals {
		t.Fatalf("counter = %d after %d signals (%d enqueued twice)", n, signals, fault.injected.Load())
	}
}

// An entity checkpoint whose history write took effect but was answered
// 500 is retried, fails with a conflict and is abandoned: its messages are
// delivered again, and the entity, reading back the committed state,
// drops them instead of applying them again.
func TestCommittedButFailedEntityCheckpointNotReapplied(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.ControlQueueVisibility = 3 * time.Second })
	r := entityRegistry(t)
	var batches atomic.Int32
	fault := &applyThenFail{match: func(req *policy.Request) bool {
		// every second history transaction
		if req.Raw().Method != http.MethodPost || !strings.HasSuffix(req.Raw().URL.Path, "$batch") || req.Body() == nil {
			return false
		}
		_ = req.RewindBody()
		body, _ := io.ReadAll(req.Body())
		_ = req.RewindBody()
		return strings.Contains(string(body), b.names.HistoryTable()) && batches.Add(1)%2 == 0
	}}
	fault.remaining.Store(6)
	fb := faultyBackend(t, b, fault)
	runWorker(t, fb, r)
	c := durable.NewClient(b, r)
	ctx := context.Background()
	const signals = 40
	for i := 0; i < signals; i++ {
		if err := c.SignalEntity(ctx, durable.NewEntityID("Counter", "ambiguous"), "add", 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // several batches
	}
	n := waitCounterSettled(t, b, c, "ambiguous", signals, 60*time.Second)
	if fault.injected.Load() == 0 {
		t.Fatal("no checkpoint was made ambiguous")
	}
	if n != signals {
		t.Fatalf("counter = %d after %d signals (%d ambiguous checkpoints)", n, signals, fault.injected.Load())
	}
}

// A scheduled signal further out than the queue can delay a message (6
// days) becomes visible early; the entity sends it back to itself for its
// due time instead of running it.
func TestScheduledSignalArrivingEarlyIsRescheduled(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx := context.Background()
	entity := durable.NewEntityID("Counter", "weeks")
	due := time.Now().UTC().Add(8 * 24 * time.Hour).Format("2006-01-02T15:04:05.0000000Z")
	req := fmt.Sprintf(`{"op":"add","signal":true,"input":"7","id":"6b0c7c2e-2f49-4c47-9e4a-54b1f1a0c001","due":%q,"Timestamp":"0001-01-01T00:00:00","Predecessor":"0001-01-01T00:00:00","IsLockRequest":false,"createTrace":false}`, due)
	e := &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(), Name: "op@" + due, Input: &req}
	q, _ := b.controlQueue(entity.String())
	body, _, err := b.encodeQueueMessage(ctx, b.newMessage(e, history.OrchestrationInstance{InstanceID: entity.String()}, history.OrchestrationInstance{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	// Visible now, as it is after the queue's 6 days.
	if _, err := b.c.Queue.NewQueueClient(q).EnqueueMessage(ctx, body, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SignalEntity(ctx, entity, "add", 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := counterValue(t, c, "weeks")
		props, err := b.c.Queue.NewQueueClient(q).GetProperties(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		peek, err := b.c.Queue.NewQueueClient(q).PeekMessages(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n == 8 {
			t.Fatal("the signal due in 8 days ran now")
		}
		// One message left, invisible: the signal, sent again for its time.
		if n == 1 && *props.ApproximateMessagesCount == 1 && len(peek.Messages) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counter %d, %d messages queued (%d visible)", n, *props.ApproximateMessagesCount, len(peek.Messages))
		}
		time.Sleep(100 * time.Millisecond)
	}
	md, err := c.GetEntity(ctx, entity)
	if err != nil || md.QueueSize != 0 || *md.State != "1" {
		t.Fatalf("%+v %v", md, err)
	}
}

// An entity's signals to another entity carry the ordering labels .NET's
// message sorter expects, and both sides keep the sorter's state in
// storage: the sender its clock per target (LastSentToInstance), the
// receiver the last request delivered per sender.
func TestEntitySignalsLabelledInStorage(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	_ = r.AddEntity("Fanner", func(ctx *durable.EntityContext) (any, error) {
		for i := 0; i < 3; i++ {
			if err := ctx.SignalEntity(durable.NewEntityID("Counter", "fanned"), "add", 1); err != nil {
				return nil, err
			}
		}
		return nil, ctx.SetState("done")
	})
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx := context.Background()
	if err := c.SignalEntity(ctx, durable.NewEntityID("Fanner", "f"), "go", nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for n, _ := counterValue(t, c, "fanned"); n != 3; n, _ = counterValue(t, c, "fanned") {
		if time.Now().After(deadline) {
			t.Fatalf("counter = %d, want 3 (a .NET-style sorter drops equal timestamps)", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	type sorterState struct {
		LastSentToInstance   map[string]string `json:"LastSentToInstance"`
		ReceivedFromInstance map[string]struct {
			Last        string `json:"Last"`
			ExecutionID string `json:"ExecutionId"`
		} `json:"ReceivedFromInstance"`
		ReceiveHorizon string `json:"ReceiveHorizon"`
		SendHorizon    string `json:"SendHorizon"`
	}
	sorterOf := func(id string) sorterState {
		row := rawRow(t, b, b.names.InstancesTable(), id, "")
		var st struct {
			Sorter sorterState `json:"sorter"`
		}
		if err := json.Unmarshal([]byte(row["Input"].(string)), &st); err != nil {
			t.Fatal(err)
		}
		return st.Sorter
	}
	sent, got := sorterOf("@fanner@f"), sorterOf("@counter@fanned")
	last := sent.LastSentToInstance["@counter@fanned"]
	if last == "" || sent.SendHorizon == "" {
		t.Fatalf("sender's sorter %+v", sent)
	}
	from, ok := got.ReceivedFromInstance["@fanner@f"]
	if !ok || from.Last != last || from.ExecutionID != "" || got.ReceiveHorizon == "" {
		t.Fatalf("receiver's sorter %+v, sender's last %s", got, last)
	}
}

// LockEntities asks the entities in .NET's order of entity ids: keys
// compared linguistically ("a" < "B" < "c"), not by bytes ("B" < "a").
// The lock request, recorded as the orchestration's EventSent row, goes to
// the first entity of that order and lists the lock set so.
func TestLockOrderInHistory(t *testing.T) {
	b := newTestBackend(t)
	r := entityRegistry(t)
	_ = r.AddOrchestrator("LockMixedCase", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		release, err := durable.LockEntities(ctx, durable.NewEntityID("Counter", "c"), durable.NewEntityID("Counter", "B"), durable.NewEntityID("Counter", "a"))
		if err != nil {
			return "", err
		}
		return "locked", release()
	}))
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := c.StartNew(ctx, "LockMixedCase", nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.WaitForCompletion(ctx, id); err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("%+v %v", st, err)
	}
	rows, err := b.queryRows(ctx, b.names.HistoryTable(), PartitionKeyFilter(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row["EventType"] != "EventSent" || row["Name"] != "op" {
			continue
		}
		var req struct {
			Lockset []struct{ Key string } `json:"lockset"`
		}
		if err := json.Unmarshal([]byte(row["Input"].(string)), &req); err != nil {
			t.Fatal(err)
		}
		if row["InstanceId"] != "@counter@a" || len(req.Lockset) != 3 || req.Lockset[0].Key != "a" || req.Lockset[1].Key != "B" || req.Lockset[2].Key != "c" {
			t.Fatalf("lock request to %v: %s", row["InstanceId"], row["Input"])
		}
		return
	}
	t.Fatalf("no lock request in the history of %s", id)
}
