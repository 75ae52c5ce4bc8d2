package azstorage

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// rawRow reads a row through the plain aztables SDK with full metadata, so
// the test sees the Edm types as the service stores them.
func rawRow(t *testing.T, b *Backend, table, pk, rk string) map[string]any {
	t.Helper()
	resp, err := b.c.Table.NewClient(table).GetEntity(context.Background(), pk, rk,
		&aztables.GetEntityOptions{Format: to.Ptr(aztables.MetadataFormatFull)})
	if err != nil {
		t.Fatalf("get %s(%q,%q): %v", table, pk, rk, err)
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Value, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func listNames(t *testing.T, b *Backend) (queues, tables []string) {
	ctx := context.Background()
	qp := b.c.Queue.NewListQueuesPager(nil)
	for qp.More() {
		page, err := qp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range page.Queues {
			if strings.HasPrefix(*q.Name, strings.ToLower(b.opts.TaskHub)+"-") {
				queues = append(queues, *q.Name)
			}
		}
	}
	tp := b.c.Table.NewListTablesPager(nil)
	for tp.More() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range page.Tables {
			if strings.HasPrefix(*tb.Name, b.opts.TaskHub) {
				tables = append(tables, *tb.Name)
			}
		}
	}
	sort.Strings(queues)
	sort.Strings(tables)
	return queues, tables
}

func TestTaskHubResourcesAreNamedAsDurableTask(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.TaskHub = "LayoutHub" + time.Now().Format("150405") })
	hub := b.opts.TaskHub
	lc := strings.ToLower(hub)
	queues, tables := listNames(t, b)
	wantQ := []string{lc + "-control-00", lc + "-control-01", lc + "-control-02", lc + "-control-03", lc + "-workitems"}
	wantT := []string{hub + "History", hub + "Instances", hub + "Partitions"}
	if strings.Join(queues, ",") != strings.Join(wantQ, ",") || strings.Join(tables, ",") != strings.Join(wantT, ",") {
		t.Fatalf("queues %v tables %v;\nwant %v %v", queues, tables, wantQ, wantT)
	}
	// One Partitions row per control queue, PK "" and RK the queue name.
	rows, err := b.queryRows(context.Background(), b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	if err != nil || len(rows) != 4 {
		t.Fatalf("partition rows = %d, %v", len(rows), err)
	}
	// The large-message container is created lazily: not yet.
	if _, err := b.c.Blob.ServiceClient().NewContainerClient(b.names.LargeMessagesContainer()).GetProperties(context.Background(), nil); !isNotFound(err) {
		t.Fatalf("largemessages container must not exist before a large message: %v", err)
	}
}

