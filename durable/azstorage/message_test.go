package azstorage

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable/history"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func intPtr(n int) *int { return &n }

var specInstance = history.OrchestrationInstance{InstanceID: "abc", ExecutionID: "aae324dcc8f943e490b37ec5e5bbf9da"}

// goldenMessages pairs the golden files in testdata with the values they
// hold. spec_client_start.json is a client start as DurableTask.AzureStorage
// writes it; the others follow the same shapes, and the large-message
// wrapper's.
func goldenMessages() map[string]*MessageData {
	start := specInstance
	child := history.OrchestrationInstance{InstanceID: "abc:0001", ExecutionID: "0c1f6b1a2d3e4f5a6b7c8d9e0f1a2b3c"}
	tags := map[string]string{"a": "1", "b": "2"}
	return map[string]*MessageData{
		"spec_client_start.json": {
			ActivityID: "5406d369-4369-4673-afae-6671a2fa1e57",
			TaskMessage: &TaskMessage{
				Event: &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: utc("2024-05-01T12:00:00.1234567Z"),
					Instance: &start, Name: "Hello", Input: history.Str(`"Tokyo"`), Generation: intPtr(0)},
				OrchestrationInstance: specInstance,
			},
			SequenceNumber: 1,
			Sender:         &history.OrchestrationInstance{},
		},
		"spec_activity_request.json": {
			ActivityID: "0f5e2c4a-3b1d-4c8e-9a7f-6d2b1e0c9a88",
			TaskMessage: &TaskMessage{
				Event: &history.Event{Type: history.TaskScheduled, EventID: 0, Timestamp: utc("2024-05-01T12:00:01.25Z"),
					Name: "SayHello", Input: history.Str(`["Tokyo"]`)},
				OrchestrationInstance: specInstance,
				ExecutionContext:      &ExecutionContext{OrchestrationTags: map[string]string{}},
			},
			SequenceNumber: 7, Episode: intPtr(1), Sender: &specInstance,
		},
		"spec_activity_response.json": {
			ActivityID: "7c1d9e2f-5a4b-4d3c-8e1f-0a9b8c7d6e5f",
			TaskMessage: &TaskMessage{
				Event: &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: utc("2024-05-01T12:00:02.0460001Z"),
					TaskScheduledID: 0, Result: history.Str(`"Hello Tokyo!"`)},
				OrchestrationInstance: specInstance,
			},
			SequenceNumber: 8, Episode: intPtr(1), Sender: &specInstance,
		},
		"spec_activity_failed.json": {
			ActivityID: "7c1d9e2f-5a4b-4d3c-8e1f-0a9b8c7d6e60",
			TaskMessage: &TaskMessage{
				Event: &history.Event{Type: history.TaskFailed, EventID: -1, Timestamp: utc("2024-05-01T12:00:03Z"),
					TaskScheduledID: 2, Reason: history.Str("boom"),
					Failure: &history.FailureDetails{ErrorType: "System.InvalidOperationException", ErrorMessage: "boom", StackTrace: history.Str("   at Demo.SayHello()")}},
				OrchestrationInstance: specInstance,
			},
			SequenceNumber: 9, Episode: intPtr(2), Sender: &specInstance,
		},
		"spec_timer_fired.json": {
			ActivityID: "d3b07384-d113-4ec6-a6f4-1c2e3f4a5b6c",
			TaskMessage: &TaskMessage{
				Event: &history.Event{Type: history.TimerFired, EventID: -1, Timestamp: utc("2024-05-01T12:00:04.5Z"),
					TimerID: 3, FireAt: utc("2024-05-01T12:05:00Z")},
				OrchestrationInstance: specInstance,
			},
			SequenceNumber: 10, Episode: intPtr(2), Sender: &specInstance,
		},
		"spec_raise_event.json": {
			ActivityID: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
			TaskMessage: &TaskMessage{
				Event: &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: utc("2024-05-01T12:01:00.1Z"),
					Name: "Approval", Input: history.Str(`{"ok":true,"by":"Zoë <admin>"}`)},
				OrchestrationInstance: history.OrchestrationInstance{InstanceID: "abc"}, // ExecutionId null
			},
			SequenceNumber: 2, Sender: &history.OrchestrationInstance{},
		},
		"spec_suborchestration_start.json": {
			ActivityID: "11111111-2222-4333-8444-555555555555",
			TaskMessage: &TaskMessage{
				Event: &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: utc("2024-05-01T12:00:05.5Z"),
					Instance: &child, Name: "Child", Input: history.Str("42"), Tags: tags, Generation: intPtr(0),
					Parent: &history.ParentInstance{Name: "Hello", Instance: specInstance, TaskScheduleID: 1},
					ParentTraceContext: &history.TraceContext{TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
						SpanID: history.Str("b7ad6b7169203331"), ActivityStartTime: ptrTime(utc("2024-05-01T12:00:05.5Z"))}},
				OrchestrationInstance: child,
				ExecutionContext:      &ExecutionContext{OrchestrationTags: tags},
			},
			SequenceNumber: 11, Episode: intPtr(2), Sender: &specInstance,
		},
		"large_message_wrapper.json": largeMessageWrapper("abc/message-5406d36943694673afae6671a2fa1e57-ExecutionStarted.json.gz"),
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

