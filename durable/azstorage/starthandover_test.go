package azstorage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/testazurite"
)

// queueTraffic records the queue requests that matter to a start: the
// enqueues (with their query, which carries the visibility timeout) and
// the dequeues that returned a message.
type queueTraffic struct {
	mu        sync.Mutex
	enqueues  []string // "queue?query"
	delivered []string // queues a dequeue took a message from
}

func (q *queueTraffic) Do(req *policy.Request) (*http.Response, error) {
	r := req.Raw()
	path := strings.TrimPrefix(r.URL.Path, "/devstoreaccount1/")
	queue, rest, _ := strings.Cut(path, "/")
	resp, err := req.Next()
	if err != nil || rest != "messages" {
		return resp, err
	}
	switch r.Method {
	case http.MethodPost:
		q.mu.Lock()
		q.enqueues = append(q.enqueues, queue+"?"+r.URL.RawQuery)
		q.mu.Unlock()
	case http.MethodGet:
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr == nil && bytes.Contains(body, []byte("<MessageId>")) {
			q.mu.Lock()
			q.delivered = append(q.delivered, queue)
			q.mu.Unlock()
		}
	}
	return resp, err
}

func (q *queueTraffic) snapshot() (enqueues, delivered []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.enqueues...), append([]string(nil), q.delivered...)
}

