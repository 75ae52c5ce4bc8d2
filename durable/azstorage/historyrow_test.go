package azstorage

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable/history"
)

// viaJSON sends a row through JSON the way it travels to the Table
// service and back through the aztables SDK: numbers come back as
// float64 (or json.Number), everything else as written, plus the
// service's own metadata columns.
func viaJSON(t *testing.T, row map[string]any, useNumber bool) map[string]any {
	t.Helper()
	body, err := json.Marshal(row)
	if err != nil {
		t.Fatalf("marshal row: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if useNumber {
		d.UseNumber()
	}
	var back map[string]any
	if err := d.Decode(&back); err != nil {
		t.Fatal(err)
	}
	back["odata.etag"] = `W/"datetime'2024-05-01T12%3A00%3A00.5Z'"`
	back["Timestamp"] = "2024-05-01T12:00:00.5000000Z"
	back["Timestamp@odata.type"] = "Edm.DateTime"
	return back
}

// The row of the richest event of the layout, column by column.
func TestExecutionStartedRow(t *testing.T) {
	row, err := eventRow("abc/1", "e", 0, allEvents()[0])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"PartitionKey":                  "abc^01",
		"RowKey":                        "0000000000000000",
		"ExecutionId":                   "e",
		"OrchestrationInstance":         `{"InstanceId":"i","ExecutionId":"e"}`,
		"EventType":                     "ExecutionStarted",
		"ParentInstance":                `{"Name":"P","OrchestrationInstance":{"InstanceId":"p","ExecutionId":"pe"},"TaskScheduleId":3,"Version":"1"}`,
		"Name":                          "N",
		"Version":                       "v",
		"Input":                         `{"a":1}`,
		"Tags":                          `{"a":"","k":"v"}`,
		"Correlation":                   "c",
		"ParentTraceContext":            `{"TraceParent":"00-abc-def-01","TraceState":"k=v","Id":"id","SpanId":"span","ActivityStartTime":"2024-05-02T00:00:00+00:00"}`,
		"ScheduledStartTime":            "2024-05-02T00:00:00Z",
		"ScheduledStartTime@odata.type": "Edm.DateTime",
		"Generation":                    2,
		"GenerateNewTrace":              true,
		"EventId":                       -1,
		"IsPlayed":                      false,
		"_Timestamp":                    "2024-05-01T12:00:00.0000001Z",
		"_Timestamp@odata.type":         "Edm.DateTime",
	}
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("row:\n got %v\nwant %v", row, want)
	}
}

func TestRowColumnsOfOtherEvents(t *testing.T) {
	ev := allEvents()
	byType := map[history.EventType]*history.Event{}
	for _, e := range ev {
		byType[e.Type] = e
	}
	base := func(typ string, extra map[string]any) map[string]any {
		m := map[string]any{"PartitionKey": "abc", "RowKey": "000000000000000B", "ExecutionId": "x", "EventType": typ,
			"IsPlayed": false, "_Timestamp": "2024-05-01T12:00:00.0000001Z", "_Timestamp@odata.type": "Edm.DateTime"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	failure := `{"ErrorType":"E","ErrorMessage":"m","StackTrace":"st",` +
		`"InnerFailure":{"ErrorType":"I","ErrorMessage":"inner","StackTrace":null,"InnerFailure":null,"IsNonRetriable":false,"Properties":null},` +
		`"IsNonRetriable":true,"Properties":{"code":42,"list":["a",1.5],"nested":{"ok":false},"why":"x"}}`
	for typ, want := range map[history.EventType]map[string]any{
		history.TaskFailed: base("TaskFailed", map[string]any{"EventId": -1, "TaskScheduledId": 1, "Reason": "bad", "Details": "d", "FailureDetails": failure}),
		history.ExecutionCompleted: base("ExecutionCompleted", map[string]any{"EventId": 4, "OrchestrationStatus": "Failed", "Result": "r",
			"FailureDetails": failure}),
		history.TimerFired: base("TimerFired", map[string]any{"EventId": -1, "TimerId": 3,
			"FireAt": "2024-05-02T00:00:00Z", "FireAt@odata.type": "Edm.DateTime"}),
		history.TaskScheduled: base("TaskScheduled", map[string]any{"EventId": 0, "Name": "A", "Version": "2", "Input": `["x"]`, "Tags": `{"t":"1"}`,
			"ParentTraceContext": `{"TraceParent":"00-abc-def-01","TraceState":"k=v","Id":"id","SpanId":"span","ActivityStartTime":"2024-05-02T00:00:00+00:00"}`}),
		history.SubOrchestrationInstanceCreated: base("SubOrchestrationInstanceCreated", map[string]any{"EventId": 2, "Name": "C", "Version": "3",
			"InstanceId": "child", "Input": "1", "ClientSpanId": "span", "Tags": `{}`}),
		history.GenericEvent:        base("GenericEvent", map[string]any{"EventId": -1, "Data": "data"}),
		history.HistoryState:        base("HistoryState", map[string]any{"EventId": -1, "State": "null"}),
		history.OrchestratorStarted: base("OrchestratorStarted", map[string]any{"EventId": -1, "IsPlayed": true}),
		history.ContinueAsNew:       base("ContinueAsNew", map[string]any{"EventId": 6, "OrchestrationStatus": "ContinuedAsNew", "Result": "7", "FailureDetails": "null"}),
	} {
		row, err := eventRow("abc", "x", 11, byType[typ])
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		if !reflect.DeepEqual(row, want) {
			t.Errorf("%v row:\n got %v\nwant %v", typ, row, want)
		}
	}
}

// Null members: nil strings and scalars leave their column out, nil
// complex members are the text "null".
func TestSparseRowColumns(t *testing.T) {
	row, err := eventRow("abc", "x", 0, &history.Event{Type: history.ExecutionStarted})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"PartitionKey": "abc", "RowKey": "0000000000000000", "ExecutionId": "x", "EventType": "ExecutionStarted",
		"OrchestrationInstance": "null", "ParentInstance": "null", "Name": "", "Version": "", "Tags": "null", "ParentTraceContext": "null",
		"GenerateNewTrace": false, "EventId": 0, "IsPlayed": false}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("sparse ExecutionStarted:\n got %v\nwant %v", row, want)
	}
	row, _ = eventRow("abc", "x", 0, &history.Event{Type: history.ExecutionRewound, Timestamp: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)})
	want = map[string]any{"PartitionKey": "abc", "RowKey": "0000000000000000", "ExecutionId": "x", "EventType": "ExecutionRewound",
		"ParentTraceContext": "null", "EventId": 0, "IsPlayed": false, "_Timestamp": "2024-01-02T03:04:05Z", "_Timestamp@odata.type": "Edm.DateTime"}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("sparse ExecutionRewound:\n got %v\nwant %v", row, want)
	}
}