func TestGoldenMessagesEncodeByteForByte(t *testing.T) {
	for file, m := range goldenMessages() {
		got, err := EncodeMessage(m)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if want := readFixture(t, file); !bytes.Equal(got, want) {
			t.Errorf("%s: encoding differs\n got %s\nwant %s", file, got, want)
		}
	}
}

func TestGoldenMessagesDecode(t *testing.T) {
	for file, want := range goldenMessages() {
		raw := readFixture(t, file)
		for form, body := range map[string][]byte{"raw": raw, "base64": []byte(base64.StdEncoding.EncodeToString(raw))} {
			got, err := decodeMessage(body)
			if err != nil {
				t.Fatalf("%s (%s): %v", file, form, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (%s): decoded\n got %s\nwant %s", file, form, dump(got), dump(want))
			}
		}
	}
}

// dump shows a message's values for failure output.
func dump(m *MessageData) string {
	b, _ := json.Marshal(m)
	return string(b)
}

// The verbatim message of Azure/durabletask's MessageManagerTests.GetMessage,
// with both dictionary type names it tests (CoreLib and mscorlib), as
// written: raw, base64 as DurableTask.AzureStorage 1.x sent it, with the
// event's type name assembly-qualified, and with dictionary type names
// only a custom binder knows.
func TestDecodeDurableTaskFixture(t *testing.T) {
	for _, file := range []string{"messagemanager_corelib.json", "messagemanager_mscorlib.json"} {
		raw := readFixture(t, file)
		variants := map[string][]byte{
			"raw":    raw,
			"base64": []byte(base64.StdEncoding.EncodeToString(raw)),
			"assembly-qualified": bytes.ReplaceAll(raw, []byte(`"DurableTask.Core.History.ExecutionStartedEvent"`),
				[]byte(`"DurableTask.Core.History.ExecutionStartedEvent, DurableTask.Core, Version=2.0.0.0, Culture=neutral, PublicKeyToken=null"`)),
			"custom dictionary type": bytes.Replace(raw, []byte("System.Collections.Generic.Dictionary`2[["), []byte("KnownType`2[["), 1),
		}
		for name, body := range variants {
			m, err := decodeMessage(body)
			if err != nil {
				t.Fatalf("%s/%s: %v", file, name, err)
			}
			inst := history.OrchestrationInstance{InstanceID: "2.2-34a2c9d4-306e-4467-8470-a8018b2e4f11", ExecutionID: "aae324dcc8f943e490b37ec5e5bbf9da"}
			want := &MessageData{
				ActivityID: "5406d369-4369-4673-afae-6671a2fa1e57",
				TaskMessage: &TaskMessage{
					Event: &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: utc("2023-03-24T20:53:05.9093518Z"),
						Instance: &inst, Name: "OrchestrationName", Version: "2.0", Input: history.Str("input"),
						Tags: map[string]string{"tag1": "tagValue"}, Generation: intPtr(0)},
					OrchestrationInstance: inst,
				},
				SequenceNumber: 40,
				Sender:         &history.OrchestrationInstance{},
			}
			if !reflect.DeepEqual(m, want) {
				t.Fatalf("%s/%s:\n got %s\nwant %s", file, name, dump(m), dump(want))
			}
		}
	}
}

