package azstorage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
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

// One episode that writes 95 history rows of 14,900 three-byte characters
// each (4.2 MB as UTF-8, more than a table transaction takes, though under
// 99 rows and under 3 MB counted in UTF-16) is split into batches by
// size, and the orchestration completes.
func TestLargeNonASCIIEpisodeIsSplitBySize(t *testing.T) {
	b := newTestBackend(t)
	r := durable.NewRegistry()
	const n = 95
	text := strings.Repeat("漢", 14900) // queue messages stay under 45 KiB
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
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
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

// Messages deferred on purpose are never taken as poison, however often
// they come back: a response that arrives before its request is in
// history waits for it, and a start waits for its Instances row.
func TestDeferredMessagesAreNotPoison(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.MaxDequeueCount = 1; o.PartitionCount = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	r := durable.NewRegistry()
	_ = r.AddActivity("SayHello", durable.Activity(func(ctx context.Context, s string) (string, error) { return "Hello " + s, nil }))
	_ = r.AddOrchestrator("WaitThenCall", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		if _, err := durable.WaitForExternalEvent[any](ctx, "go").Await(); err != nil {
			return "", err
		}
		return durable.CallActivity[string](ctx, "SayHello", "you").Await()
	}))
	runWorker(t, b, r)
	c := durable.NewClient(b, r)

	// A result for call 0, which the instance has not scheduled yet.
	id := "early-response"
	if _, err := c.StartNew(ctx, "WaitThenCall", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the instance to run", func() bool {
		st, err := c.GetStatus(ctx, id)
		return err == nil && st.RuntimeStatus == durable.StatusRunning
	})
	early := `"early"`
	resp := &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: 0, Result: &early}
	if err := b.SendEvent(ctx, history.OrchestrationInstance{InstanceID: id}, resp); err != nil {
		t.Fatal(err)
	}

	// A start whose Instances row is written only after a few deliveries.
	late := "late-row"
	exec := "e" + late
	gen := 0
	start := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: time.Now().UTC(), Name: "WaitThenCall",
		Instance: &history.OrchestrationInstance{InstanceID: late, ExecutionID: exec}, Generation: &gen}
	queue, _ := b.controlQueue(late)
	if err := b.send(ctx, queue, b.newMessage(start, *start.Instance, history.OrchestrationInstance{}, nil), 0); err != nil {
		t.Fatal(err)
	}

	time.Sleep(3500 * time.Millisecond) // both come back at least twice: more than MaxDequeueCount
	row, _ := json.Marshal(PendingInstanceRow(b.opts.TaskHub, start))
	if _, err := b.instances().AddEntity(ctx, row, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.RaiseEvent(ctx, id, "go", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.RaiseEvent(ctx, late, "go", nil); err != nil {
		t.Fatal(err)
	}
	for _, i := range []string{id, late} {
		st, err := c.WaitForCompletion(ctx, i)
		if err != nil || st.RuntimeStatus != durable.StatusCompleted {
			t.Fatalf("%s: %v %s %v", i, st.RuntimeStatus, history.Deref(st.Output), err)
		}
	}
	if recs := poisonRecords(t, b); len(recs) != 0 {
		t.Fatalf("deferred messages were moved to the poison queue: %+v", recs)
	}
}

// Failures are stored as Durable Functions stores them: TaskFailed with
// Reason "Activity function 'X' failed: …" and the error as .NET exception
// JSON in Details; a failed orchestration's ExecutionCompleted with its
// Result text and no FailureDetails, and that text as the Instances
// Output. A TaskFailed written by a .NET worker (no FailureDetails, the
// exception in Details) reads as the original exception.
func TestFailureShapes(t *testing.T) {
	b := newTestBackend(t)
	r := durable.NewRegistry()
	release := make(chan struct{})
	_ = r.AddActivity("Fail", durable.Activity(func(context.Context, any) (any, error) { return nil, errors.New("boom") }))
	_ = r.AddActivity("Remote", durable.Activity(func(ctx context.Context, _ any) (any, error) {
		select { // a .NET worker answers instead
		case <-release:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	}))
	_ = r.AddOrchestrator("FailHard", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (any, error) {
		return durable.CallActivity[any](ctx, "Fail", nil).Await()
	}))
	_ = r.AddOrchestrator("CallRemote", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		_, err := durable.CallActivity[any](ctx, "Remote", nil).Await()
		var tf *durable.TaskFailedError
		if !errors.As(err, &tf) {
			return "", fmt.Errorf("want a task failure, got %v", err)
		}
		return tf.Details.ErrorType + "|" + tf.Details.ErrorMessage, nil
	}))
	runWorker(t, b, r)
	t.Cleanup(func() { close(release) }) // before the worker stops
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	id := "fail-hard"
	if _, err := c.StartNew(ctx, "FailHard", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	if st, err := c.WaitForCompletion(ctx, id); err != nil || st.RuntimeStatus != durable.StatusFailed {
		t.Fatalf("status %v %v", st, err)
	}
	failed := historyRowOf(t, b, id, "TaskFailed")
	if failed["Reason"] != "Activity function 'Fail' failed: boom" {
		t.Errorf("TaskFailed Reason = %v", failed["Reason"])
	}
	var exc map[string]any
	d, _ := failed["Details"].(string)
	if err := json.Unmarshal([]byte(d), &exc); err != nil || exc["Message"] != "boom" ||
		exc["$type"] != "System.Exception, System.Private.CoreLib" || exc["ClassName"] == nil {
		t.Errorf("TaskFailed Details = %v (%v)", failed["Details"], err)
	}
	done := historyRowOf(t, b, id, "ExecutionCompleted")
	result, _ := done["Result"].(string)
	if !strings.HasPrefix(result, "Orchestrator function 'FailHard' failed: ") || !strings.Contains(result, "boom") {
		t.Errorf("ExecutionCompleted Result = %q", result)
	}
	if fd, ok := done["FailureDetails"]; ok && fd != "null" {
		t.Errorf("ExecutionCompleted FailureDetails = %v, want none", fd)
	}
	if row := rawRow(t, b, b.names.InstancesTable(), id, ""); row["Output"] != result {
		t.Errorf("Instances Output = %v, want %q", row["Output"], result)
	}

	id = "call-remote"
	if _, err := c.StartNew(ctx, "CallRemote", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the call to be scheduled", func() bool {
		rows, _ := b.queryRows(ctx, b.names.HistoryTable(), PartitionKeyFilter(id)+" and EventType eq 'TaskScheduled'", nil)
		return len(rows) == 1
	})
	reason := "Activity function 'Remote' failed: Kaboom"
	details := `{"$type":"System.InvalidOperationException, System.Private.CoreLib","ClassName":"System.InvalidOperationException",` +
		`"Message":"Kaboom","Data":null,"InnerException":null,"HelpURL":null,"StackTraceString":"   at Remote.Run()",` +
		`"RemoteStackTraceString":null,"RemoteStackIndex":0,"ExceptionMethod":null,"HResult":-2146233079,"Source":"Remote","WatsonBuckets":null}`
	dotnet := &history.Event{Type: history.TaskFailed, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: 0, Reason: &reason, Details: &details}
	queue, _ := b.controlQueue(id)
	target := history.OrchestrationInstance{InstanceID: id}
	if _, err := b.enqueue(ctx, queue, b.newMessage(dotnet, target, target, nil), 0, false); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil || st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != `"System.InvalidOperationException|Kaboom"` {
		t.Fatalf("status %v output %s %v", st.RuntimeStatus, history.Deref(st.Output), err)
	}
}

