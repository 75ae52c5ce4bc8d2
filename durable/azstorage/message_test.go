package azstorage

import (
	"encoding/base64"
	"os"
	"reflect"
	"strconv"
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

// The spec's client-start example (storage-layout.md §2.7) must come out
// byte for byte from the same values.
func TestEncodeClientStartMatchesSpec(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 123456700, time.UTC)
	gen := 0
	inst := history.OrchestrationInstance{InstanceID: "abc", ExecutionID: "aae324dcc8f943e490b37ec5e5bbf9da"}
	m := &MessageData{
		ActivityID: "5406d369-4369-4673-afae-6671a2fa1e57",
		TaskMessage: &TaskMessage{
			Event: &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: ts, Instance: &inst,
				Name: "Hello", Input: history.Str(`"Tokyo"`), Generation: &gen},
			OrchestrationInstance: inst,
		},
		SequenceNumber: 1,
		Sender:         &history.OrchestrationInstance{},
	}
	got, err := EncodeMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := readFixture(t, "spec_client_start.json"); string(got) != string(want) {
		t.Fatalf("encoding differs from the spec example:\n got %s\nwant %s", got, want)
	}
	back, err := DecodeMessage(got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back.TaskMessage.Event, m.TaskMessage.Event)
	}
}

// The fixture of Azure/durabletask's MessageManagerTests decodes, with
// either CoreLib or mscorlib dictionary names, raw or base64, and with
// assembly-suffixed type names as DurableTask.AzureStorage 1.x wrote them.
func TestDecodeDurableTaskFixture(t *testing.T) {
	for _, name := range []string{"messagemanager_corelib.json", "messagemanager_mscorlib.json"} {
		raw := readFixture(t, name)
		variants := map[string][]byte{
			"raw":      raw,
			"base64":   []byte(base64.StdEncoding.EncodeToString(raw)),
			"assembly": []byte(strings.ReplaceAll(string(raw), `"DurableTask.Core.History.ExecutionStartedEvent"`, `"DurableTask.Core.History.ExecutionStartedEvent, DurableTask.Core"`)),
		}
		for vname, body := range variants {
			m, err := DecodeMessage(body)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, vname, err)
			}
			e := m.TaskMessage.Event
			if e.Type != history.ExecutionStarted || e.Name != "OrchestrationName" || e.Version != "2.0" ||
				history.Deref(e.Input) != "input" || e.Tags["tag1"] != "tagValue" || len(e.Tags) != 1 ||
				e.Instance.InstanceID != "2.2-34a2c9d4-306e-4467-8470-a8018b2e4f11" || e.EventID != -1 ||
				!e.Timestamp.Equal(time.Date(2023, 3, 24, 20, 53, 5, 909351800, time.UTC)) || *e.Generation != 0 {
				t.Fatalf("%s/%s: event = %+v", name, vname, e)
			}
			if m.SequenceNumber != 40 || m.Sender == nil || m.Sender.InstanceID != "" || m.ActivityID != "5406d369-4369-4673-afae-6671a2fa1e57" ||
				m.TaskMessage.OrchestrationInstance.ExecutionID != "aae324dcc8f943e490b37ec5e5bbf9da" || m.Episode != nil {
				t.Fatalf("%s/%s: envelope = %+v", name, vname, m)
			}
		}
	}
}

func TestDecodeRejectsUnknownClassAndGarbage(t *testing.T) {
	raw := strings.Replace(string(readFixture(t, "messagemanager_corelib.json")), "ExecutionStartedEvent", "NoSuchEvent", 1)
	if _, err := DecodeMessage([]byte(raw)); err == nil || !strings.Contains(err.Error(), "NoSuchEvent") {
		t.Fatalf("err = %v", err)
	}
	if _, err := DecodeMessage([]byte("%%% not base64")); err == nil {
		t.Fatal("garbage must not decode")
	}
}