// Every event type survives the trip to a row, through JSON (as the SDK
// sends and returns it, service metadata added) and back.
func TestEveryEventTypeRoundTripsThroughRows(t *testing.T) {
	for _, useNumber := range []bool{false, true} {
		for i, e := range append(allEvents(), sparseEvents()...) {
			row, err := eventRow("a/b", "exec", i, e)
			if err != nil {
				t.Fatalf("%v: %v", e.Type, err)
			}
			for k := range row {
				if strings.HasSuffix(k, "@odata.type") {
					if _, ok := row[strings.TrimSuffix(k, "@odata.type")]; !ok {
						t.Errorf("%v: annotation %s without its value", e.Type, k)
					}
				}
			}
			back, err := rowToEvent(viaJSON(t, row, useNumber))
			if err != nil {
				t.Fatalf("%v: %v\nrow %v", e.Type, err, row)
			}
			if !reflect.DeepEqual(back, e) {
				t.Errorf("%v round trip (useNumber %v):\n got %+v\nwant %+v", e.Type, useNumber, back, e)
			}
		}
	}
}

// Rows are read the way DurableTask reads them, and leniently: the
// service returns seven fractional digits, other writers may store an
// EventType number or numbers as text, and missing columns default.
func TestRowToEventIsLenient(t *testing.T) {
	e, err := rowToEvent(map[string]any{
		"PartitionKey": "abc", "RowKey": "0000000000000003", "EventType": float64(11),
		"TimerId": "4", "FireAt": "2024-05-02T00:00:00.0000000Z", "_Timestamp": time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"Unknown": "ignored", "InputBlobName@odata.type": "Edm.String",
	})
	want := &history.Event{Type: history.TimerFired, TimerID: 4, FireAt: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), Timestamp: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
	if err != nil || !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v, %v", e, err)
	}
	e, err = rowToEvent(map[string]any{"EventType": "TaskCompleted", "TaskScheduledId": json.Number("7"), "Result": "null"})
	if err != nil || e.Type != history.TaskCompleted || e.TaskScheduledID != 7 || history.Deref(e.Result) != "null" {
		t.Fatalf("got %+v, %v", e, err)
	}
}

func TestRowToEventErrors(t *testing.T) {
	for name, c := range map[string]struct {
		row  map[string]any
		want string
	}{
		"no EventType":      {map[string]any{"RowKey": "0000000000000001"}, "no EventType"},
		"unknown EventType": {map[string]any{"EventType": "Bogus"}, "Bogus"},
		"class-less type":   {map[string]any{"EventType": "ExecutionFailed"}, "ExecutionFailed"},
		"bad timestamp":     {map[string]any{"EventType": "OrchestratorStarted", "_Timestamp": "noon"}, "Timestamp"},
		"bad tags":          {map[string]any{"EventType": "TaskScheduled", "Tags": "{bad"}, "Tags"},
		"bad failure":       {map[string]any{"EventType": "TaskFailed", "FailureDetails": `{"IsNonRetriable":"maybe"}`}, "FailureDetails: IsNonRetriable"},
		"bad status":        {map[string]any{"EventType": "ExecutionCompleted", "OrchestrationStatus": "Sleeping"}, "OrchestrationStatus"},
	} {
		_, err := rowToEvent(c.row)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, c.want)
		}
	}
	if _, err := eventRow("a", "e", 0, &history.Event{Type: history.ExecutionFailed}); err == nil {
		t.Error("EventRow accepted an ExecutionFailed event")
	}
}

func TestSentinelRow(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 500000000, time.UTC)
	got := sentinelRow("a#1", "e1", true, now)
	want := map[string]any{"PartitionKey": "a^21", "RowKey": "sentinel", "ExecutionId": "e1", "IsCheckpointComplete": true,
		"CheckpointCompletedTimestamp": "2024-05-01T12:00:00.5Z", "CheckpointCompletedTimestamp@odata.type": "Edm.DateTime"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("final sentinel:\n got %v\nwant %v", got, want)
	}
	got = sentinelRow("a#1", "e1", false, now)
	want = map[string]any{"PartitionKey": "a^21", "RowKey": "sentinel", "ExecutionId": "e1", "IsCheckpointComplete": false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("intermediate sentinel:\n got %v\nwant %v", got, want)
	}
}
