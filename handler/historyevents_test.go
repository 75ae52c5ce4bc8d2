package handler

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/godurable/functions/durable/history"
)

// Times as in the docs' example; .NET keeps 100 ns ticks and trims zeros.
var (
	hT0 = time.Date(2018, 2, 28, 5, 18, 49, 345237200, time.UTC)
	hT1 = time.Date(2018, 2, 28, 5, 18, 51, 393987300, time.UTC)
	hT2 = time.Date(2018, 2, 28, 5, 18, 52, 289562200, time.UTC)
	hT3 = time.Date(2018, 2, 28, 5, 18, 54, 500000000, time.UTC) // trailing zeros trimmed: .5
	hT4 = time.Date(2018, 2, 28, 5, 19, 0, 0, time.UTC)          // no fraction at all
)

const (
	hS0 = "2018-02-28T05:18:49.3452372Z"
	hS1 = "2018-02-28T05:18:51.3939873Z"
	hS2 = "2018-02-28T05:18:52.2895622Z"
	hS3 = "2018-02-28T05:18:54.5Z"
	hS4 = "2018-02-28T05:19:00Z"
)

// helloSequence is a finished one-activity orchestration with the
// episode markers Durable Task writes.
func helloSequence() []*history.Event {
	s, gen := history.Str, 0
	return []*history.Event{
		{Type: history.OrchestratorStarted, EventID: -1, Timestamp: hT0},
		{Type: history.ExecutionStarted, EventID: -1, Timestamp: hT0, Name: "E1_HelloSequence", Version: "", Input: s(`{"a":1}`),
			Instance: &history.OrchestrationInstance{InstanceID: "i", ExecutionID: "e"}, Generation: &gen, Tags: map[string]string{"k": "v"}},
		{Type: history.TaskScheduled, EventID: 0, Timestamp: hT1, Name: "E1_SayHello", Input: s(`"Tokyo"`)},
		{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: hT1},
		{Type: history.OrchestratorStarted, EventID: -1, Timestamp: hT2},
		{Type: history.TaskCompleted, EventID: -1, IsPlayed: true, Timestamp: hT2, TaskScheduledID: 0, Result: s(`"Hello Tokyo!"`)},
		{Type: history.ExecutionCompleted, EventID: 1, Timestamp: hT3, OrchestrationStatus: history.StatusCompleted, Result: s(`["Hello Tokyo!"]`)},
		{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: hT3},
	}
}

