package azstorage

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/testazurite"
)

// requestLog records every storage request as "METHOD resource", e.g.
// "POST t1-control-02/messages" or "GET T1History()".
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) Do(req *policy.Request) (*http.Response, error) {
	p := strings.TrimPrefix(req.Raw().URL.Path, "/devstoreaccount1/")
	l.mu.Lock()
	l.reqs = append(l.reqs, req.Raw().Method+" "+p)
	l.mu.Unlock()
	return req.Next()
}

// count returns how many requests have the method and contain part.
func (l *requestLog) count(method, part string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, part) {
			n++
		}
	}
	return n
}

// newLoggedBackend is newTestBackend whose storage requests are logged.
func newLoggedBackend(t *testing.T, mutate ...func(*Options)) (*Backend, *requestLog) {
	t.Helper()
	log := &requestLog{}
	acct, err := ParseConnectionString("AzureWebJobsStorage", testazurite.Shared(t).ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	clients, err := NewClients(acct, ClientOptions{PerCall: []policy.Policy{log}})
	if err != nil {
		t.Fatal(err)
	}
	b := newTestBackend(t, mutate...)
	b.c = clients
	return b, log
}

// queueLength is the queue's approximate message count, invisible
// messages included.
func queueLength(t *testing.T, b *Backend, queue string) int {
	t.Helper()
	props, err := b.queue(queue).GetProperties(context.Background(), nil)
	if err != nil || props.ApproximateMessagesCount == nil {
		t.Fatalf("queue %s properties: %v", queue, err)
	}
	return int(*props.ApproximateMessagesCount)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func runHelloCities(t *testing.T, b *Backend, id string) *durable.InstanceStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := durable.NewClient(b, nil)
	if _, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != `["Hello Tokyo!","Hello Seattle!","Hello London!"]` {
		t.Fatalf("status %v output %s", st.RuntimeStatus, history.Deref(st.Output))
	}
	return st
}

// Activity results for an owned partition skip the control queue: the
// only control-queue message is the start, every work item is deleted
// once its result is in history, and the history is the usual one. With
// QueueActivityResults every result goes through the control queue.
func TestCarriedResultsSkipTheControlQueue(t *testing.T) {
	for _, queued := range []bool{false, true} {
		t.Run(fmt.Sprintf("QueueActivityResults=%v", queued), func(t *testing.T) {
			b, log := newLoggedBackend(t, func(o *Options) { o.QueueActivityResults = queued })
			runWorker(t, b, helloRegistry(t))
			runHelloCities(t, b, "carry")
			_, part := b.controlQueue("carry")
			control := b.names.ControlQueue(part)
			want := 1 // the start
			if queued {
				want = 4 // the start and three results
			}
			if got := log.count(http.MethodPost, control+"/messages"); got != want {
				t.Errorf("control-queue enqueues = %d, want %d", got, want)
			}
			waitFor(t, "the queues to empty", func() bool {
				return queueLength(t, b, b.names.WorkItemQueue()) == 0 && queueLength(t, b, control) == 0
			})
			if got := log.count(http.MethodDelete, b.names.WorkItemQueue()+"/messages/"); got != 3 {
				t.Errorf("work-item deletes = %d, want 3", got)
			}
			h, err := b.GetHistory(context.Background(), "carry")
			if err != nil {
				t.Fatal(err)
			}
			if n := countEvents(h, history.TaskCompleted); n != 3 {
				t.Errorf("history has %d TaskCompleted events, want 3", n)
			}
		})
	}
}

// A carried result that its episode gives back (abandoned) is not lost:
// it is sent to the control queue as Durable Task would have sent it, and
// the work item it rode on is deleted.
func TestAbandonedCarriedResultIsSentToTheControlQueue(t *testing.T) {
	b := newTestBackend(t)
	ctx := context.Background()
	self := history.OrchestrationInstance{InstanceID: "abandoned", ExecutionID: "e1"}
	name := "SayHello"
	scheduled := &history.Event{Type: history.TaskScheduled, EventID: 0, Timestamp: time.Now().UTC(), Name: name}
	if _, err := b.enqueue(ctx, b.names.WorkItemQueue(), b.newMessage(scheduled, self, self, nil), 0, false); err != nil {
		t.Fatal(err)
	}
	msgs, err := b.dequeue(ctx, b.names.WorkItemQueue(), 1, time.Minute)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("dequeue: %v %d", err, len(msgs))
	}
	work := msgs[0]
	out := `"Hello!"`
	done := &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: 0, Result: &out}
	control, _ := b.controlQueue(self.InstanceID)
	carried := &queueMessage{queue: work.queue, id: work.id, msgLock: work.msgLock, text: work.text,
		data: b.newMessage(done, self, self, nil), dequeueCount: 1, carriedTo: control}
	if err := b.abandonMessage(ctx, carried, 0); err != nil {
		t.Fatal(err)
	}
	if n := queueLength(t, b, b.names.WorkItemQueue()); n != 0 {
		t.Errorf("work-item queue holds %d messages, want 0", n)
	}
	var got []*queueMessage
	waitFor(t, "the result in the control queue", func() bool {
		got, err = b.dequeue(ctx, control, 32, time.Minute)
		return err == nil && len(got) > 0
	})
	e := got[0].data.TaskMessage.Event
	if len(got) != 1 || e.Type != history.TaskCompleted || e.TaskScheduledID != 0 || history.Deref(e.Result) != out ||
		got[0].data.TaskMessage.OrchestrationInstance != self {
		t.Fatalf("control queue: %d messages, first %+v", len(got), e)
	}
}