// startWorker runs a worker until the returned stop is called.
func startWorker(t *testing.T, b *Backend, r *durable.Registry) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := durable.NewWorker(b, r, durable.WorkerOptions{Logger: testLogger(t)})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// Legacy rewind as DurableTask.AzureStorage does it: failure rows (and the
// TaskScheduled a TaskFailed answers) become GenericEvent rows with Reason
// "Rewound: {type}" and their other columns kept; a failed
// sub-orchestration's SubOrchestrationInstanceCreated keeps its type and
// the child is rewound too (not restarted); only the deepest instance is
// woken, by a GenericEvent whose Data is the reason; Output is left as it
// was.
func TestLegacyRewindMatchesDurableTask(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.PartitionCount = 1 })
	r := durable.NewRegistry()
	var calls atomic.Int32
	_ = r.AddActivity("Flaky", durable.Activity(func(context.Context, any) (int, error) {
		if calls.Add(1) == 1 {
			return 0, errors.New("first call fails")
		}
		return 7, nil
	}))
	_ = r.AddOrchestrator("RewindChild", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		return durable.CallActivity[int](ctx, "Flaky", nil).Await()
	}))
	_ = r.AddOrchestrator("RewindParent", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		n, err := durable.CallSubOrchestrator[int](ctx, "RewindChild", nil, durable.WithChildInstanceID("rw-child")).Await()
		return n * 2, err
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c := durable.NewClient(b, r)
	stop := startWorker(t, b, r)
	id := "rw-parent"
	if _, err := c.StartNew(ctx, "RewindParent", nil, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	if st, err := c.WaitForCompletion(ctx, id); err != nil || st.RuntimeStatus != durable.StatusFailed {
		t.Fatalf("first run: %v %v", st, err)
	}
	waitFor(t, "the child to fail", func() bool {
		st, err := c.GetStatus(ctx, "rw-child")
		return err == nil && st.RuntimeStatus == durable.StatusFailed
	})
	stop()
	parentOutput := rawRow(t, b, b.names.InstancesTable(), id, "")["Output"]
	childExec := rawRow(t, b, b.names.InstancesTable(), "rw-child", "")["ExecutionId"]
	if err := c.Rewind(ctx, id, "try again"); err != nil {
		t.Fatal(err)
	}

	byType := func(inst string) map[string][]map[string]any {
		rows, err := b.queryRows(ctx, b.names.HistoryTable(), PartitionKeyFilter(inst), nil)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]map[string]any{}
		for _, r := range rows {
			typ, _ := r["EventType"].(string)
			out[typ] = append(out[typ], r)
		}
		return out
	}
	p := byType(id)
	if len(p["SubOrchestrationInstanceFailed"]) != 0 || len(p["ExecutionCompleted"]) != 0 || len(p["SubOrchestrationInstanceCreated"]) != 1 {
		t.Fatalf("parent rows after rewind: %v", p)
	}
	if created := p["SubOrchestrationInstanceCreated"][0]; created["Reason"] != "Rewound: SubOrchestrationInstanceCreated" || created["InstanceId"] != "rw-child" {
		t.Errorf("SubOrchestrationInstanceCreated = %v", created)
	}
	reasons := map[string]bool{}
	for _, g := range p["GenericEvent"] {
		reasons[g["Reason"].(string)] = true
		if g["Reason"] == "Rewound: SubOrchestrationInstanceFailed" && g["TaskScheduledId"] != float64(0) {
			t.Errorf("the rewound failure lost its columns: %v", g)
		}
	}
	if !reasons["Rewound: SubOrchestrationInstanceFailed"] || !reasons["Rewound: ExecutionCompleted"] {
		t.Errorf("parent GenericEvent reasons = %v", reasons)
	}
	ch := byType("rw-child")
	if len(ch["TaskScheduled"]) != 0 || len(ch["TaskFailed"]) != 0 || len(ch["GenericEvent"]) != 3 {
		t.Fatalf("child rows after rewind: %v", ch)
	}
	for _, g := range ch["GenericEvent"] {
		if g["Reason"] == "Rewound: TaskScheduled" && g["Name"] != "Flaky" {
			t.Errorf("rewound TaskScheduled lost its columns: %v", g)
		}
	}
	for _, inst := range []string{id, "rw-child"} {
		row := rawRow(t, b, b.names.InstancesTable(), inst, "")
		if row["RuntimeStatus"] != "Pending" {
			t.Errorf("%s row status = %v", inst, row["RuntimeStatus"])
		}
	}
	if got := rawRow(t, b, b.names.InstancesTable(), id, "")["Output"]; got != parentOutput {
		t.Errorf("rewind changed the Output: %v, was %v", got, parentOutput)
	}
	// Only the child is woken, with the reason as the GenericEvent's Data.
	peek, err := b.queue(b.names.ControlQueue(0)).PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(32))})
	if err != nil {
		t.Fatal(err)
	}
	var woken []string
	for _, m := range peek.Messages {
		var md map[string]any
		_ = json.Unmarshal([]byte(*m.MessageText), &md)
		tm, _ := md["TaskMessage"].(map[string]any)
		ev, _ := tm["Event"].(map[string]any)
		inst, _ := tm["OrchestrationInstance"].(map[string]any)
		if ev["Data"] != "try again" {
			t.Errorf("wake message event = %v", ev)
		}
		woken = append(woken, fmt.Sprint(inst["InstanceId"]))
	}
	if strings.Join(woken, ",") != "rw-child" {
		t.Fatalf("woken instances = %v, want the child only", woken)
	}

	b2, err := New(b.c, b.opts) // a stopped backend does not start again
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, b2, r)
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil || st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != "14" {
		t.Fatalf("after rewind: %v %s %v", st.RuntimeStatus, history.Deref(st.Output), err)
	}
	if got := rawRow(t, b, b.names.InstancesTable(), "rw-child", "")["ExecutionId"]; got != childExec {
		t.Errorf("the child was restarted (execution %v, was %v), not rewound", got, childExec)
	}
}

// A client start whose input is too large for a column but small enough
// for a queue message writes the Pending row as DurableTask does: Input ""
// and InputBlobName naming "{id}/history--Input-{random}-Input.json.gz";
// status reads still return the input.
func TestPendingRowLargeInputUsesInputBlobName(t *testing.T) {
	b := newTestBackend(t)
	ctx := context.Background()
	c := durable.NewClient(b, nil)
	input := strings.Repeat("a", 31000)
	id := "pending-large"
	if _, err := c.StartNew(ctx, "Anything", input, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	row := rawRow(t, b, b.names.InstancesTable(), id, "")
	name, _ := row["InputBlobName"].(string)
	if row["Input"] != "" || !strings.HasPrefix(name, id+"/history--Input-") || !strings.HasSuffix(name, "-Input.json.gz") {
		t.Fatalf("Input = %.60v…, InputBlobName = %q", row["Input"], name)
	}
	st, err := c.GetStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(input)
	if got := history.Deref(st.Input); got != string(want) {
		t.Fatalf("status input has %d bytes, want %d", len(got), len(want))
	}
}