// A client start writes the ExecutionStarted message with "$type" first,
// integer enums and Z times, and a Pending row with the same execution id.
func TestStartMessageAndPendingRow(t *testing.T) {
	b := newTestBackend(t)
	c := durable.NewClient(b, nil)
	ctx := context.Background()
	id := "layout/start#1"
	if _, err := c.StartNew(ctx, "HelloCities", map[string]int{"n": 1}, durable.WithInstanceID(id)); err != nil {
		t.Fatal(err)
	}
	queue, _ := b.controlQueue(id)
	peek, err := b.queue(queue).PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: to.Ptr(int32(5))})
	if err != nil || len(peek.Messages) != 1 {
		t.Fatalf("peek %s: %d messages, %v", queue, len(peek.Messages), err)
	}
	text := *peek.Messages[0].MessageText
	for _, want := range []string{`{"$type":"DurableTask.AzureStorage.MessageData","ActivityId":"`,
		`"Event":{"$type":"DurableTask.Core.History.ExecutionStartedEvent","OrchestrationInstance":{"$type":"DurableTask.Core.OrchestrationInstance","InstanceId":"layout/start#1","ExecutionId":"`,
		`"EventType":0,`, `"Name":"HelloCities","Version":"","Input":"{\"n\":1}"`, `"Sender":{"InstanceId":"","ExecutionId":""}`} {
		if !strings.Contains(text, want) {
			t.Fatalf("message lacks %s:\n%s", want, text)
		}
	}
	m, err := DecodeMessage([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if ts := FormatDotNetTime(m.TaskMessage.Event.Timestamp); !strings.Contains(text, `"Timestamp":"`+ts+`"`) || !strings.HasSuffix(ts, "Z") || len(ts) > len("2024-05-01T12:00:00.1234567Z") {
		t.Fatalf("timestamp %s not written as .NET does:\n%s", ts, text)
	}
	row := rawRow(t, b, b.names.InstancesTable(), "layout^0start^21", "")
	execID := m.TaskMessage.OrchestrationInstance.ExecutionID
	if row["RuntimeStatus"] != "Pending" || row["ExecutionId"] != execID || row["Name"] != "HelloCities" || row["Input"] != `{"n":1}` ||
		row["TaskHubName"] != b.opts.TaskHub || row["CreatedTime@odata.type"] != "Edm.DateTime" || row["Generation"] != float64(0) ||
		row["LastUpdatedTime@odata.type"] != "Edm.DateTime" || row["Tags"] != "null" {
		t.Fatalf("instance row = %v", row)
	}
	// A second start of the same id while pending is refused and changes nothing.
	if _, err := c.StartNew(ctx, "HelloCities", 2, durable.WithInstanceID(id)); !errors.Is(err, durable.ErrInstanceExists) {
		t.Fatalf("second start: %v", err)
	}
	if again := rawRow(t, b, b.names.InstancesTable(), "layout^0start^21", ""); again["ExecutionId"] != execID {
		t.Fatalf("row changed: %v", again)
	}
}

// After HelloCities the History rows have DurableTask's columns and Edm
// types, and the Instances row its final state.
func TestHistoryAndInstanceRowsAfterRun(t *testing.T) {
	b := newTestBackend(t)
	r := helloRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := c.StartNew(ctx, "HelloCities", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitForCompletion(ctx, id); err != nil {
		t.Fatal(err)
	}
	sentinel := rawRow(t, b, b.names.HistoryTable(), id, "sentinel")
	execID, _ := sentinel["ExecutionId"].(string)
	if len(execID) != 32 || sentinel["IsCheckpointComplete"] != true || sentinel["CheckpointCompletedTimestamp@odata.type"] != "Edm.DateTime" {
		t.Fatalf("sentinel = %v", sentinel)
	}
	started := rawRow(t, b, b.names.HistoryTable(), id, "0000000000000001")
	if started["EventType"] != "ExecutionStarted" || started["EventId"] != float64(-1) || started["IsPlayed"] != true ||
		started["_Timestamp@odata.type"] != "Edm.DateTime" || started["ExecutionId"] != execID || started["Name"] != "HelloCities" ||
		started["ParentInstance"] != "null" || started["Tags"] != "null" || started["Generation"] != float64(0) ||
		started["OrchestrationInstance"] != `{"InstanceId":"`+id+`","ExecutionId":"`+execID+`"}` {
		t.Fatalf("ExecutionStarted row = %v", started)
	}
	if _, hasInput := started["Input"]; hasInput {
		t.Fatalf("a null input must leave the column out: %v", started)
	}
	sched := rawRow(t, b, b.names.HistoryTable(), id, "0000000000000002")
	if sched["EventType"] != "TaskScheduled" || sched["EventId"] != float64(0) || sched["Name"] != "SayHello" || sched["Input"] != nil {
		t.Fatalf("TaskScheduled row = %v", sched)
	}
	done := rawRow(t, b, b.names.HistoryTable(), id, "000000000000000E")
	if done["EventType"] != "ExecutionCompleted" || done["OrchestrationStatus"] != "Completed" || done["EventId"] != float64(3) ||
		done["Result"] != `["Hello Tokyo!","Hello Seattle!","Hello London!"]` || done["FailureDetails"] != "null" {
		t.Fatalf("ExecutionCompleted row = %v", done)
	}
	inst := rawRow(t, b, b.names.InstancesTable(), id, "")
	if inst["RuntimeStatus"] != "Completed" || inst["CustomStatus"] != "null" || inst["CompletedTime@odata.type"] != "Edm.DateTime" ||
		inst["Output"] != `["Hello Tokyo!","Hello Seattle!","Hello London!"]` || inst["ExecutionId"] != execID {
		t.Fatalf("instance row = %v", inst)
	}
}

// The sentinel really guards: a checkpoint with a stale ETag fails with a
// typed conflict and changes no row.
func TestStaleSentinelETagConflicts(t *testing.T) {
	b := newTestBackend(t)
	ctx := context.Background()
	id := "conflict-1"
	ev := func(n int) *history.Event {
		return &history.Event{Type: history.OrchestratorStarted, EventID: -1, Timestamp: time.Now().UTC().Add(time.Duration(n))}
	}
	first := &workItemState{}
	if err := b.writeHistory(ctx, first, id, "e1", 0, []*history.Event{ev(0), ev(1)}); err != nil {
		t.Fatal(err)
	}
	stale := first.sentinelETag
	winner := &workItemState{sentinelETag: stale}
	if err := b.writeHistory(ctx, winner, id, "e1", 2, []*history.Event{ev(2)}); err != nil {
		t.Fatal(err)
	}
	loser := &workItemState{sentinelETag: stale}
	err := b.writeHistory(ctx, loser, id, "e1", 2, []*history.Event{ev(3), ev(4)})
	if !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("err = %v, want backend.ErrConflict", err)
	}
	var te *TransactionError
	if !errors.As(err, &te) || te.Status != 412 {
		t.Fatalf("err = %#v, want a 412 TransactionError", err)
	}
	h, err := b.loadHistory(ctx, id, "")
	if err != nil || len(h.events) != 3 || h.sentinelETag != winner.sentinelETag {
		t.Fatalf("history after the conflict: %d events, etag %q (want 3, %q), %v", len(h.events), h.sentinelETag, winner.sentinelETag, err)
	}
	firstTS := h.events[0].Timestamp
	// A second "first" writer (no ETag known: Add) also loses, with 409.
	fresh := &workItemState{}
	if err := b.writeHistory(ctx, fresh, id, "e1", 0, []*history.Event{ev(5)}); !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("add over an existing sentinel: %v", err)
	}
	if h, _ := b.loadHistory(ctx, id, ""); len(h.events) != 3 || !h.events[0].Timestamp.Equal(firstTS) {
		t.Fatalf("rows changed by a failed batch: %d events", len(h.events))
	}
}