// A client's first start is run without reading the (empty) history; a
// later start of the same id (a new generation) reads it.
func TestFreshStartSkipsTheHistoryRead(t *testing.T) {
	b, log := newLoggedBackend(t)
	runWorker(t, b, helloRegistry(t))
	query := b.names.HistoryTable() + "()"
	runHelloCities(t, b, "fresh")
	if n := log.count(http.MethodGet, query); n != 0 {
		t.Errorf("history queries for a fresh start = %d, want 0", n)
	}
	runHelloCities(t, b, "fresh") // generation 1
	if n := log.count(http.MethodGet, query); n != 1 {
		t.Errorf("history queries for a restart of the same id = %d, want 1", n)
	}
}

// A wrong guess is safe: a start delivered again after its history was
// written, while the Instances row still says Pending (a worker died
// between the two writes), conflicts on the sentinel, is delivered again
// and then sees the stored history: the instance completes once.
func TestFreshStartWrongGuessIsSafe(t *testing.T) {
	b := newTestBackend(t)
	reg := helloRegistry(t)
	runWorker(t, b, reg)
	first := runHelloCities(t, b, "guess")
	ctx := context.Background()
	h, err := b.GetHistory(ctx, "guess")
	if err != nil {
		t.Fatal(err)
	}
	start := findEvent(h, history.ExecutionStarted)
	// The row as the client left it, and the start message again.
	row := aztables.EDMEntity{Entity: aztables.Entity{PartitionKey: EscapePartitionKey("guess"), RowKey: ""},
		Properties: map[string]any{"RuntimeStatus": "Pending"}}
	body, err := row.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.instances().UpdateEntity(ctx, body, &aztables.UpdateEntityOptions{UpdateMode: aztables.UpdateModeMerge}); err != nil {
		t.Fatal(err)
	}
	control, _ := b.controlQueue("guess")
	if _, err := b.enqueue(ctx, control, b.newMessage(start, *start.Instance, history.OrchestrationInstance{}, nil), 0, false); err != nil {
		t.Fatal(err)
	}
	c := durable.NewClient(b, reg)
	waitFor(t, "the start to be consumed", func() bool { return queueLength(t, b, control) == 0 })
	time.Sleep(500 * time.Millisecond) // let any stray episode finish
	h, err = b.GetHistory(ctx, "guess")
	if err != nil {
		t.Fatal(err)
	}
	if n := countEvents(h, history.ExecutionCompleted); n != 1 {
		t.Fatalf("history has %d ExecutionCompleted events, want 1", n)
	}
	if n := countEvents(h, history.ExecutionStarted); n != 1 {
		t.Fatalf("history has %d ExecutionStarted events, want 1", n)
	}
	st, err := c.GetStatus(ctx, "guess")
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != history.Deref(first.Output) {
		t.Fatalf("after the redelivered start: %v %s", st.RuntimeStatus, history.Deref(st.Output))
	}
}