// Re-encoding the DurableTask fixture gives its exact text plus only the
// members newer DurableTask.Core versions added (ParentTraceContext,
// GenerateNewTrace, OrchestrationExecutionContext), each in its place:
// member order and value formatting agree with the .NET writer.
func TestReencodedFixtureMatchesDotNetOutput(t *testing.T) {
	raw := bytes.TrimSpace(readFixture(t, "messagemanager_corelib.json"))
	m, err := decodeMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(
		`"Correlation":null,"ScheduledStartTime":null,"Generation":0,"EventId"`,
		`"Correlation":null,"ParentTraceContext":null,"ScheduledStartTime":null,"Generation":0,"GenerateNewTrace":false,"EventId"`,
		`"ExecutionId":"aae324dcc8f943e490b37ec5e5bbf9da"}},"CompressedBlobName"`,
		`"ExecutionId":"aae324dcc8f943e490b37ec5e5bbf9da"},"OrchestrationExecutionContext":null},"CompressedBlobName"`,
	).Replace(string(raw))
	if want == string(raw) {
		t.Fatal("the fixture no longer has the expected shape")
	}
	if string(got) != want {
		t.Fatalf("re-encoded fixture differs\n got %s\nwant %s", got, want)
	}
}

// A message written loosely (as other writers or older versions might)
// still decodes: byte order mark and white space, $type after other
// members and assembly-qualified, member names in other cases, an event
// without $type whose EventType is a name, enums as names, numbers where
// strings belong, unknown members, and missing members.
func TestDecodeIsLenient(t *testing.T) {
	body := "\xef\xbb\xbf \r\n" + `{
	  "ActivityId": "a1",
	  "Unknown": {"deep": [1, 2, {"x": null}]},
	  "taskMessage": {
	    "event": {"EventType": "ExecutionCompleted", "orchestrationStatus": "failed", "Result": 42,
	              "eventId": "7", "IsPlayed": "true", "Timestamp": "2024-05-01T14:00:00+02:00",
	              "FailureDetails": {"ErrorMessage": "m", "ErrorType": "E", "$type": "DurableTask.Core.FailureDetails, DurableTask.Core",
	                                 "Properties": {"$type": "x", "n": 1, "f": 1.5, "o": {"$type": "y", "k": "v"}}}},
	    "OrchestrationInstance": {"InstanceId": "i"},
	    "$type": "DurableTask.Core.TaskMessage, DurableTask.Core"
	  },
	  "SequenceNumber": "12",
	  "Episode": null,
	  "$type": "DurableTask.AzureStorage.MessageData, DurableTask.AzureStorage"
	}`
	m, err := decodeMessage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := &MessageData{
		ActivityID:     "a1",
		SequenceNumber: 12,
		TaskMessage: &TaskMessage{
			OrchestrationInstance: history.OrchestrationInstance{InstanceID: "i"},
			Event: &history.Event{Type: history.ExecutionCompleted, EventID: 7, IsPlayed: true, Timestamp: utc("2024-05-01T12:00:00Z"),
				OrchestrationStatus: history.StatusFailed, Result: history.Str("42"),
				Failure: &history.FailureDetails{ErrorType: "E", ErrorMessage: "m",
					Properties: map[string]any{"n": int64(1), "f": 1.5, "o": map[string]any{"k": "v"}}}},
		},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got  %s\nwant %s", dump(m), dump(want))
	}
	// The class named by $type wins over a contradicting EventType, as in
	// .NET where EventType is a read-only property of the class.
	m, err = decodeMessage([]byte(`{"TaskMessage":{"Event":{"EventType":5,"$type":"DurableTask.Core.History.ContinueAsNewEvent","OrchestrationStatus":2}}}`))
	if err != nil || m.TaskMessage.Event.Type != history.ContinueAsNew || m.TaskMessage.Event.OrchestrationStatus != history.StatusContinuedAsNew {
		t.Fatalf("got %s, %v", dump(m), err)
	}
}

