package azstorage

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

var (
	rowT0  = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	rowT1  = rowT0.Add(1500 * time.Millisecond)
	rowT2  = rowT0.Add(3 * time.Second)
	rowNow = rowT0.Add(time.Hour) // "now"
)

func edmTime(t time.Time) string { return formatDotNetTime(t) }

func TestPendingInstanceRow(t *testing.T) {
	sched := rowT0.Add(time.Minute)
	start := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: rowT0,
		Instance: &history.OrchestrationInstance{InstanceID: "order/42", ExecutionID: "e1"},
		Name:     "Process", Version: "1.0", Input: history.Str(`{"n":1}`), Tags: map[string]string{"k": "v"},
		ScheduledStartTime: &sched, Generation: intPtr(3)}
	got := pendingInstanceRow("MyHub", start, rowNow)
	want := map[string]any{
		"PartitionKey": "order^042", "RowKey": "",
		"Input":       `{"n":1}`,
		"CreatedTime": edmTime(rowT0), "CreatedTime@odata.type": "Edm.DateTime",
		"Name": "Process", "Version": "1.0", "RuntimeStatus": "Pending",
		"LastUpdatedTime": edmTime(rowNow), "LastUpdatedTime@odata.type": "Edm.DateTime",
		"TaskHubName":        "MyHub",
		"ScheduledStartTime": edmTime(sched), "ScheduledStartTime@odata.type": "Edm.DateTime",
		"ExecutionId": "e1", "Generation": 3, "Tags": `{"k":"v"}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pending row:\n got %v\nwant %v", got, want)
	}
	// Nil values are left out; nil tags are the text "null".
	got = pendingInstanceRow("MyHub", &history.Event{Type: history.ExecutionStarted, Timestamp: rowT0,
		Instance: &history.OrchestrationInstance{InstanceID: "x", ExecutionID: "e"}, Name: "N"}, rowNow)
	for _, col := range []string{"Input", "ScheduledStartTime", "Generation", "CustomStatus", "Output", "CompletedTime"} {
		if _, ok := got[col]; ok {
			t.Errorf("sparse pending row has %s", col)
		}
	}
	if got["Tags"] != "null" {
		t.Errorf("Tags = %v", got["Tags"])
	}
	// The exported form stamps the current time.
	before := time.Now().Add(-time.Second)
	now, err := parseDotNetTime(pendingInstanceRowNow("H", start)["LastUpdatedTime"].(string))
	if err != nil || now.Before(before) || now.After(time.Now().Add(time.Second)) {
		t.Errorf("LastUpdatedTime %v, %v", now, err)
	}
}

func TestCheckpointInstanceRow(t *testing.T) {
	started := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: rowT0,
		Instance: &history.OrchestrationInstance{InstanceID: "i", ExecutionID: "e"},
		Name:     "Orch", Version: "2", Input: history.Str("5"), Tags: map[string]string{"b": "2", "a": "1"}, Generation: intPtr(0)}
	orchStarted := &history.Event{Type: history.OrchestratorStarted, EventID: -1, Timestamp: rowT0}
	orchDone := &history.Event{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: rowT2}
	failure := &history.FailureDetails{ErrorType: "System.Exception", ErrorMessage: "kaput"}
	keys := func(extra map[string]any) map[string]any {
		m := map[string]any{"PartitionKey": "i", "RowKey": "", "ExecutionId": "e", "TaskHubName": "Hub", "CustomStatus": "null",
			"LastUpdatedTime": edmTime(rowT2), "LastUpdatedTime@odata.type": "Edm.DateTime"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	completedAt := map[string]any{"CompletedTime": edmTime(rowT1), "CompletedTime@odata.type": "Edm.DateTime"}
	with := func(a, b map[string]any) map[string]any {
		for k, v := range b {
			a[k] = v
		}
		return a
	}
	for name, c := range map[string]struct {
		events []*history.Event
		upd    backend.InstanceUpdate
		want   map[string]any
	}{
		"first episode": {
			[]*history.Event{orchStarted, started, {Type: history.TaskScheduled, Timestamp: rowT1, Name: "A"}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusRunning},
			keys(map[string]any{"Name": "Orch", "Version": "2", "CreatedTime": edmTime(rowT0), "CreatedTime@odata.type": "Edm.DateTime",
				"RuntimeStatus": "Running", "Tags": `{"a":"1","b":"2"}`, "Generation": 0, "Input": "5"}),
		},
		"completed": {
			[]*history.Event{orchStarted, {Type: history.ExecutionCompleted, Timestamp: rowT1, OrchestrationStatus: history.StatusCompleted, Result: history.Str(`"done"`)}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusCompleted, CustomStatus: history.Str(`"50%"`), CompletedTime: rowT1},
			with(keys(map[string]any{"RuntimeStatus": "Completed", "Output": `"done"`, "CustomStatus": `"50%"`}), completedAt),
		},
		"failed with details": {
			[]*history.Event{orchStarted, {Type: history.ExecutionCompleted, Timestamp: rowT1, OrchestrationStatus: history.StatusFailed, Result: history.Str("r"), Failure: failure}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusFailed, CompletedTime: rowT1},
			with(keys(map[string]any{"RuntimeStatus": "Failed", "Output": "System.Exception: kaput"}), completedAt),
		},
		"failed, engine output": {
			[]*history.Event{orchStarted, {Type: history.ExecutionCompleted, Timestamp: rowT1, OrchestrationStatus: history.StatusFailed, Result: history.Str("r"), Failure: failure}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusFailed, CompletedTime: rowT1, Output: history.Str("Orchestrator function 'Orch' failed: kaput")},
			with(keys(map[string]any{"RuntimeStatus": "Failed", "Output": "Orchestrator function 'Orch' failed: kaput"}), completedAt),
		},
		"failed without details": {
			[]*history.Event{orchStarted, {Type: history.ExecutionCompleted, Timestamp: rowT1, OrchestrationStatus: history.StatusFailed, Result: history.Str("why")}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusFailed, CompletedTime: rowT1},
			with(keys(map[string]any{"RuntimeStatus": "Failed", "Output": "why"}), completedAt),
		},
		"terminated, completion time now": {
			[]*history.Event{orchStarted, {Type: history.ExecutionTerminated, Timestamp: rowT1, Input: history.Str(`"stop"`)}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusTerminated},
			keys(map[string]any{"RuntimeStatus": "Terminated", "Output": `"stop"`, "CompletedTime": edmTime(rowNow), "CompletedTime@odata.type": "Edm.DateTime"}),
		},
		"suspended": {
			[]*history.Event{orchStarted, {Type: history.ExecutionSuspended, Timestamp: rowT1, Reason: history.Str("pause")}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusSuspended},
			keys(map[string]any{"RuntimeStatus": "Suspended", "Output": "pause"}),
		},
		"resumed without reason": {
			[]*history.Event{orchStarted, {Type: history.ExecutionResumed, Timestamp: rowT1}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusRunning},
			keys(map[string]any{"RuntimeStatus": "Running"}),
		},
		"continued as new": {
			[]*history.Event{orchStarted, {Type: history.ContinueAsNew, Timestamp: rowT1, OrchestrationStatus: history.StatusContinuedAsNew, Result: history.Str("7")}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusContinuedAsNew},
			keys(map[string]any{"RuntimeStatus": "ContinuedAsNew", "Output": "7"}),
		},
		"no lifecycle event": {
			[]*history.Event{orchStarted, {Type: history.TimerFired, Timestamp: rowT1}, orchDone},
			backend.InstanceUpdate{RuntimeStatus: history.StatusSuspended, CustomStatus: history.Str("{}")},
			keys(map[string]any{"RuntimeStatus": "Suspended", "CustomStatus": "{}"}),
		},
		"no events": {
			nil,
			backend.InstanceUpdate{RuntimeStatus: history.StatusRunning},
			keys(map[string]any{"RuntimeStatus": "Running", "LastUpdatedTime": edmTime(rowNow)}),
		},
	} {
		got := checkpointInstanceRow("Hub", "i", "e", c.events, c.upd, rowNow)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, c.want)
		}
	}
}

func TestTerminatedInstanceRow(t *testing.T) {
	got := terminatedInstanceRow("i?", &history.Event{Type: history.ExecutionTerminated, Timestamp: rowT0, Input: history.Str("bye")}, rowNow)
	want := map[string]any{"PartitionKey": "i^3", "RowKey": "", "RuntimeStatus": "Terminated",
		"LastUpdatedTime": edmTime(rowT0), "LastUpdatedTime@odata.type": "Edm.DateTime",
		"CompletedTime": edmTime(rowNow), "CompletedTime@odata.type": "Edm.DateTime", "Output": "bye"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// A full row written from a state reads back as that state, through JSON
// as the SDK carries it.
func TestInstanceRowRoundTrip(t *testing.T) {
	sched := rowT0.Add(-time.Minute)
	for _, st := range []*backend.InstanceState{
		{InstanceID: "a/b#c", ExecutionID: "e", Name: "N", Version: "1", RuntimeStatus: history.StatusCompleted,
			Input: history.Str("1"), Output: history.Str("2"), CustomStatus: history.Str(`{"p":3}`),
			CreatedTime: rowT0, LastUpdatedTime: rowT1, CompletedTime: rowT2, ScheduledStartTime: &sched, Generation: 4,
			Tags: map[string]string{"x": "y"}},
		{InstanceID: "@counter@k", ExecutionID: "e2", Name: "@counter@k", RuntimeStatus: history.StatusRunning, CreatedTime: rowT0, LastUpdatedTime: rowT0},
	} {
		row := instanceRow("Hub", st)
		if row["TaskHubName"] != "Hub" || row["RowKey"] != "" {
			t.Errorf("row %v", row)
		}
		back, err := rowToInstanceState(viaJSON(t, row, false))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, st) {
			t.Errorf("round trip:\n got %+v\nwant %+v", back, st)
		}
	}
	// The pending row reads back as a Pending instance.
	start := &history.Event{Type: history.ExecutionStarted, Timestamp: rowT0, Name: "N", Input: history.Str("7"),
		Instance: &history.OrchestrationInstance{InstanceID: "p", ExecutionID: "e"}, Generation: intPtr(1)}
	st, err := rowToInstanceState(viaJSON(t, pendingInstanceRow("Hub", start, rowT1), true))
	want := &backend.InstanceState{InstanceID: "p", ExecutionID: "e", Name: "N", RuntimeStatus: history.StatusPending,
		Input: history.Str("7"), CreatedTime: rowT0, LastUpdatedTime: rowT1, Generation: 1}
	if err != nil || !reflect.DeepEqual(st, want) {
		t.Errorf("pending row read as %+v, %v", st, err)
	}
}

func TestRowToInstanceStateIsLenient(t *testing.T) {
	st, err := rowToInstanceState(map[string]any{
		"PartitionKey": "x^0y", "RowKey": "", "odata.etag": "W/\"1\"", "Timestamp": "2024-05-01T00:00:00.0000000Z",
		"RuntimeStatus": "completed", "Generation": float64(2), "Output": "null", "CustomStatus": "null", "Tags": "null",
		"CreatedTime": "2024-05-01T12:00:00.0000000Z", "CreatedTime@odata.type": "Edm.DateTime", "Extra": 1,
	})
	want := &backend.InstanceState{InstanceID: "x/y", RuntimeStatus: history.StatusCompleted, Generation: 2,
		Output: history.Str("null"), CreatedTime: rowT0}
	if err != nil || !reflect.DeepEqual(st, want) {
		t.Fatalf("got %+v, %v", st, err)
	}
	if st, err := rowToInstanceState(map[string]any{"PartitionKey": "x", "RuntimeStatus": float64(5)}); err != nil || st.RuntimeStatus != history.StatusTerminated {
		t.Errorf("numeric status: %+v, %v", st, err)
	}
	for name, c := range map[string]struct {
		row  map[string]any
		want string
	}{
		"status":     {map[string]any{"PartitionKey": "x", "RuntimeStatus": "Sleeping"}, "RuntimeStatus"},
		"time":       {map[string]any{"PartitionKey": "x", "CreatedTime": "noon"}, "CreatedTime"},
		"generation": {map[string]any{"PartitionKey": "x", "Generation": "many"}, "Generation"},
		"tags":       {map[string]any{"PartitionKey": "x", "Tags": "[1]"}, "Tags"},
	} {
		_, err := rowToInstanceState(c.row)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"x"`) {
			t.Errorf("%s: err = %v, want one naming %s and the instance", name, err, c.want)
		}
	}
}