func TestHistoryEvents(t *testing.T) {
	s := history.Str
	all := historyOptions{showInput: true, showOutput: true}
	defaults := historyOptions{showInput: true}
	failure := &history.FailureDetails{ErrorType: "Error", ErrorMessage: "boom", StackTrace: s("at x"),
		InnerFailure: &history.FailureDetails{ErrorType: "Inner", ErrorMessage: "cause"}}
	const failureJSON = `{"ErrorType":"Error","ErrorMessage":"boom","StackTrace":"at x","InnerFailure":` +
		`{"ErrorType":"Inner","ErrorMessage":"cause","StackTrace":null,"InnerFailure":null,"IsNonRetriable":false,"Properties":null},` +
		`"IsNonRetriable":false,"Properties":null}`
	cases := []struct {
		name   string
		events []*history.Event
		opts   historyOptions
		want   string
	}{{
		// Members in Durable Functions' order: EventType in place, then the
		// class's own members, Timestamp, and the members DF appends.
		name: "sequence with input and output", events: helloSequence(), opts: all,
		want: `[{"EventType":"ExecutionStarted","Input":"{\"a\":1}","Correlation":null,"ParentTraceContext":null,"ScheduledStartTime":null,"Generation":0,"GenerateNewTrace":false,"Timestamp":"` + hS0 + `","FunctionName":"E1_HelloSequence"},` +
			`{"EventType":"TaskCompleted","Result":"Hello Tokyo!","Timestamp":"` + hS2 + `","ScheduledTime":"` + hS1 + `","FunctionName":"E1_SayHello","Input":"\"Tokyo\""},` +
			`{"EventType":"ExecutionCompleted","OrchestrationStatus":"Completed","Result":["Hello Tokyo!"],"FailureDetails":null,"Timestamp":"` + hS3 + `"}]`,
	}, {
		name: "defaults: no results", events: helloSequence(), opts: defaults,
		want: `[{"EventType":"ExecutionStarted","Input":"{\"a\":1}","Correlation":null,"ParentTraceContext":null,"ScheduledStartTime":null,"Generation":0,"GenerateNewTrace":false,"Timestamp":"` + hS0 + `","FunctionName":"E1_HelloSequence"},` +
			`{"EventType":"TaskCompleted","Timestamp":"` + hS2 + `","ScheduledTime":"` + hS1 + `","FunctionName":"E1_SayHello","Input":"\"Tokyo\""},` +
			`{"EventType":"ExecutionCompleted","OrchestrationStatus":"Completed","FailureDetails":null,"Timestamp":"` + hS3 + `"}]`,
	}, {
		name: "showInput=false: no inputs anywhere", events: helloSequence(), opts: historyOptions{showOutput: true},
		want: `[{"EventType":"ExecutionStarted","Correlation":null,"ParentTraceContext":null,"ScheduledStartTime":null,"Generation":0,"GenerateNewTrace":false,"Timestamp":"` + hS0 + `","FunctionName":"E1_HelloSequence"},` +
			`{"EventType":"TaskCompleted","Result":"Hello Tokyo!","Timestamp":"` + hS2 + `","ScheduledTime":"` + hS1 + `","FunctionName":"E1_SayHello"},` +
			`{"EventType":"ExecutionCompleted","OrchestrationStatus":"Completed","Result":["Hello Tokyo!"],"FailureDetails":null,"Timestamp":"` + hS3 + `"}]`,
	}, {
		name: "a task without a result yet stays scheduled",
		events: []*history.Event{
			{Type: history.TaskScheduled, EventID: 0, Timestamp: hT1, Name: "A", Version: "1.0", Input: s(`1`)},
		},
		opts: all,
		want: `[{"EventType":"TaskScheduled","Name":"A","Input":"1","ParentTraceContext":null,"Tags":null,"Timestamp":"` + hS1 + `"}]`,
	}, {
		name: "failed task: reason, details and failure kept, folded",
		events: []*history.Event{
			{Type: history.TaskScheduled, EventID: 3, Timestamp: hT1, Name: "A", Input: s(`1`)},
			{Type: history.TaskFailed, EventID: -1, Timestamp: hT2, TaskScheduledID: 3, Reason: s("boom"), Failure: failure},
		},
		opts: defaults,
		want: `[{"EventType":"TaskFailed","Reason":"boom","Details":null,"FailureDetails":` + failureJSON + `,"Timestamp":"` + hS2 + `","ScheduledTime":"` + hS1 + `","FunctionName":"A","Input":"1"}]`,
	}, {
		name: "sub-orchestrations fold like tasks",
		events: []*history.Event{
			{Type: history.SubOrchestrationInstanceCreated, EventID: 0, Timestamp: hT0, Name: "Child", InstanceID: "c1", Input: s(`"x"`)},
			{Type: history.SubOrchestrationInstanceCreated, EventID: 1, Timestamp: hT1, Name: "Child", InstanceID: "c2", Input: s(`"y"`)},
			{Type: history.SubOrchestrationInstanceCompleted, EventID: -1, Timestamp: hT2, TaskScheduledID: 0, Result: s(`42`)},
			{Type: history.SubOrchestrationInstanceFailed, EventID: -1, Timestamp: hT3, TaskScheduledID: 1, Reason: s("no"), Details: s("d")},
		},
		opts: all,
		want: `[{"EventType":"SubOrchestrationInstanceCompleted","Result":42,"Timestamp":"` + hS2 + `","ScheduledTime":"` + hS0 + `","FunctionName":"Child","Input":"\"x\""},` +
			`{"EventType":"SubOrchestrationInstanceFailed","Reason":"no","Details":"d","FailureDetails":null,"Timestamp":"` + hS3 + `","ScheduledTime":"` + hS1 + `","FunctionName":"Child","Input":"\"y\""}]`,
	}, {
		name: "showChildInstanceIds keeps the child's id on a folded result",
		events: []*history.Event{
			{Type: history.SubOrchestrationInstanceCreated, EventID: 0, Timestamp: hT0, Name: "Child", InstanceID: "c1", Input: s(`"x"`)},
			{Type: history.SubOrchestrationInstanceCompleted, EventID: -1, Timestamp: hT2, TaskScheduledID: 0, Result: s(`42`)},
		},
		opts: historyOptions{showInput: false, showOutput: true, childIDs: true},
		want: `[{"EventType":"SubOrchestrationInstanceCompleted","Result":42,"Timestamp":"` + hS2 + `","ScheduledTime":"` + hS0 + `","FunctionName":"Child","InstanceId":"c1"}]`,
	}, {
		name: "a running sub-orchestration stays created, without Version",
		events: []*history.Event{
			{Type: history.SubOrchestrationInstanceCreated, EventID: 0, Timestamp: hT0, Name: "Child", Version: "2", InstanceID: "c1", Input: s(`"x"`)},
		},
		opts: defaults,
		want: `[{"EventType":"SubOrchestrationInstanceCreated","Name":"Child","InstanceId":"c1","Input":"\"x\"","ClientSpanId":null,"Tags":null,"Timestamp":"` + hS0 + `"}]`,
	}, {
		name: "completions only fold their own kind of scheduling event",
		events: []*history.Event{
			{Type: history.SubOrchestrationInstanceCreated, EventID: 0, Timestamp: hT0, Name: "Child", InstanceID: "c1"},
			{Type: history.TaskCompleted, EventID: -1, Timestamp: hT2, TaskScheduledID: 0, Result: s(`1`)},
		},
		opts: defaults,
		want: `[{"EventType":"SubOrchestrationInstanceCreated","Name":"Child","InstanceId":"c1","Input":null,"ClientSpanId":null,"Tags":null,"Timestamp":"` + hS0 + `"},` +
			`{"EventType":"TaskCompleted","Timestamp":"` + hS2 + `"}]`,
	}, {
		name: "timers: TimerFired loses TimerId",
		events: []*history.Event{
			{Type: history.TimerCreated, EventID: 2, Timestamp: hT0, FireAt: hT4},
			{Type: history.TimerFired, EventID: -1, Timestamp: hT4, TimerID: 2, FireAt: hT4},
		},
		opts: defaults,
		want: `[{"EventType":"TimerCreated","FireAt":"` + hS4 + `","Timestamp":"` + hS0 + `"},{"EventType":"TimerFired","FireAt":"` + hS4 + `","Timestamp":"` + hS4 + `"}]`,
	}, {
		name: "events keep their native members; inputs stay JSON strings",
		events: []*history.Event{
			{Type: history.EventRaised, EventID: -1, Timestamp: hT0, Name: "approval", Input: s(`true`)},
			{Type: history.EventSent, EventID: 4, Timestamp: hT1, InstanceID: "other", Name: "ping"},
			{Type: history.ExecutionSuspended, EventID: -1, Timestamp: hT2, Reason: s("pause")},
			{Type: history.ExecutionResumed, EventID: -1, Timestamp: hT2, Reason: nil},
			{Type: history.ExecutionTerminated, EventID: -1, Timestamp: hT3, Input: s(`"stop"`)},
		},
		opts: defaults,
		want: `[{"EventType":"EventRaised","Name":"approval","Input":"true","ParentTraceContext":null,"Timestamp":"` + hS0 + `"},` +
			`{"EventType":"EventSent","InstanceId":"other","Name":"ping","Input":null,"Timestamp":"` + hS1 + `"},` +
			`{"EventType":"ExecutionSuspended","Reason":"pause","Timestamp":"` + hS2 + `"},` +
			`{"EventType":"ExecutionResumed","Reason":null,"Timestamp":"` + hS2 + `"},` +
			`{"EventType":"ExecutionTerminated","Input":"\"stop\"","Timestamp":"` + hS3 + `"}]`,
	}, {
		name: "showInput=false drops the terminate reason and event data too",
		events: []*history.Event{
			{Type: history.EventRaised, EventID: -1, Timestamp: hT0, Name: "approval", Input: s(`true`)},
			{Type: history.ExecutionTerminated, EventID: -1, Timestamp: hT3, Input: s(`"stop"`)},
		},
		opts: historyOptions{},
		want: `[{"EventType":"EventRaised","Name":"approval","ParentTraceContext":null,"Timestamp":"` + hS0 + `"},{"EventType":"ExecutionTerminated","Timestamp":"` + hS3 + `"}]`,
	}, {
		name: "a failed orchestration: status name, failure, unparsable result as a string",
		events: []*history.Event{
			{Type: history.ExecutionCompleted, EventID: 5, Timestamp: hT3, OrchestrationStatus: history.StatusFailed, Result: s(" boom "), Failure: failure},
		},
		opts: all,
		want: `[{"EventType":"ExecutionCompleted","OrchestrationStatus":"Failed","Result":"boom","FailureDetails":` + failureJSON + `,"Timestamp":"` + hS3 + `"}]`,
	}, {
		// Durable Functions has no case for these: the status stays an
		// integer and the result a string even without showHistoryOutput.
		name: "ContinueAsNew and GenericEvent as Durable Functions leaves them",
		events: []*history.Event{
			{Type: history.GenericEvent, EventID: -1, Timestamp: hT0, Data: s("d")},
			{Type: history.ContinueAsNew, EventID: 3, Timestamp: hT1, OrchestrationStatus: history.StatusContinuedAsNew, Result: s(`7`)},
		},
		opts: defaults,
		want: `[{"Data":"d","EventType":"GenericEvent","Timestamp":"` + hS0 + `"},{"EventType":"ContinueAsNew","OrchestrationStatus":2,"Result":"7","FailureDetails":null,"Timestamp":"` + hS1 + `"}]`,
	}, {
		name: "a sub-orchestration's start: parent and tags go, trace context stays",
		events: []*history.Event{
			{Type: history.ExecutionStarted, EventID: -1, Timestamp: hT0, Name: "Child", Version: "1", Input: s(`null`),
				Parent:             &history.ParentInstance{Name: "P", Instance: history.OrchestrationInstance{InstanceID: "p"}, TaskScheduleID: 0},
				ParentTraceContext: &history.TraceContext{TraceParent: "00-abc-def-01", ActivityStartTime: &hT4},
				ScheduledStartTime: &hT4, Correlation: s("c")},
		},
		opts: defaults,
		want: `[{"EventType":"ExecutionStarted","Input":"null","Correlation":"c","ParentTraceContext":{"TraceParent":"00-abc-def-01","TraceState":null,"Id":null,"SpanId":null,"ActivityStartTime":"2018-02-28T05:19:00+00:00"},` +
			`"ScheduledStartTime":"` + hS4 + `","Generation":null,"GenerateNewTrace":false,"Timestamp":"` + hS0 + `","FunctionName":"Child"}]`,
	}, {
		name: "empty history", events: nil, opts: all, want: `[]`,
	}}
	for _, c := range cases {
		b, err := json.Marshal(historyEvents(c.events, c.opts))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(b) != c.want {
			t.Errorf("%s:\ngot  %s\nwant %s", c.name, b, c.want)
		}
	}
}

// The transform must not change the history it reads.
func TestHistoryEventsLeavesInputAlone(t *testing.T) {
	events := helloSequence()
	before, _ := json.Marshal(events)
	historyEvents(events, historyOptions{showInput: true, showOutput: true})
	historyEvents(events, historyOptions{})
	if after, _ := json.Marshal(events); string(after) != string(before) {
		t.Fatal("historyEvents modified its input")
	}
}
