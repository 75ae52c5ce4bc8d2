package azstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

var rowTableCounter atomic.Int64

// rowTestTable creates a fresh table in the test binary's Azurite and
// deletes it when the test ends.
func rowTestTable(t *testing.T) *aztables.Client {
	t.Helper()
	c, err := NewClients(testAccount(t), ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("RowCodec%d%d", rowTableCounter.Add(1), time.Now().UnixNano()%1_000_000)
	tc := c.Table.NewClient(name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := tc.CreateTable(ctx, nil); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = tc.Delete(ctx, nil)
	})
	return tc
}

func writeRow(t *testing.T, tc *aztables.Client, row map[string]any, mode aztables.UpdateMode) {
	t.Helper()
	body, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.UpsertEntity(context.Background(), body, &aztables.UpsertEntityOptions{UpdateMode: mode}); err != nil {
		t.Fatalf("upsert %v/%v: %v", row["PartitionKey"], row["RowKey"], err)
	}
}

func readRows(t *testing.T, tc *aztables.Client, filter string) []map[string]any {
	t.Helper()
	pager := tc.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
	var rows []map[string]any
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatalf("query %s: %v", filter, err)
		}
		for _, raw := range page.Entities {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, m)
		}
	}
	return rows
}

// History rows written through the aztables SDK to Azurite come back,
// with the service's typing, as the same events; the filter helper
// selects exactly the instance's partition.
func TestHistoryRowsThroughAzurite(t *testing.T) {
	tc := rowTestTable(t)
	const id = "az/1#?^\t"
	events := append(allEvents(), sparseEvents()...)
	big := strings.Repeat("é", 31000)
	events = append(events, &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Date(2024, 5, 1, 12, 0, 0, 999999900, time.UTC), Name: "big", Input: &big})
	var offloaded []largeProperty
	for i, e := range events {
		row, err := eventRow(id, "exec", i, e)
		if err != nil {
			t.Fatal(err)
		}
		props, err := offloadRowProperties(row, nil)
		if err != nil {
			t.Fatal(err)
		}
		offloaded = append(offloaded, props...)
		writeRow(t, tc, row, aztables.UpdateModeReplace)
	}
	if len(offloaded) != 1 || offloaded[0].Column != "Input" {
		t.Fatalf("offloaded %d columns", len(offloaded))
	}
	now := time.Date(2024, 5, 1, 12, 0, 0, 123456700, time.UTC)
	writeRow(t, tc, sentinelRow(id, "exec", true, now), aztables.UpdateModeReplace)
	writeRow(t, tc, eventToRow("az/1#", "other", 0, events[0]), aztables.UpdateModeReplace) // a neighbour partition

	rows := readRows(t, tc, partitionKeyFilter(id))
	if len(rows) != len(events)+1 {
		t.Fatalf("read %d rows, want %d", len(rows), len(events)+1)
	}
	for _, r := range rows {
		if r["PartitionKey"] != EscapePartitionKey(id) {
			t.Fatalf("row of partition %v", r["PartitionKey"])
		}
		if r["RowKey"] == sentinelRowKey {
			if r["ExecutionId"] != "exec" || r["IsCheckpointComplete"] != true {
				t.Errorf("sentinel %v", r)
			}
			if ts, err := parseDotNetTime(fmt.Sprint(r["CheckpointCompletedTimestamp"])); err != nil || !ts.Equal(now) {
				t.Errorf("CheckpointCompletedTimestamp %v (%v)", r["CheckpointCompletedTimestamp"], err)
			}
			continue
		}
		seq, err := sequenceForRowKey(r["RowKey"].(string))
		if err != nil {
			t.Fatal(err)
		}
		want := events[seq]
		if !want.Timestamp.IsZero() && r["_Timestamp@odata.type"] != "Edm.DateTime" {
			t.Errorf("row %d: _Timestamp came back as %v with type %v", seq, r["_Timestamp"], r["_Timestamp@odata.type"])
		}
		if _, isNumber := r["EventId"].(float64); !isNumber {
			t.Errorf("row %d: EventId came back as %T", seq, r["EventId"])
		}
		for _, ref := range rowBlobReferences(r) {
			if ref.BlobName != offloaded[0].BlobName {
				t.Fatalf("row %d references %s", seq, ref.BlobName)
			}
			restoreLargeProperty(r, ref.Column, offloaded[0].Value)
		}
		got, err := rowToEvent(r)
		if err != nil {
			t.Fatalf("row %d: %v", seq, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("row %d:\n got %+v\nwant %+v", seq, got, want)
		}
	}
}

// The client's Pending row and an episode's merge, as the Table service
// combines them, read back as the instance's state.
func TestInstanceRowsThroughAzurite(t *testing.T) {
	tc := rowTestTable(t)
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	start := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: created,
		Instance: &history.OrchestrationInstance{InstanceID: "inst/1", ExecutionID: "e1"}, Name: "Orch", Input: history.Str(`"in"`),
		Tags: map[string]string{"k": "v"}, Generation: intPtr(0)}
	pending := pendingInstanceRowNow("Hub", start)
	body, _ := json.Marshal(pending)
	if _, err := tc.AddEntity(context.Background(), body, nil); err != nil {
		t.Fatal(err)
	}
	done := created.Add(2 * time.Second)
	events := []*history.Event{
		{Type: history.OrchestratorStarted, EventID: -1, Timestamp: created},
		start,
		{Type: history.ExecutionCompleted, EventID: 0, Timestamp: done, OrchestrationStatus: history.StatusCompleted, Result: history.Str(`"out"`)},
		{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: done},
	}
	upd := backend.InstanceUpdate{RuntimeStatus: history.StatusCompleted, CompletedTime: done, CustomStatus: history.Str(`"fine"`)}
	writeRow(t, tc, checkpointInstanceRowNow("Hub", "inst/1", "e1", events, upd), aztables.UpdateModeMerge)

	resp, err := tc.GetEntity(context.Background(), EscapePartitionKey("inst/1"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var row map[string]any
	if err := json.Unmarshal(resp.Value, &row); err != nil {
		t.Fatal(err)
	}
	st, err := rowToInstanceState(row)
	if err != nil {
		t.Fatal(err)
	}
	want := &backend.InstanceState{InstanceID: "inst/1", ExecutionID: "e1", Name: "Orch", RuntimeStatus: history.StatusCompleted,
		Input: history.Str(`"in"`), Output: history.Str(`"out"`), CustomStatus: history.Str(`"fine"`),
		CreatedTime: created, LastUpdatedTime: done, CompletedTime: done, Tags: map[string]string{"k": "v"}}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("instance:\n got %+v\nwant %+v", st, want)
	}
	if row["TaskHubName"] != "Hub" || row["CreatedTime@odata.type"] != "Edm.DateTime" {
		t.Errorf("row %v", row)
	}
}