// newTrafficBackend is newTestBackend whose queue traffic is recorded.
func newTrafficBackend(t *testing.T, mutate ...func(*Options)) (*Backend, *queueTraffic) {
	t.Helper()
	q := &queueTraffic{}
	acct, err := ParseConnectionString("AzureWebJobsStorage", testazurite.Shared(t).ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	clients, err := NewClients(acct, ClientOptions{PerCall: []policy.Policy{q}})
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBackend(t, mutate...)
	b.c = clients
	return b, q
}

// A client start for a partition this worker owns is enqueued invisible
// and handed to the worker once its Instances row is written: no poll
// dequeues it (so none can find it before its row exists), and the
// instance runs as usual.
func TestStartOnAnOwnedPartitionIsHandedOver(t *testing.T) {
	b, traffic := newTrafficBackend(t)
	runWorker(t, b, helloRegistry(t))
	queue, _ := b.controlQueue("handed")
	waitFor(t, "the partition to be owned", func() bool { return b.parts.owns(queue) })
	runHelloCities(t, b, "handed")
	enqueues, delivered := traffic.snapshot()
	var starts []string
	for _, e := range enqueues {
		if strings.HasPrefix(e, queue+"?") {
			starts = append(starts, e)
		}
	}
	if len(starts) != 1 {
		t.Fatalf("control-queue enqueues %q: want one", starts)
	}
	if q, err := url.ParseQuery(strings.TrimPrefix(starts[0], queue+"?")); err != nil || q.Get("visibilitytimeout") == "" || q.Get("visibilitytimeout") == "0" {
		t.Errorf("the start was enqueued with %q: want it invisible", starts[0])
	}
	for _, q := range delivered {
		if q == queue {
			t.Errorf("a poll dequeued a message from %s; the start should have been handed over", queue)
		}
	}
	waitFor(t, "the control queue to empty", func() bool { return queueLength(t, b, queue) == 0 })
}

// Without a worker (or for a partition owned elsewhere) the start message
// is enqueued visible, for whichever worker polls the queue.
func TestStartWithoutAWorkerIsEnqueuedVisible(t *testing.T) {
	b, traffic := newTrafficBackend(t)
	c := durable.NewClient(b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID("visible")); err != nil {
		t.Fatal(err)
	}
	queue, _ := b.controlQueue("visible")
	msgs, err := b.dequeue(ctx, queue, 32, time.Minute)
	if err != nil || len(msgs) != 1 || msgs[0].data.TaskMessage.Event.Type != history.ExecutionStarted {
		t.Fatalf("dequeue from %s: %v, %d messages", queue, err, len(msgs))
	}
	if enqueues, _ := traffic.snapshot(); len(enqueues) != 1 || strings.Contains(enqueues[0], "visibilitytimeout=") {
		t.Errorf("enqueues %q: want one, visible", enqueues)
	}
}

// A start under an id the client generated does not read the Instances
// row first; the instance is created as CreateInstance creates it.
func TestStartWithAGeneratedIDSkipsTheRowRead(t *testing.T) {
	b, log := newLoggedBackend(t)
	c := durable.NewClient(b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := c.StartNew(ctx, "HelloCities", "in")
	if err != nil {
		t.Fatal(err)
	}
	if n := log.count(http.MethodGet, b.names.InstancesTable()+"(PartitionKey="); n != 0 {
		t.Errorf("the start read the Instances row %d times, want 0", n)
	}
	st, err := b.GetInstance(ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != history.StatusPending || st.Generation != 0 || history.Deref(st.Input) != `"in"` {
		t.Fatalf("row: %+v", st)
	}
}

// CreateNewInstance under an id that exists after all answers as
// CreateInstance would: a live instance is refused and the new start's
// message withdrawn; a finished one (no dedupe) is started again as the
// next generation.
func TestCreateNewInstanceUnderAnExistingIDFallsBack(t *testing.T) {
	b := newTestBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := "taken"
	queue, _ := b.controlQueue(id)
	startEvent := func() *history.Event {
		return &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: time.Now().UTC(), Name: "HelloCities",
			Instance: &history.OrchestrationInstance{InstanceID: id, ExecutionID: durable.NewInstanceID()}}
	}
	live := []history.OrchestrationStatus{history.StatusPending, history.StatusRunning, history.StatusSuspended}
	first := startEvent()
	if err := b.CreateInstance(ctx, first, live); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateNewInstance(ctx, startEvent(), live); !errors.Is(err, backend.ErrInstanceExists) {
		t.Fatalf("CreateNewInstance over a pending instance: %v, want ErrInstanceExists", err)
	}
	if n := queueLength(t, b, queue); n != 1 {
		t.Errorf("control queue holds %d messages, want 1 (the refused start's message withdrawn)", n)
	}
	again := startEvent()
	if err := b.CreateNewInstance(ctx, again, nil); err != nil {
		t.Fatal(err)
	}
	st, err := b.GetInstance(ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(st.ExecutionID, again.Instance.ExecutionID) || st.Generation != 1 {
		t.Fatalf("row names execution %s generation %d, want %s generation 1", st.ExecutionID, st.Generation, again.Instance.ExecutionID)
	}
	msgs, err := b.dequeue(ctx, queue, 32, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	gens := map[string]int{}
	for _, m := range msgs {
		gens[m.data.TaskMessage.OrchestrationInstance.ExecutionID] = derefInt(m.data.TaskMessage.Event.Generation)
	}
	if len(msgs) != 2 || gens[again.Instance.ExecutionID] != 1 {
		t.Fatalf("control queue: %d messages, generations by execution %v; want the first start's and the restart's (generation 1)", len(msgs), gens)
	}
}

// readyLine lets a start in only while fewer than the limit wait, and
// lets the next one in as soon as one leaves.
func TestReadyLineAdmitsUpToTheLimit(t *testing.T) {
	var r readyLine
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		if err := r.enter(ctx, 2); err != nil {
			t.Fatal(err)
		}
	}
	entered := make(chan error, 1)
	go func() { entered <- r.enter(ctx, 2) }()
	select {
	case err := <-entered:
		t.Fatalf("a third start entered a line of two (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	r.leave(nil)
	if err := <-entered; err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if err := r.enter(short, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("enter a full line: %v, want the context's error", err)
	}
}

// A line full of running instances' work items still lets one start in
// at a time, so that starts are never held back for ever.
func TestReadyLineLetsOneStartPastRunningInstances(t *testing.T) {
	var r readyLine
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 4; i++ {
		r.add()
	}
	if err := r.enter(ctx, 4); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if err := r.enter(short, 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second start entered while one waits in a full line (%v)", err)
	}
	wi := &backend.OrchestrationWorkItem{InstanceID: "first"}
	r.built(wi)
	entered := make(chan error, 1)
	go func() { entered <- r.enter(ctx, 4) }()
	select {
	case err := <-entered:
		t.Fatalf("a second start entered while the first is in line (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	r.leave(wi) // the first start is fetched: the line still holds four others
	if err := <-entered; err != nil {
		t.Fatal(err)
	}
}

// While the line of built work items is full, a client start waits, and
// an instance already running still gets its next episode: it finishes
// while the start is held back; the start runs once the line moves.
func TestStartsWaitBehindRunningInstances(t *testing.T) {
	b := newTestBackend(t)
	r := helloRegistry(t)
	addWaitOrchestrator(t, r, "WaitOne")
	runWorker(t, b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := durable.NewClient(b, r)
	if _, err := c.StartNew(ctx, "WaitOne", nil, durable.WithInstanceID("running")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the instance to run", func() bool {
		st, err := c.GetStatus(ctx, "running")
		return err == nil && st.RuntimeStatus == durable.StatusRunning
	})
	// Fill the line as if that many work items waited for a dispatcher.
	for i := 0; i < startGateLimit; i++ {
		if err := b.ready.enter(ctx, startGateLimit); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID("held")); err != nil {
		t.Fatal(err)
	}
	if err := c.RaiseEvent(ctx, "running", "go", "went"); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, "running")
	if err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("the running instance: %v %v", st, err)
	}
	if st, err := c.GetStatus(ctx, "held"); err != nil || st.RuntimeStatus != durable.StatusPending {
		t.Fatalf("the held start: %v %v, want it still pending", st, err)
	}
	b.ready.leave(nil)
	if st, err := c.WaitForCompletion(ctx, "held"); err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("the held start after the line moved: %v %v", st, err)
	}
}
