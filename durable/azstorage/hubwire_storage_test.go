package azstorage

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// countBlobs lists the large-message container with the plain blob SDK.
func countBlobs(t *testing.T, b *Backend, prefix string) []string {
	t.Helper()
	cc := b.c.Blob.ServiceClient().NewContainerClient(b.names.LargeMessagesContainer())
	p := cc.NewListBlobsFlatPager(&listOpts{Prefix: &prefix})
	var names []string
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			t.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			names = append(names, *it.Name)
		}
	}
	return names
}

// One episode that writes 60 history rows of almost 30,000 three-byte
// characters each (5 MB as UTF-8, more than a table transaction takes)
// is split into batches by size, and the orchestration completes.
func TestLargeNonASCIIEpisodeIsSplitBySize(t *testing.T) {
	b := newTestBackend(t)
	r := durable.NewRegistry()
	const n = 60
	text := strings.Repeat("漢", 28000)
	if err := r.AddOrchestrator("Broadcast", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		for i := 0; i < n; i++ {
			if err := ctx.SendEvent("nobody-"+string(rune('a'+i%26)), "Big", text); err != nil {
				return 0, err
			}
		}
		return n, nil
	})); err != nil {
		t.Fatal(err)
	}
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id := "broadcast"
	if _, err := c.StartNew(ctx, "Broadcast", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("status %v output %s", st.RuntimeStatus, history.Deref(st.Output))
	}
	rows, err := b.queryRows(ctx, b.names.HistoryTable(), PartitionKeyFilter(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	want, _ := json.Marshal(text)
	for _, row := range rows {
		if row["EventType"] == "EventSent" {
			sent++
			if row["Input"] != string(want) {
				t.Fatalf("EventSent row %v holds %d bytes, want the full text", row["RowKey"], len(row["Input"].(string)))
			}
		}
		if row["RowKey"] == "sentinel" && row["IsCheckpointComplete"] != true {
			t.Fatalf("sentinel = %v", row)
		}
	}
	if sent != n {
		t.Fatalf("%d EventSent rows, want %d", sent, n)
	}
}

// estimatedRowBytes counts at least DurableTask's estimate: 1 KB a row
// plus the UTF-16 bytes of the variable-size columns.
func TestEstimatedRowBytes(t *testing.T) {
	row := map[string]any{"PartitionKey": "p", "RowKey": "0", "Result": strings.Repeat("a", 1000), "Name": "x", "Input": ""}
	if got := estimatedRowBytes(row); got != 1024+2002 {
		t.Errorf("ASCII row = %d, want %d", got, 1024+2002)
	}
	row["Result"] = strings.Repeat("漢", 1000) // 3000 bytes of UTF-8
	if got := estimatedRowBytes(row); got < 1024+3000 {
		t.Errorf("non-ASCII row = %d, want at least its encoded size", got)
	}
}

type bigState struct {
	N   int    `json:"n"`
	Pad string `json:"pad"`
}

// 100 operations on an entity whose state is 40 KB (stored in a blob)
// leave a bounded number of blobs: each continue-as-new deletes the
// blobs of the execution it replaced, and the Instances row points at
// the history row's blob instead of a copy of its own.
func TestEntityWithLargeStateLeavesBoundedBlobs(t *testing.T) {
	b := newTestBackend(t)
	r := durable.NewRegistry()
	if err := r.AddEntity("Big", durable.EntityOperations(map[string]func(*durable.EntityContext, bigState, json.RawMessage) (bigState, any, error){
		"add": func(_ *durable.EntityContext, s bigState, _ json.RawMessage) (bigState, any, error) {
			s.N++
			s.Pad = strings.Repeat("x", 40*1024)
			return s, nil, nil
		},
	})); err != nil {
		t.Fatal(err)
	}
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx := context.Background()
	id := durable.NewEntityID("Big", "one")
	const ops = 100
	for i := 1; i <= ops; i++ {
		if err := c.SignalEntity(ctx, id, "add", nil); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			md, err := c.GetEntity(ctx, id)
			if err == nil && md.State != nil {
				var s bigState
				if err := json.Unmarshal([]byte(*md.State), &s); err != nil {
					t.Fatal(err)
				}
				if s.N == i {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("operation %d did not run: %v", i, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	blobs := countBlobs(t, b, id.String()+"/")
	if len(blobs) > 3 {
		t.Fatalf("%d blobs after %d operations, want at most 3: %v", len(blobs), ops, blobs[:min(len(blobs), 6)])
	}
	// The Instances row's Input is the URL of the history row's blob.
	row := rawRow(t, b, b.names.InstancesTable(), id.String(), "")
	hist := rawRow(t, b, b.names.HistoryTable(), id.String(), "0000000000000001")
	name, _ := hist["InputBlobName"].(string)
	if name == "" || row["Input"] != b.blobURL(name) {
		t.Fatalf("Instances Input = %v, history InputBlobName = %q", row["Input"], name)
	}
}

// spyBackend records the raw text of every queue message the worker
// gets, as the queue held it.
type spyBackend struct {
	*Backend
	mu    sync.Mutex
	texts []string
}

func (s *spyBackend) FetchActivityWorkItem(ctx context.Context) (*backend.ActivityWorkItem, error) {
	wi, err := s.Backend.FetchActivityWorkItem(ctx)
	if wi != nil {
		if st, ok := wi.Provider.(*activityState); ok {
			s.record(st.msg.text)
		}
	}
	return wi, err
}

func (s *spyBackend) FetchOrchestrationWorkItem(ctx context.Context) (*backend.OrchestrationWorkItem, error) {
	wi, err := s.Backend.FetchOrchestrationWorkItem(ctx)
	if st := stateOfOrNil(wi); st != nil {
		for _, m := range st.messages {
			s.record(m.text)
		}
	}
	return wi, err
}

func stateOfOrNil(wi *backend.OrchestrationWorkItem) *workItemState {
	if wi == nil {
		return nil
	}
	return stateOf(wi)
}

func (s *spyBackend) record(text string) {
	s.mu.Lock()
	s.texts = append(s.texts, text)
	s.mu.Unlock()
}

// message returns the decoded message whose event has the type and name.
func (s *spyBackend) message(t *testing.T, eventType int, name string) map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, text := range s.texts {
		var m map[string]any
		if json.Unmarshal([]byte(text), &m) != nil {
			continue
		}
		tm, _ := m["TaskMessage"].(map[string]any)
		ev, _ := tm["Event"].(map[string]any)
		if ev != nil && ev["EventType"] == float64(eventType) && ev["Name"] == name {
			return tm
		}
	}
	t.Fatalf("no message with event type %d named %q among %d", eventType, name, len(s.texts))
	return nil
}

func parentChildRegistry(t *testing.T) *durable.Registry {
	r := durable.NewRegistry()
	if err := r.AddActivity("Echo", durable.Activity(func(_ context.Context, s string) (string, error) { return s, nil })); err != nil {
		t.Fatal(err)
	}
	if err := r.AddOrchestrator("Child", durable.Orchestrator(func(ctx *durable.OrchestrationContext, s string) (string, error) {
		return s + "!", nil
	})); err != nil {
		t.Fatal(err)
	}
	if err := r.AddOrchestrator("Parent", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		a, err := durable.CallActivity[string](ctx, "Echo", "activity-input").Await()
		if err != nil {
			return "", err
		}
		c, err := durable.CallSubOrchestrator[string](ctx, "Child", "child-input", durable.WithChildInstanceID(ctx.InstanceID()+"-child")).Await()
		return a + c, err
	})); err != nil {
		t.Fatal(err)
	}
	return r
}

// runParent starts Parent with tags through the backend (as a .NET client
// that sets tags would) and waits for it.
func runParent(t *testing.T, b *Backend, r *durable.Registry, id string, store bool) *spyBackend {
	t.Helper()
	spy := &spyBackend{Backend: b}
	ctx, cancel := context.WithCancel(context.Background())
	w := durable.NewWorker(spy, r, durable.WorkerOptions{Logger: testLogger(t), StoreInputsInOrchestrationHistory: store})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	gen := 0
	start := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: time.Now().UTC(), Name: "Parent",
		Instance: &history.OrchestrationInstance{InstanceID: id, ExecutionID: "e" + id}, Generation: &gen,
		Tags: map[string]string{"team": "billing", "FireAndForget": "true"}}
	if err := b.CreateInstance(ctx, start, nil); err != nil {
		t.Fatal(err)
	}
	c := durable.NewClient(b, r)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	st, err := c.WaitForCompletion(wctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != `"activity-inputchild-input!"` {
		t.Fatalf("status %v output %s", st.RuntimeStatus, history.Deref(st.Output))
	}
	return spy
}

// historyRowOf reads the first history row of an instance with the event
// type, through the plain SDK.
func historyRowOf(t *testing.T, b *Backend, id, eventType string) map[string]any {
	t.Helper()
	rows, err := b.queryRows(context.Background(), b.names.HistoryTable(), PartitionKeyFilter(id)+" and EventType eq '"+eventType+"'", nil)
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s row of %s: %d rows, %v", eventType, id, len(rows), err)
	}
	return rows[0]
}

// By default TaskScheduled and SubOrchestrationInstanceCreated rows have
// no Input (the messages carry it), as Durable Functions writes them;
// storeInputsInOrchestrationHistory keeps it.
func TestCallInputsAreKeptInHistoryOnlyWhenAsked(t *testing.T) {
	b := newTestBackend(t)
	r := parentChildRegistry(t)
	spy := runParent(t, b, r, "noinputs", false)
	for _, typ := range []string{"TaskScheduled", "SubOrchestrationInstanceCreated"} {
		if row := historyRowOf(t, b, "noinputs", typ); row["Input"] != nil {
			t.Errorf("%s row has Input %v", typ, row["Input"])
		}
	}
	if ev := spy.message(t, int(history.TaskScheduled), "Echo")["Event"].(map[string]any); ev["Input"] != `["activity-input"]` {
		t.Errorf("TaskScheduled message Input = %v", ev["Input"])
	}
	if ev := spy.message(t, int(history.ExecutionStarted), "Child")["Event"].(map[string]any); ev["Input"] != `"child-input"` {
		t.Errorf("child start message Input = %v", ev["Input"])
	}

	b2 := newTestBackend(t)
	runParent(t, b2, r, "inputs", true)
	if row := historyRowOf(t, b2, "inputs", "TaskScheduled"); row["Input"] != `["activity-input"]` {
		t.Errorf("TaskScheduled row Input = %v", row["Input"])
	}
	if row := historyRowOf(t, b2, "inputs", "SubOrchestrationInstanceCreated"); row["Input"] != `"child-input"` {
		t.Errorf("SubOrchestrationInstanceCreated row Input = %v", row["Input"])
	}
}

// A sub-orchestration's start has no Generation (the child's Instances
// row keeps its own), and the orchestration's tags travel as the
// messages' OrchestrationExecutionContext and, merged, as the child's tags.
func TestChildStartGenerationAndTags(t *testing.T) {
	b := newTestBackend(t)
	ctx := context.Background()
	// The child's id was used before: its row is at generation 3.
	body, _ := json.Marshal(map[string]any{"PartitionKey": "tagged-child", "RowKey": "", "RuntimeStatus": "Completed",
		"Name": "Child", "ExecutionId": "old", "Generation": 3, "Input": `"old"`})
	if _, err := b.instances().AddEntity(ctx, body, nil); err != nil {
		t.Fatal(err)
	}
	spy := runParent(t, b, parentChildRegistry(t), "tagged", false)

	want := map[string]any{"team": "billing", "FireAndForget": "true"}
	act := spy.message(t, int(history.TaskScheduled), "Echo")
	if got := act["OrchestrationExecutionContext"].(map[string]any)["OrchestrationTags"]; !jsonEqual(got, want) {
		t.Errorf("activity message tags = %v, want %v", got, want)
	}
	child := spy.message(t, int(history.ExecutionStarted), "Child")
	if got := child["OrchestrationExecutionContext"].(map[string]any)["OrchestrationTags"]; !jsonEqual(got, want) {
		t.Errorf("child start message context tags = %v, want %v", got, want)
	}
	ev := child["Event"].(map[string]any)
	if ev["Generation"] != nil {
		t.Errorf("child start message has Generation %v", ev["Generation"])
	}
	if got := ev["Tags"]; !jsonEqual(got, map[string]any{"team": "billing"}) {
		t.Errorf("child start tags = %v, want the parent's without FireAndForget", got)
	}
	if row := historyRowOf(t, b, "tagged-child", "ExecutionStarted"); row["Generation"] != nil {
		t.Errorf("child ExecutionStarted row Generation = %v", row["Generation"])
	}
	waitFor(t, "the child's row", func() bool {
		row := rawRow(t, b, b.names.InstancesTable(), "tagged-child", "")
		return row["RuntimeStatus"] == "Completed" && row["ExecutionId"] != "old"
	})
	if row := rawRow(t, b, b.names.InstancesTable(), "tagged-child", ""); row["Generation"] != float64(3) {
		t.Errorf("child row Generation = %v, want 3 kept", row["Generation"])
	}
}

// jsonEqual compares JSON values, a dictionary's "$type" left out.
func jsonEqual(a, b any) bool {
	if m, ok := a.(map[string]any); ok {
		delete(m, "$type")
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