// A control queue whose Partitions row names another live owner is not
// read: its messages stay there.
func TestForeignPartitionIsNotRead(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.PartitionCount = 1; o.LeaseAcquireInterval = 100 * time.Millisecond })
	ctx := context.Background()
	q := b.names.ControlQueue(0)
	foreign := &partitionLease{Queue: q, CurrentOwner: "someone-else", OwnedSince: time.Now().UTC(),
		LastRenewal: time.Now().UTC(), ExpiresAt: time.Now().UTC().Add(time.Hour)}
	rows, _ := b.queryRows(ctx, b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	foreign.etag = leaseFromRow(rows[0]).etag
	if err := b.parts.(*partitionManager).write(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	c := durable.NewClient(b, nil)
	if _, err := c.StartNew(ctx, "HelloCities", nil, durable.WithInstanceID("foreign")); err != nil {
		t.Fatal(err)
	}
	runWorker(t, b, helloRegistry(t))
	time.Sleep(time.Second)
	props, err := b.queue(q).GetProperties(ctx, nil)
	if err != nil || props.ApproximateMessagesCount == nil || *props.ApproximateMessagesCount != 1 {
		t.Fatalf("the foreign control queue was read: %v %v", props.ApproximateMessagesCount, err)
	}
	if st, _ := c.GetStatus(ctx, "foreign"); st.RuntimeStatus != durable.StatusPending {
		t.Fatalf("status = %v, want Pending", st.RuntimeStatus)
	}
	rows, _ = b.queryRows(ctx, b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	if l := leaseFromRow(rows[0]); l.CurrentOwner != "someone-else" {
		t.Fatalf("the lease was taken over: %+v", l)
	}
}