func TestDecodeErrors(t *testing.T) {
	fixture := string(readFixture(t, "spec_client_start.json"))
	for name, c := range map[string]struct{ body, want string }{
		"unknown class":       {strings.Replace(fixture, "ExecutionStartedEvent", "NoSuchEvent", 1), `"DurableTask.Core.History.NoSuchEvent"`},
		"class-less type":     {`{"TaskMessage":{"Event":{"EventType":2}}}`, "ExecutionFailed"},
		"out-of-range type":   {`{"TaskMessage":{"Event":{"EventType":99}}}`, "99"},
		"no type at all":      {`{"TaskMessage":{"Event":{"EventId":1}}}`, "neither a $type nor an EventType"},
		"no event":            {`{"TaskMessage":{"SequenceNumber":0}}`, "no Event"},
		"nothing":             {`{"ActivityId":"x"}`, "neither a TaskMessage nor a CompressedBlobName"},
		"empty":               {" \r\n", "empty"},
		"garbage":             {"%%% not base64", "neither JSON nor base64"},
		"base64 of text":      {base64.StdEncoding.EncodeToString([]byte("hello")), "does not hold a JSON object"},
		"array":               {base64.StdEncoding.EncodeToString([]byte("[1]")), "does not hold a JSON object"},
		"truncated":           {fixture[:100], "invalid JSON"},
		"bad timestamp":       {strings.Replace(fixture, "2024-05-01T12:00:00.1234567Z", "noon", 1), "Timestamp"},
		"bad event id":        {strings.Replace(fixture, `"EventId":-1`, `"EventId":"first"`, 1), "EventId"},
		"fractional event id": {strings.Replace(fixture, `"EventId":-1`, `"EventId":1.5`, 1), "EventId"},
		"bad status":          {`{"TaskMessage":{"Event":{"$type":"DurableTask.Core.History.ExecutionCompletedEvent","OrchestrationStatus":"Sleeping"}}}`, "OrchestrationStatus"},
		"instance not object": {strings.Replace(fixture, `"OrchestrationInstance":{"$type":"DurableTask.Core.OrchestrationInstance","InstanceId":"abc","ExecutionId":"aae324dcc8f943e490b37ec5e5bbf9da"},"OrchestrationExecutionContext"`, `"OrchestrationInstance":[1],"OrchestrationExecutionContext"`, 1), "OrchestrationInstance"},
	} {
		_, err := decodeMessage([]byte(c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, c.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	if _, err := EncodeMessage(nil); err == nil {
		t.Error("nil message encoded")
	}
	if _, err := EncodeMessage(&MessageData{TaskMessage: &TaskMessage{}}); err == nil || !strings.Contains(err.Error(), "no event") {
		t.Errorf("message without event: %v", err)
	}
	_, err := EncodeMessage(&MessageData{TaskMessage: &TaskMessage{Event: &history.Event{Type: history.ExecutionFailed}}})
	if err == nil || !strings.Contains(err.Error(), "ExecutionFailed") {
		t.Errorf("ExecutionFailed event: %v", err)
	}
}

// objectKeys lists the member names of a JSON object in document order.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// The member order of every history event class, written out from
// DurableTask.Core/History/*.cs (fields, then properties with the
// EventType override first, then HistoryEvent's members).
var dotNetEventMemberOrder = map[history.EventType]string{
	history.ExecutionStarted:                  "OrchestrationInstance,EventType,ParentInstance,Name,Version,Input,Tags,Correlation,ParentTraceContext,ScheduledStartTime,Generation,GenerateNewTrace",
	history.ExecutionCompleted:                "EventType,OrchestrationStatus,Result,FailureDetails",
	history.ExecutionTerminated:               "EventType,Input",
	history.TaskScheduled:                     "EventType,Name,Version,Input,ParentTraceContext,Tags",
	history.TaskCompleted:                     "EventType,TaskScheduledId,Result",
	history.TaskFailed:                        "EventType,TaskScheduledId,Reason,Details,FailureDetails",
	history.SubOrchestrationInstanceCreated:   "EventType,Name,Version,InstanceId,Input,ClientSpanId,Tags",
	history.SubOrchestrationInstanceCompleted: "EventType,TaskScheduledId,Result",
	history.SubOrchestrationInstanceFailed:    "EventType,TaskScheduledId,Reason,Details,FailureDetails",
	history.TimerCreated:                      "EventType,FireAt",
	history.TimerFired:                        "EventType,TimerId,FireAt",
	history.OrchestratorStarted:               "EventType",
	history.OrchestratorCompleted:             "EventType",
	history.EventSent:                         "EventType,InstanceId,Name,Input",
	history.EventRaised:                       "EventType,Name,Input,ParentTraceContext",
	history.ContinueAsNew:                     "EventType,OrchestrationStatus,Result,FailureDetails",
	history.GenericEvent:                      "Data,EventType",
	history.HistoryState:                      "EventType,State",
	history.ExecutionSuspended:                "EventType,Reason",
	history.ExecutionResumed:                  "EventType,Reason",
	history.ExecutionRewound:                  "EventType,Reason,ParentExecutionId,InstanceId,ParentTraceContext",
}

// allEvents has one event of every type that has a class, with every
// member it carries set.
func allEvents() []*history.Event {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 100, time.UTC)
	at := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	s := history.Str
	fd := &history.FailureDetails{ErrorType: "E", ErrorMessage: "m", StackTrace: s("st"), IsNonRetriable: true,
		InnerFailure: &history.FailureDetails{ErrorType: "I", ErrorMessage: "inner"},
		Properties:   map[string]any{"code": int64(42), "why": "x", "nested": map[string]any{"ok": false}, "list": []any{"a", 1.5}}}
	tc := &history.TraceContext{TraceParent: "00-abc-def-01", TraceState: s("k=v"), ID: s("id"), SpanID: s("span"), ActivityStartTime: &at}
	return []*history.Event{
		{Type: history.ExecutionStarted, EventID: -1, Timestamp: ts, Instance: &history.OrchestrationInstance{InstanceID: "i", ExecutionID: "e"},
			Parent: &history.ParentInstance{Name: "P", Version: "1", Instance: history.OrchestrationInstance{InstanceID: "p", ExecutionID: "pe"}, TaskScheduleID: 3},
			Name:   "N", Version: "v", Input: s(`{"a":1}`), Tags: map[string]string{"k": "v", "a": ""}, Correlation: s("c"),
			ParentTraceContext: tc, ScheduledStartTime: &at, Generation: intPtr(2), GenerateNewTrace: true},
		{Type: history.ExecutionCompleted, EventID: 4, Timestamp: ts, OrchestrationStatus: history.StatusFailed, Result: s("r"), Failure: fd},
		{Type: history.ExecutionTerminated, EventID: -1, Timestamp: ts, Input: s(`"why"`)},
		{Type: history.TaskScheduled, EventID: 0, Timestamp: ts, Name: "A", Version: "2", Input: s(`["x"]`), ParentTraceContext: tc, Tags: map[string]string{"t": "1"}},
		{Type: history.TaskCompleted, EventID: -1, Timestamp: ts, TaskScheduledID: 0, Result: s(`"ok"`)},
		{Type: history.TaskFailed, EventID: -1, Timestamp: ts, TaskScheduledID: 1, Reason: s("bad"), Details: s("d"), Failure: fd},
		{Type: history.SubOrchestrationInstanceCreated, EventID: 2, Timestamp: ts, Name: "C", Version: "3", InstanceID: "child", Input: s("1"), ClientSpanID: s("span"), Tags: map[string]string{}},
		{Type: history.SubOrchestrationInstanceCompleted, EventID: -1, Timestamp: ts, TaskScheduledID: 2, Result: s("5")},
		{Type: history.SubOrchestrationInstanceFailed, EventID: -1, Timestamp: ts, TaskScheduledID: 2, Reason: s("no"), Details: s("dd"), Failure: fd},
		{Type: history.TimerCreated, EventID: 3, Timestamp: ts, FireAt: at},
		{Type: history.TimerFired, EventID: -1, Timestamp: ts, TimerID: 3, FireAt: at},
		{Type: history.OrchestratorStarted, EventID: -1, Timestamp: ts, IsPlayed: true},
		{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: ts},
		{Type: history.EventSent, EventID: 5, Timestamp: ts, InstanceID: "other", Name: "go", Input: s("true")},
		{Type: history.EventRaised, EventID: -1, Timestamp: ts, Name: "go", Input: s("true"), ParentTraceContext: tc},
		{Type: history.ContinueAsNew, EventID: 6, Timestamp: ts, OrchestrationStatus: history.StatusContinuedAsNew, Result: s("7")},
		{Type: history.GenericEvent, EventID: -1, Timestamp: ts, Data: s("data")},
		{Type: history.HistoryState, EventID: -1, Timestamp: ts},
		{Type: history.ExecutionSuspended, EventID: -1, Timestamp: ts, Reason: s("pause")},
		{Type: history.ExecutionResumed, EventID: -1, Timestamp: ts, Reason: s("go on")},
		{Type: history.ExecutionRewound, EventID: -1, Timestamp: ts, Reason: s("again"), ParentExecutionID: s("pe"), InstanceID: "i", ParentTraceContext: tc},
	}
}

// sparseEvents has one event of every type with nothing but its type set:
// every nullable member null, every time zero.
func sparseEvents() []*history.Event {
	var out []*history.Event
	for _, e := range allEvents() {
		out = append(out, &history.Event{Type: e.Type})
	}
	return out
}

func TestEveryEventTypeRoundTripsThroughMessages(t *testing.T) {
	if n := len(allEvents()); n != len(dotNetEventMemberOrder) {
		t.Fatalf("allEvents covers %d types, the classes are %d", n, len(dotNetEventMemberOrder))
	}
	for _, e := range append(allEvents(), sparseEvents()...) {
		m := &MessageData{ActivityID: "a", TaskMessage: &TaskMessage{Event: e, OrchestrationInstance: history.OrchestrationInstance{InstanceID: "i"}}}
		raw, err := EncodeMessage(m)
		if err != nil {
			t.Fatalf("%v: %v", e.Type, err)
		}
		// The event object's members, in order.
		var env struct {
			TaskMessage struct{ Event json.RawMessage }
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("%v: invalid JSON %v\n%s", e.Type, err, raw)
		}
		keys := strings.Join(objectKeys(t, env.TaskMessage.Event), ",")
		if want := "$type," + dotNetEventMemberOrder[e.Type] + ",EventId,IsPlayed,Timestamp"; keys != want {
			t.Errorf("%v: members %s, want %s", e.Type, keys, want)
		}
		if !bytes.HasPrefix(env.TaskMessage.Event, []byte(`{"$type":"DurableTask.Core.History.`+e.Type.ClassName()+`",`)) {
			t.Errorf("%v: event starts %.80s", e.Type, env.TaskMessage.Event)
		}
		back, err := decodeMessage(raw)
		if err != nil {
			t.Fatalf("%v: %v\n%s", e.Type, err, raw)
		}
		if !reflect.DeepEqual(back, m) {
			t.Errorf("%v round trip:\n got %+v\nwant %+v\n%s", e.Type, back.TaskMessage.Event, e, raw)
		}
		again, err := EncodeMessage(back)
		if err != nil || !bytes.Equal(again, raw) {
			t.Errorf("%v: re-encoding differs (%v)\n%s\n%s", e.Type, err, raw, again)
		}
	}
}

// Complex members carry their .NET type names and formats: failure
// details with a Dictionary<string,object> of properties, trace contexts
// with a DateTimeOffset start time, tags as a Dictionary<string,string>.
func TestComplexMembersInMessages(t *testing.T) {
	e := allEvents()[0] // ExecutionStarted
	raw, err := EncodeMessage(&MessageData{TaskMessage: &TaskMessage{Event: e}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"ActivityId":"00000000-0000-0000-0000-000000000000"`,
		`"ParentInstance":{"$type":"DurableTask.Core.ParentInstance","Name":"P","OrchestrationInstance":{"$type":"DurableTask.Core.OrchestrationInstance","InstanceId":"p","ExecutionId":"pe"},"TaskScheduleId":3,"Version":"1"}`,
		`"Tags":{"$type":"` + typeStringDictionary + `","a":"","k":"v"}`,
		`"ParentTraceContext":{"$type":"DurableTask.Core.Tracing.DistributedTraceContext","TraceParent":"00-abc-def-01","TraceState":"k=v","Id":"id","SpanId":"span","ActivityStartTime":"2024-05-02T00:00:00+00:00"}`,
		`"ScheduledStartTime":"2024-05-02T00:00:00Z","Generation":2,"GenerateNewTrace":true,"EventId":-1,"IsPlayed":false,"Timestamp":"2024-05-01T12:00:00.0000001Z"`,
		`"OrchestrationInstance":{"$type":"DurableTask.Core.OrchestrationInstance","InstanceId":"","ExecutionId":null},"OrchestrationExecutionContext":null`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("missing %s\nin %s", want, raw)
		}
	}
	if strings.Contains(string(raw), `"Episode"`) || strings.Contains(string(raw), `"Sender"`) {
		t.Errorf("nil Episode and Sender must be left out: %s", raw)
	}
	raw, err = EncodeMessage(&MessageData{TaskMessage: &TaskMessage{Event: allEvents()[1]}})
	if err != nil {
		t.Fatal(err)
	}
	want := `"FailureDetails":{"$type":"DurableTask.Core.FailureDetails","ErrorType":"E","ErrorMessage":"m","StackTrace":"st",` +
		`"InnerFailure":{"$type":"DurableTask.Core.FailureDetails","ErrorType":"I","ErrorMessage":"inner","StackTrace":null,"InnerFailure":null,"IsNonRetriable":false,"Properties":null},` +
		`"IsNonRetriable":true,"Properties":{"$type":"` + typeObjectDictionary + `","code":42,"list":["a",1.5],"nested":{"ok":false},"why":"x"}}`
	if !strings.Contains(string(raw), want) {
		t.Errorf("missing %s\nin %s", want, raw)
	}
	// DistributedTraceContext drops a TraceState over 513 characters.
	long := strings.Repeat("x", 514)
	ev := &history.Event{Type: history.EventRaised, ParentTraceContext: &history.TraceContext{TraceParent: "tp", TraceState: &long}}
	raw, _ = EncodeMessage(&MessageData{TaskMessage: &TaskMessage{Event: ev}})
	if !strings.Contains(string(raw), `"TraceState":null`) {
		t.Errorf("long TraceState kept: %.300s", raw)
	}
}

// Payloads are JSON text inside JSON strings, escaped as Newtonsoft does.
func TestPayloadEscaping(t *testing.T) {
	input := "{\"msg\":\"line1\nline2\",\"html\":\"<b>&amp;</b>\",\"u\":\"é\u2028\"}\t"
	e := &history.Event{Type: history.EventRaised, Name: "ev", Input: &input}
	raw, err := EncodeMessage(&MessageData{TaskMessage: &TaskMessage{Event: e}})
	if err != nil {
		t.Fatal(err)
	}
	want := `"Input":"{\"msg\":\"line1\nline2\",\"html\":\"<b>&amp;</b>\",\"u\":\"é\u2028\"}\t"`
	if !strings.Contains(string(raw), want) {
		t.Fatalf("missing %s\nin %s", want, raw)
	}
	back, err := decodeMessage(raw)
	if err != nil || *back.TaskMessage.Event.Input != input {
		t.Fatalf("decoded %q, %v", history.Deref(back.TaskMessage.Event.Input), err)
	}
}

func TestBase64Bodies(t *testing.T) {
	m := goldenMessages()["spec_client_start.json"]
	b64, err := encodeMessageBase64(m)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(b64)
	if !bytes.Equal(raw, readFixture(t, "spec_client_start.json")) {
		t.Fatalf("base64 body holds %s", raw)
	}
	// Base64 wrapped across lines, and without padding, still decodes.
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
	}
	for name, body := range map[string]string{"wrapped": wrapped.String(), "unpadded": strings.TrimRight(b64, "=")} {
		back, err := decodeMessage([]byte(body))
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Errorf("%s: %v, %v", name, err, back)
		}
	}
}

func TestLargeMessages(t *testing.T) {
	// The layout's example name; a GUID is lowercased and loses its hyphens.
	for _, activity := range []string{"5406d369-4369-4673-afae-6671a2fa1e57", "5406D369-4369-4673-AFAE-6671A2FA1E57"} {
		if got := largeMessageBlobName("abc", activity, history.ExecutionStarted); got != "abc/message-5406d36943694673afae6671a2fa1e57-ExecutionStarted.json.gz" {
			t.Errorf("LargeMessageBlobName = %s", got)
		}
	}
	if got := largeMessageBlobName("a/b c", emptyGUID, history.TaskCompleted); got != "a/b c/message-00000000000000000000000000000000-TaskCompleted.json.gz" {
		t.Errorf("LargeMessageBlobName with a raw id = %s", got)
	}
	w, err := decodeMessage(readFixture(t, "large_message_wrapper.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !w.IsLargeMessageWrapper() || *w.CompressedBlobName != "abc/message-5406d36943694673afae6671a2fa1e57-ExecutionStarted.json.gz" {
		t.Fatalf("wrapper decoded as %s", dump(w))
	}
	if m := goldenMessages()["spec_client_start.json"]; m.IsLargeMessageWrapper() {
		t.Error("an ordinary message reported as a wrapper")
	}
	// The blob holds the gzipped full message.
	raw := readFixture(t, "spec_client_start.json")
	blob, err := gzipBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(blob) < 2 || blob[0] != 0x1f || blob[1] != 0x8b {
		t.Fatalf("not a gzip stream: % x", blob[:min(len(blob), 4)])
	}
	plain, err := gunzipBytes(blob)
	if err != nil || !bytes.Equal(plain, raw) {
		t.Fatalf("gunzip: %v", err)
	}
	if _, err := gunzipBytes([]byte("not gzip")); err == nil {
		t.Error("Gunzip accepted garbage")
	}
	if _, err := gunzipBytes(blob[:len(blob)-6]); err == nil {
		t.Error("Gunzip accepted a truncated stream")
	}
}