// allEvents has one event of every type with every member it carries set.
func allEvents() []*history.Event {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 100, time.UTC)
	at := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	gen := 2
	s := history.Str
	fd := &history.FailureDetails{ErrorType: "E", ErrorMessage: "m", StackTrace: s("st"),
		InnerFailure: &history.FailureDetails{ErrorType: "I", ErrorMessage: "inner"}}
	tc := &history.TraceContext{TraceParent: "00-abc-def-01", TraceState: s("k=v")}
	return []*history.Event{
		{Type: history.ExecutionStarted, EventID: -1, Timestamp: ts, Instance: &history.OrchestrationInstance{InstanceID: "i", ExecutionID: "e"},
			Parent: &history.ParentInstance{Name: "P", Version: "1", Instance: history.OrchestrationInstance{InstanceID: "p", ExecutionID: "pe"}, TaskScheduleID: 3},
			Name:   "N", Version: "v", Input: s(`{"a":1}`), Tags: map[string]string{"k": "v"}, Correlation: s("c"),
			ParentTraceContext: tc, ScheduledStartTime: &at, Generation: &gen, GenerateNewTrace: true},
		{Type: history.ExecutionCompleted, EventID: 4, Timestamp: ts, OrchestrationStatus: history.StatusFailed, Result: s("r"), Failure: fd},
		{Type: history.ExecutionTerminated, EventID: -1, Timestamp: ts, Input: s(`"why"`)},
		{Type: history.TaskScheduled, EventID: 0, Timestamp: ts, Name: "A", Version: "", Input: s(`["x"]`), ParentTraceContext: tc, Tags: map[string]string{"t": "1"}},
		{Type: history.TaskCompleted, EventID: -1, Timestamp: ts, TaskScheduledID: 0, Result: s(`"ok"`)},
		{Type: history.TaskFailed, EventID: -1, Timestamp: ts, TaskScheduledID: 1, Reason: s("bad"), Details: s("d"), Failure: fd},
		{Type: history.SubOrchestrationInstanceCreated, EventID: 2, Timestamp: ts, Name: "C", InstanceID: "child", Input: s("1"), ClientSpanID: s("span")},
		{Type: history.SubOrchestrationInstanceCompleted, EventID: -1, Timestamp: ts, TaskScheduledID: 2, Result: s("5")},
		{Type: history.SubOrchestrationInstanceFailed, EventID: -1, Timestamp: ts, TaskScheduledID: 2, Reason: s("no"), Failure: fd},
		{Type: history.TimerCreated, EventID: 3, Timestamp: ts, FireAt: at},
		{Type: history.TimerFired, EventID: -1, Timestamp: ts, TimerID: 3, FireAt: at},
		{Type: history.OrchestratorStarted, EventID: -1, Timestamp: ts},
		{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: ts},
		{Type: history.EventSent, EventID: 5, Timestamp: ts, InstanceID: "other", Name: "go", Input: s("true")},
		{Type: history.EventRaised, EventID: -1, Timestamp: ts, Name: "go", Input: s("true"), ParentTraceContext: tc},
		{Type: history.ContinueAsNew, EventID: 6, Timestamp: ts, OrchestrationStatus: history.StatusContinuedAsNew, Result: s("7")},
		{Type: history.GenericEvent, EventID: -1, Timestamp: ts, Data: s("data")},
		{Type: history.ExecutionSuspended, EventID: -1, Timestamp: ts, Reason: s("pause")},
		{Type: history.ExecutionResumed, EventID: -1, Timestamp: ts, Reason: s("go on")},
		{Type: history.ExecutionRewound, EventID: -1, Timestamp: ts, Reason: s("again"), ParentExecutionID: s("pe"), InstanceID: "i"},
	}
}

func TestEveryEventTypeRoundTripsThroughMessages(t *testing.T) {
	for _, e := range allEvents() {
		m := &MessageData{ActivityID: "a", TaskMessage: &TaskMessage{Event: e, OrchestrationInstance: history.OrchestrationInstance{InstanceID: "i"}}}
		raw, err := EncodeMessage(m)
		if err != nil {
			t.Fatalf("%v: %v", e.Type, err)
		}
		if !strings.HasPrefix(string(raw), `{"$type":"DurableTask.AzureStorage.MessageData",`) ||
			!strings.Contains(string(raw), `"Event":{"$type":"DurableTask.Core.History.`+e.Type.ClassName()+`",`) ||
			!strings.Contains(string(raw), `"EventType":`+strconv.Itoa(int(e.Type))+`,`) {
			t.Fatalf("%v: %s", e.Type, raw)
		}
		if !strings.Contains(string(raw), `"ExecutionId":null`) {
			t.Fatalf("%v: an empty target execution id must be written as null: %s", e.Type, raw)
		}
		back, err := DecodeMessage(raw)
		if err != nil {
			t.Fatalf("%v: %v\n%s", e.Type, err, raw)
		}
		if !reflect.DeepEqual(back.TaskMessage.Event, e) {
			t.Fatalf("%v round trip:\n got %+v\nwant %+v\n%s", e.Type, back.TaskMessage.Event, e, raw)
		}
	}
}

func TestTimeFormatting(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC):         "2024-05-01T12:00:00Z",
		time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC): "2024-05-01T12:00:00.1234567Z",
		time.Date(2024, 5, 1, 12, 0, 0, 500000000, time.UTC): "2024-05-01T12:00:00.5Z",
		{}: "0001-01-01T00:00:00",
	} {
		if got := FormatDotNetTime(in); got != want {
			t.Errorf("FormatDotNetTime(%v) = %s, want %s", in, got, want)
		}
	}
}

func TestPartitionRoutingAndKeys(t *testing.T) {
	for id, want := range map[string]struct {
		hash uint32
		part int
	}{"abc": {0x1A47E90B, 3}, "myinstance": {0xC06A6290, 0}, "@counter@k1": {0x1E73E8EB, 3}} {
		if h := FNV1a32(id); h != want.hash || PartitionIndex(id, 4) != want.part {
			t.Errorf("%s: hash %08X partition %d, want %08X %d", id, h, PartitionIndex(id, 4), want.hash, want.part)
		}
	}
	for id, want := range map[string]string{"a/b": "a^0b", `a\b#c?d`: "a^1b^2c^3d", "x^y": "x^^y", "t\tab": "t^\u00c9ab", "plain": "plain"} {
		if got := EscapePartitionKey(id); got != want {
			t.Errorf("EscapePartitionKey(%q) = %q, want %q", id, got, want)
		}
		if back := UnescapePartitionKey(want); back != id {
			t.Errorf("UnescapePartitionKey(%q) = %q, want %q", want, back, id)
		}
	}
	if RowKeyForSequence(10) != "000000000000000A" {
		t.Error(RowKeyForSequence(10))
	}
	n, _ := NewNames("MyHub", 4)
	if n.ControlQueue(3) != "myhub-control-03" || n.WorkItemQueue() != "myhub-workitems" || n.HistoryTable() != "MyHubHistory" ||
		n.InstancesTable() != "MyHubInstances" || n.PartitionsTable() != "MyHubPartitions" || n.LargeMessagesContainer() != "myhub-largemessages" {
		t.Errorf("names = %+v", n)
	}
	for _, bad := range []string{"", "ab", "1hub", "my-hub", strings.Repeat("a", 46)} {
		if ValidateHubName(bad) == nil {
			t.Errorf("hub name %q must be rejected", bad)
		}
	}
}
