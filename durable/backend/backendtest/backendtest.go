// Package backendtest is the conformance suite every durable backend
// passes, so that backends cannot drift apart: the Azure Storage backend
// runs it on Azurite, the in-memory backend in process.
//
// Run's subtests call the backend.Backend methods directly, with
// checkpoints laid out by hand, and check the contract documented on the
// interface: what a work item holds, what a checkpoint stores and sends,
// when delayed messages become visible, which stale messages are dropped,
// and which sentinel error each method returns. Its "Engine" subtests then
// run real orchestrations, activities and entities through durable.Worker
// and durable.Client on the backend.
//
// A backend package runs it from a test:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) backend.Backend { return newTestBackend(t) })
//	}
//
// newBackend must return a fresh, empty task hub (created, not started)
// and remove it when t ends.
package backendtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// fetchTimeout bounds one wait for work that must arrive.
const fetchTimeout = 20 * time.Second

// Run runs the conformance suite against backends made by newBackend.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	cases := []struct {
		name string
		fn   func(t *testing.T, be backend.Backend)
	}{
		{"CreateInstance/PendingStatus", testCreatePending},
		{"CreateInstance/ErrInstanceExists", testCreateDedupe},
		{"GetInstance/ErrInstanceNotFound", testGetNotFound},
		{"FetchOrchestrationWorkItem/StartAndCheckpoint", testStartAndCheckpoint},
		{"FetchActivityWorkItem/ResultReachesOrchestration", testActivityRoundTrip},
		{"AbandonOrchestrationWorkItem/Redelivers", testAbandonOrchestration},
		{"AbandonActivityWorkItem/Redelivers", testAbandonActivity},
		{"Checkpoint/TimerVisibleAtFireTime", testTimerDelay},
		{"Checkpoint/ContinuedAsNewReplacesHistory", testContinuedAsNew},
		{"Checkpoint/SubOrchestrationStart", testSubOrchestrationStart},
		{"Checkpoint/CompletedStatus", testCompletedStatus},
		{"SendEvent/DeliveredToCurrentExecution", testSendEvent},
		{"SendEvent/StaleExecutionDropped", testStaleExecutionDropped},
		{"SendEvent/DuplicateResultDropped", testDuplicateResultDropped},
		{"SendEvent/ScheduledEntitySignalWaits", testScheduledSignal},
		{"FetchOrchestrationWorkItem/OneWorkItemPerInstance", testInstanceLock},
		{"CreateInstance/ScheduledStartWaits", testScheduledStart},
		{"QueryInstances/FiltersAndPages", testQuery},
		{"PurgeInstance/RemovesAndErrInstanceNotFound", testPurge},
		{"RewindInstance/FailedRunsAgain", testRewind},
		{"RewindInstance/Errors", testRewindErrors},
		{"Fetch/ContextErrorWhenIdle", testFetchIdle},
		{"CompleteOrchestrationWorkItem/ErrWorkItemLostWhenNotHeld", testCompleteTwice},
		{"CompleteActivityWorkItem/SecondResultNotRecorded", testCompleteActivityTwice},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			be := newBackend(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := be.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := be.Stop(ctx); err != nil {
					t.Errorf("Stop: %v", err)
				}
			})
			c.fn(t, be)
		})
	}
	runEngine(t, newBackend)
}

var idCounter atomic.Int64

// newID returns an instance id unique within the test binary.
func newID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, idCounter.Add(1))
}

func startEvent(id, name string, input *string) *history.Event {
	gen := 0
	return &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: time.Now().UTC(), Name: name, Input: input,
		Instance: &history.OrchestrationInstance{InstanceID: id, ExecutionID: strings.ReplaceAll(newID("exec"), "-", "")}, Generation: &gen}
}

func create(t *testing.T, be backend.Backend, id, name string) *history.Event {
	t.Helper()
	e := startEvent(id, name, history.Str(`"in"`))
	if err := be.CreateInstance(context.Background(), e, []history.OrchestrationStatus{history.StatusPending, history.StatusRunning}); err != nil {
		t.Fatalf("CreateInstance(%s): %v", id, err)
	}
	return e
}

func fetchOrch(t *testing.T, be backend.Backend) *backend.OrchestrationWorkItem {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	wi, err := be.FetchOrchestrationWorkItem(ctx)
	if err != nil {
		t.Fatalf("FetchOrchestrationWorkItem: %v", err)
	}
	return wi
}

func fetchActivity(t *testing.T, be backend.Backend) *backend.ActivityWorkItem {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	wi, err := be.FetchActivityWorkItem(ctx)
	if err != nil {
		t.Fatalf("FetchActivityWorkItem: %v", err)
	}
	return wi
}

// noOrch checks that no orchestration work item shows up within d.
func noOrch(t *testing.T, be backend.Backend, d time.Duration, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	wi, err := be.FetchOrchestrationWorkItem(ctx)
	if err == nil {
		t.Fatalf("%s, but a work item for %q arrived with %s", why, wi.InstanceID, types(wi.NewEvents))
	}
}

func complete(t *testing.T, be backend.Backend, wi *backend.OrchestrationWorkItem, cp *backend.Checkpoint) {
	t.Helper()
	if err := be.CompleteOrchestrationWorkItem(context.Background(), wi, cp); err != nil {
		t.Fatalf("CompleteOrchestrationWorkItem(%s): %v", wi.InstanceID, err)
	}
}

func types(events []*history.Event) string {
	var s []string
	for _, e := range events {
		s = append(s, e.Type.String())
	}
	return strings.Join(s, ",")
}

// episode lays out a checkpoint the way the engine does: OrchestratorStarted,
// the work item's new events, the given events, OrchestratorCompleted.
func episode(wi *backend.OrchestrationWorkItem, status history.OrchestrationStatus, events ...*history.Event) *backend.Checkpoint {
	now := time.Now().UTC()
	all := []*history.Event{{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now}}
	all = append(all, wi.NewEvents...)
	all = append(all, events...)
	all = append(all, &history.Event{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: now})
	return &backend.Checkpoint{NewEvents: all, State: backend.InstanceUpdate{RuntimeStatus: status}}
}

func self(wi *backend.OrchestrationWorkItem) history.OrchestrationInstance {
	for _, l := range [][]*history.Event{wi.History, wi.NewEvents} {
		for _, e := range l {
			if e.Type == history.ExecutionStarted && e.Instance != nil {
				return *e.Instance
			}
		}
	}
	return history.OrchestrationInstance{InstanceID: wi.InstanceID}
}

// started creates an instance and commits its first episode, which
// schedules the activity "A" (sequence number 0).
func started(t *testing.T, be backend.Backend, prefix string) (string, history.OrchestrationInstance) {
	t.Helper()
	id := newID(prefix)
	create(t, be, id, "Orch")
	wi := fetchOrch(t, be)
	sched := &history.Event{Type: history.TaskScheduled, EventID: 0, Timestamp: time.Now().UTC(), Name: "A", Input: history.Str(`["x"]`)}
	cp := episode(wi, history.StatusRunning, sched)
	cp.Outbound = []backend.OutboundMessage{{Event: sched, Target: self(wi)}}
	complete(t, be, wi, cp)
	return id, self(wi)
}

func testCreatePending(t *testing.T, be backend.Backend) {
	id := newID("pending")
	e := create(t, be, id, "Orch")
	st, err := be.GetInstance(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.InstanceID != id || st.Name != "Orch" || st.RuntimeStatus != history.StatusPending ||
		!strings.EqualFold(st.ExecutionID, e.Instance.ExecutionID) || history.Deref(st.Input) != `"in"` || st.CreatedTime.IsZero() {
		t.Fatalf("GetInstance after CreateInstance = %+v", st)
	}
}

func testCreateDedupe(t *testing.T, be backend.Backend) {
	id := newID("dup")
	create(t, be, id, "Orch")
	err := be.CreateInstance(context.Background(), startEvent(id, "Orch", nil), []history.OrchestrationStatus{history.StatusPending})
	if !errors.Is(err, backend.ErrInstanceExists) {
		t.Fatalf("second CreateInstance of a Pending instance: err = %v, want ErrInstanceExists", err)
	}
}

func testGetNotFound(t *testing.T, be backend.Backend) {
	_, err := be.GetInstance(context.Background(), newID("nobody"), true)
	if !errors.Is(err, backend.ErrInstanceNotFound) {
		t.Fatalf("GetInstance of an unknown id: err = %v, want ErrInstanceNotFound", err)
	}
}

func testStartAndCheckpoint(t *testing.T, be backend.Backend) {
	id := newID("start")
	e := create(t, be, id, "Orch")
	wi := fetchOrch(t, be)
	if wi.InstanceID != id || len(wi.History) != 0 || len(wi.NewEvents) != 1 || wi.NewEvents[0].Type != history.ExecutionStarted ||
		wi.NewEvents[0].Name != "Orch" || history.Deref(wi.NewEvents[0].Input) != `"in"` ||
		!strings.EqualFold(wi.NewEvents[0].Instance.ExecutionID, e.Instance.ExecutionID) {
		t.Fatalf("first work item = %+v (new events %s)", wi, types(wi.NewEvents))
	}
	if len(wi.Messages) != 1 || wi.Messages[0].Event.Type != history.ExecutionStarted || wi.Messages[0].DequeueCount < 1 {
		t.Fatalf("work item messages = %+v", wi.Messages)
	}
	sched := &history.Event{Type: history.TaskScheduled, EventID: 0, Timestamp: time.Now().UTC(), Name: "A"}
	cp := episode(wi, history.StatusRunning, sched)
	cs := `"step 1"`
	cp.State.CustomStatus = &cs
	complete(t, be, wi, cp)
	st, err := be.GetInstance(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != history.StatusRunning || history.Deref(st.CustomStatus) != cs || st.Name != "Orch" {
		t.Fatalf("status after the first checkpoint = %+v", st)
	}
	h, err := be.GetHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got := types(h); got != "OrchestratorStarted,ExecutionStarted,TaskScheduled,OrchestratorCompleted" {
		t.Fatalf("history = %s", got)
	}
	if h[2].EventID != 0 || h[2].Name != "A" {
		t.Fatalf("TaskScheduled stored as %+v", h[2])
	}
}

func testActivityRoundTrip(t *testing.T, be backend.Backend) {
	id, inst := started(t, be, "act")
	aw := fetchActivity(t, be)
	if aw.Instance.InstanceID != id || !strings.EqualFold(aw.Instance.ExecutionID, inst.ExecutionID) ||
		aw.Scheduled.Name != "A" || aw.Scheduled.EventID != 0 || history.Deref(aw.Scheduled.Input) != `["x"]` {
		t.Fatalf("activity work item = %+v / %+v", aw.Instance, aw.Scheduled)
	}
	if err := be.RenewActivityWorkItem(context.Background(), aw); err != nil {
		t.Fatalf("RenewActivityWorkItem of a held work item: %v", err)
	}
	res := &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: 0, Result: history.Str(`"done"`)}
	if err := be.CompleteActivityWorkItem(context.Background(), aw, res); err != nil {
		t.Fatal(err)
	}
	wi := fetchOrch(t, be)
	if wi.InstanceID != id || types(wi.History) != "OrchestratorStarted,ExecutionStarted,TaskScheduled,OrchestratorCompleted" ||
		len(wi.NewEvents) != 1 || wi.NewEvents[0].Type != history.TaskCompleted || wi.NewEvents[0].TaskScheduledID != 0 ||
		history.Deref(wi.NewEvents[0].Result) != `"done"` {
		t.Fatalf("work item after the activity: history %s, new %s", types(wi.History), types(wi.NewEvents))
	}
	complete(t, be, wi, episode(wi, history.StatusRunning))
	h, _ := be.GetHistory(context.Background(), id)
	if n := len(h); n != 7 || h[5].Type != history.TaskCompleted {
		t.Fatalf("history after two episodes = %s", types(h))
	}
}

func testAbandonOrchestration(t *testing.T, be backend.Backend) {
	id := newID("abandon")
	create(t, be, id, "Orch")
	wi := fetchOrch(t, be)
	if err := be.AbandonOrchestrationWorkItem(context.Background(), wi, 0); err != nil {
		t.Fatal(err)
	}
	again := fetchOrch(t, be)
	if again.InstanceID != id || types(again.NewEvents) != "ExecutionStarted" || again.Messages[0].DequeueCount < 2 {
		t.Fatalf("redelivered work item = %s, %s, dequeue count %d", again.InstanceID, types(again.NewEvents), again.Messages[0].DequeueCount)
	}
	complete(t, be, again, episode(again, history.StatusRunning))
	if st, err := be.GetInstance(context.Background(), id, false); err != nil || st.RuntimeStatus != history.StatusRunning {
		t.Fatalf("status after the redelivered episode: %+v, %v", st, err)
	}
}

func testAbandonActivity(t *testing.T, be backend.Backend) {
	id, _ := started(t, be, "actabandon")
	aw := fetchActivity(t, be)
	if err := be.AbandonActivityWorkItem(context.Background(), aw, 0); err != nil {
		t.Fatal(err)
	}
	again := fetchActivity(t, be)
	// The Azure Storage backend hands a fresh activity over in process
	// (its queue never counted that delivery), so only >= 1 is required.
	if again.Instance.InstanceID != id || again.Scheduled.Name != "A" || again.DequeueCount < 1 {
		t.Fatalf("redelivered activity = %+v, dequeue count %d", again.Scheduled, again.DequeueCount)
	}
	res := &history.Event{Type: history.TaskFailed, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: 0,
		Reason: history.Str("boom"), Failure: &history.FailureDetails{ErrorType: "E", ErrorMessage: "boom"}}
	if err := be.CompleteActivityWorkItem(context.Background(), again, res); err != nil {
		t.Fatal(err)
	}
	wi := fetchOrch(t, be)
	if len(wi.NewEvents) != 1 || wi.NewEvents[0].Type != history.TaskFailed || wi.NewEvents[0].Failure == nil ||
		wi.NewEvents[0].Failure.ErrorMessage != "boom" {
		t.Fatalf("failure delivered as %s %+v", types(wi.NewEvents), wi.NewEvents)
	}
	complete(t, be, wi, episode(wi, history.StatusRunning))
}

func testTimerDelay(t *testing.T, be backend.Backend) {
	id := newID("timer")
	create(t, be, id, "Orch")
	wi := fetchOrch(t, be)
	fireAt := time.Now().UTC().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
	created := &history.Event{Type: history.TimerCreated, EventID: 0, Timestamp: time.Now().UTC(), FireAt: fireAt}
	cp := episode(wi, history.StatusRunning, created)
	cp.Timers = []backend.OutboundMessage{{Event: &history.Event{Type: history.TimerFired, EventID: -1, Timestamp: time.Now().UTC(), TimerID: 0, FireAt: fireAt},
		Target: self(wi), VisibleAt: fireAt}}
	complete(t, be, wi, cp)
	fired := fetchOrch(t, be)
	if now := time.Now(); now.Before(fireAt.Add(-200 * time.Millisecond)) {
		t.Fatalf("the timer fired %v before its time", fireAt.Sub(now))
	}
	if fired.InstanceID != id || len(fired.NewEvents) != 1 || fired.NewEvents[0].Type != history.TimerFired || fired.NewEvents[0].TimerID != 0 {
		t.Fatalf("timer work item = %s", types(fired.NewEvents))
	}
	complete(t, be, fired, episode(fired, history.StatusRunning))
}

func testContinuedAsNew(t *testing.T, be backend.Backend) {
	id := newID("can")
	create(t, be, id, "Orch")
	wi := fetchOrch(t, be)
	complete(t, be, wi, episode(wi, history.StatusRunning))
	wi2 := func() *backend.OrchestrationWorkItem {
		if err := be.SendEvent(context.Background(), history.OrchestrationInstance{InstanceID: id},
			&history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(), Name: "go"}); err != nil {
			t.Fatal(err)
		}
		return fetchOrch(t, be)
	}()
	now := time.Now().UTC()
	next := startEvent(id, "Orch", history.Str("2"))
	next.Timestamp = now
	cp := &backend.Checkpoint{ContinuedAsNew: true, NewEvents: []*history.Event{
		{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now},
		next,
		{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: now},
	}, State: backend.InstanceUpdate{RuntimeStatus: history.StatusRunning}}
	complete(t, be, wi2, cp)
	h, err := be.GetHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if types(h) != "OrchestratorStarted,ExecutionStarted,OrchestratorCompleted" || history.Deref(h[1].Input) != "2" {
		t.Fatalf("history after continue-as-new = %s", types(h))
	}
	st, _ := be.GetInstance(context.Background(), id, true)
	if st == nil || !strings.EqualFold(st.ExecutionID, next.Instance.ExecutionID) || st.RuntimeStatus != history.StatusRunning || history.Deref(st.Input) != "2" {
		t.Fatalf("status after continue-as-new = %+v", st)
	}
}

func testSubOrchestrationStart(t *testing.T, be backend.Backend) {
	parentID := newID("parent")
	create(t, be, parentID, "Parent")
	wi := fetchOrch(t, be)
	childID := parentID + ":0"
	now := time.Now().UTC()
	gen := 0
	childStart := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: now, Name: "Child", Input: history.Str("7"), Generation: &gen,
		Instance: &history.OrchestrationInstance{InstanceID: childID, ExecutionID: "c0ffee00c0ffee00c0ffee00c0ffee00"},
		Parent:   &history.ParentInstance{Name: "Parent", Instance: self(wi), TaskScheduleID: 0}}
	created := &history.Event{Type: history.SubOrchestrationInstanceCreated, EventID: 0, Timestamp: now, Name: "Child", InstanceID: childID, Input: history.Str("7")}
	cp := episode(wi, history.StatusRunning, created)
	cp.Outbound = []backend.OutboundMessage{{Event: childStart, Target: *childStart.Instance}}
	complete(t, be, wi, cp)
	cw := fetchOrch(t, be)
	if cw.InstanceID != childID || len(cw.NewEvents) != 1 || cw.NewEvents[0].Parent == nil || cw.NewEvents[0].Parent.Instance.InstanceID != parentID {
		t.Fatalf("child work item = %s %s", cw.InstanceID, types(cw.NewEvents))
	}
	done := &history.Event{Type: history.ExecutionCompleted, EventID: 0, Timestamp: now, OrchestrationStatus: history.StatusCompleted, Result: history.Str("49")}
	ccp := episode(cw, history.StatusCompleted, done)
	ccp.State.Output = history.Str("49")
	ccp.Outbound = []backend.OutboundMessage{{Target: self(wi), Event: &history.Event{Type: history.SubOrchestrationInstanceCompleted, EventID: -1,
		Timestamp: now, TaskScheduledID: 0, Result: history.Str("49")}}}
	complete(t, be, cw, ccp)
	st, err := be.GetInstance(context.Background(), childID, true)
	if err != nil || st.RuntimeStatus != history.StatusCompleted || st.Name != "Child" || history.Deref(st.Output) != "49" {
		t.Fatalf("child status = %+v, %v", st, err)
	}
	pw := fetchOrch(t, be)
	if pw.InstanceID != parentID || len(pw.NewEvents) != 1 || pw.NewEvents[0].Type != history.SubOrchestrationInstanceCompleted {
		t.Fatalf("parent work item = %s %s", pw.InstanceID, types(pw.NewEvents))
	}
	complete(t, be, pw, episode(pw, history.StatusRunning))
}

func testCompletedStatus(t *testing.T, be backend.Backend) {
	id := newID("done")
	create(t, be, id, "Orch")
	wi := fetchOrch(t, be)
	done := &history.Event{Type: history.ExecutionCompleted, EventID: 0, Timestamp: time.Now().UTC(), OrchestrationStatus: history.StatusCompleted, Result: history.Str(`"out"`)}
	cp := episode(wi, history.StatusCompleted, done)
	cp.State.Output = history.Str(`"out"`)
	cp.State.CompletedTime = time.Now().UTC()
	complete(t, be, wi, cp)
	st, err := be.GetInstance(context.Background(), id, true)
	if err != nil || st.RuntimeStatus != history.StatusCompleted || history.Deref(st.Output) != `"out"` || st.LastUpdatedTime.IsZero() {
		t.Fatalf("status = %+v, %v", st, err)
	}
	// A finished instance can be started again under the same id.
	create(t, be, id, "Orch")
	again := fetchOrch(t, be)
	if again.InstanceID != id || len(again.History) != 0 || types(again.NewEvents) != "ExecutionStarted" {
		t.Fatalf("restart work item: history %s, new %s", types(again.History), types(again.NewEvents))
	}
	complete(t, be, again, episode(again, history.StatusRunning))
	st, _ = be.GetInstance(context.Background(), id, false)
	if st.RuntimeStatus != history.StatusRunning || st.Generation < 1 {
		t.Fatalf("status of the restarted instance = %+v", st)
	}
}

func raise(t *testing.T, be backend.Backend, to history.OrchestrationInstance, name string) {
	t.Helper()
	if err := be.SendEvent(context.Background(), to, &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(),
		Name: name, Input: history.Str(`"` + name + `"`)}); err != nil {
		t.Fatal(err)
	}
}

func testSendEvent(t *testing.T, be backend.Backend) {
	id, inst := started(t, be, "event")
	raise(t, be, history.OrchestrationInstance{InstanceID: id}, "first")
	raise(t, be, inst, "second")
	var got []string
	for len(got) < 2 {
		wi := fetchOrch(t, be)
		for _, e := range wi.NewEvents {
			if e.Type != history.EventRaised {
				t.Fatalf("unexpected %s", e.Type)
			}
			got = append(got, e.Name)
		}
		complete(t, be, wi, episode(wi, history.StatusRunning))
	}
	if strings.Join(got, ",") != "first,second" {
		t.Fatalf("events delivered as %v, want first,second in send order", got)
	}
}

func testStaleExecutionDropped(t *testing.T, be backend.Backend) {
	id, _ := started(t, be, "stale")
	raise(t, be, history.OrchestrationInstance{InstanceID: id, ExecutionID: "0123456789abcdef0123456789abcdef"}, "stale")
	raise(t, be, history.OrchestrationInstance{InstanceID: id}, "fresh")
	var got []string
	deadline := time.Now().Add(fetchTimeout)
	for !strings.Contains(strings.Join(got, ","), "fresh") && time.Now().Before(deadline) {
		wi := fetchOrch(t, be)
		for _, e := range wi.NewEvents {
			got = append(got, e.Name)
		}
		complete(t, be, wi, episode(wi, history.StatusRunning))
	}
	if strings.Join(got, ",") != "fresh" {
		t.Fatalf("delivered %v; an event for another execution must be dropped", got)
	}
}

func testDuplicateResultDropped(t *testing.T, be backend.Backend) {
	id, inst := started(t, be, "dupres")
	res := func(v string) *history.Event {
		return &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: 0, Result: history.Str(v)}
	}
	if err := be.SendEvent(context.Background(), inst, res(`"one"`)); err != nil {
		t.Fatal(err)
	}
	wi := fetchOrch(t, be)
	if types(wi.NewEvents) != "TaskCompleted" {
		t.Fatalf("first result delivered as %s", types(wi.NewEvents))
	}
	complete(t, be, wi, episode(wi, history.StatusRunning))
	if err := be.SendEvent(context.Background(), inst, res(`"two"`)); err != nil {
		t.Fatal(err)
	}
	raise(t, be, history.OrchestrationInstance{InstanceID: id}, "after")
	var got []string
	for !strings.Contains(strings.Join(got, ","), "EventRaised") {
		wi := fetchOrch(t, be)
		got = append(got, types(wi.NewEvents))
		complete(t, be, wi, episode(wi, history.StatusRunning))
	}
	if strings.Join(got, ",") != "EventRaised" {
		t.Fatalf("delivered %v; a second result for call 0 must be dropped", got)
	}
}

func testScheduledSignal(t *testing.T, be backend.Backend) {
	entity := "@counter@" + newID("k")
	due := time.Now().UTC().Add(1500 * time.Millisecond)
	name := "op@" + due.Format("2006-01-02T15:04:05.0000000Z")
	if err := be.SendEvent(context.Background(), history.OrchestrationInstance{InstanceID: entity},
		&history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(), Name: name, Input: history.Str(`{}`)}); err != nil {
		t.Fatal(err)
	}
	wi := fetchOrch(t, be)
	if now := time.Now(); now.Before(due.Add(-200 * time.Millisecond)) {
		t.Fatalf("a signal scheduled for %v was delivered %v early", due, due.Sub(now))
	}
	if wi.InstanceID != entity || len(wi.NewEvents) != 1 || wi.NewEvents[0].Name != name {
		t.Fatalf("signal work item = %s %s", wi.InstanceID, types(wi.NewEvents))
	}
	if err := be.AbandonOrchestrationWorkItem(context.Background(), wi, time.Hour); err != nil {
		t.Fatal(err)
	}
}

func testInstanceLock(t *testing.T, be backend.Backend) {
	id, _ := started(t, be, "lock")
	raise(t, be, history.OrchestrationInstance{InstanceID: id}, "one")
	wi := fetchOrch(t, be)
	raise(t, be, history.OrchestrationInstance{InstanceID: id}, "two")
	noOrch(t, be, 1500*time.Millisecond, "the instance is held by a work item")
	complete(t, be, wi, episode(wi, history.StatusRunning))
	next := fetchOrch(t, be)
	if next.InstanceID != id || types(next.NewEvents) != "EventRaised" || next.NewEvents[0].Name != "two" {
		t.Fatalf("after the first work item: %s %s", next.InstanceID, types(next.NewEvents))
	}
	if types(next.History) != "OrchestratorStarted,ExecutionStarted,TaskScheduled,OrchestratorCompleted,OrchestratorStarted,EventRaised,OrchestratorCompleted" {
		t.Fatalf("history seen by the second work item = %s", types(next.History))
	}
	complete(t, be, next, episode(next, history.StatusRunning))
}

func testScheduledStart(t *testing.T, be backend.Backend) {
	id := newID("later")
	e := startEvent(id, "Orch", nil)
	at := time.Now().UTC().Add(1500 * time.Millisecond)
	e.ScheduledStartTime = &at
	if err := be.CreateInstance(context.Background(), e, nil); err != nil {
		t.Fatal(err)
	}
	st, err := be.GetInstance(context.Background(), id, false)
	if err != nil || st.RuntimeStatus != history.StatusPending || st.ScheduledStartTime == nil {
		t.Fatalf("scheduled instance = %+v, %v", st, err)
	}
	wi := fetchOrch(t, be)
	if now := time.Now(); now.Before(at.Add(-200 * time.Millisecond)) {
		t.Fatalf("a start scheduled for %v ran %v early", at, at.Sub(now))
	}
	if wi.InstanceID != id || types(wi.NewEvents) != "ExecutionStarted" {
		t.Fatalf("work item = %s %s", wi.InstanceID, types(wi.NewEvents))
	}
	complete(t, be, wi, episode(wi, history.StatusRunning))
}

func testQuery(t *testing.T, be backend.Backend) {
	prefix := newID("q") + "-"
	for i := 0; i < 3; i++ {
		create(t, be, fmt.Sprintf("%s%d", prefix, i), "Orch")
	}
	other := newID("other")
	create(t, be, other, "Orch")
	ctx := context.Background()
	p, err := be.QueryInstances(ctx, backend.InstanceQuery{InstanceIDPrefix: prefix, PageSize: 2, FetchInputs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Instances) != 2 || p.ContinuationToken == "" || history.Deref(p.Instances[0].Input) != `"in"` {
		t.Fatalf("first page = %d instances, token %q", len(p.Instances), p.ContinuationToken)
	}
	p2, err := be.QueryInstances(ctx, backend.InstanceQuery{InstanceIDPrefix: prefix, PageSize: 2, ContinuationToken: p.ContinuationToken})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range append(p.Instances, p2.Instances...) {
		seen[s.InstanceID] = true
	}
	if len(p2.Instances) != 1 || len(seen) != 3 || p2.ContinuationToken != "" || p2.Instances[0].Input != nil {
		t.Fatalf("second page = %+v (token %q), seen %v", p2.Instances, p2.ContinuationToken, seen)
	}
	p3, err := be.QueryInstances(ctx, backend.InstanceQuery{InstanceIDPrefix: prefix, RuntimeStatus: []history.OrchestrationStatus{history.StatusRunning}})
	if err != nil || len(p3.Instances) != 0 {
		t.Fatalf("Running filter over Pending instances = %+v, %v", p3, err)
	}
	p4, err := be.QueryInstances(ctx, backend.InstanceQuery{InstanceIDPrefix: prefix, RuntimeStatus: []history.OrchestrationStatus{history.StatusPending},
		CreatedFrom: time.Now().Add(-time.Hour), CreatedTo: time.Now().Add(time.Hour)})
	if err != nil || len(p4.Instances) != 3 {
		t.Fatalf("Pending filter with a time window = %d instances, %v", len(p4.Instances), err)
	}
	p5, err := be.QueryInstances(ctx, backend.InstanceQuery{InstanceIDPrefix: prefix, CreatedFrom: time.Now().Add(time.Hour)})
	if err != nil || len(p5.Instances) != 0 {
		t.Fatalf("CreatedFrom in the future = %d instances, %v", len(p5.Instances), err)
	}
	entity := "@counter@" + newID("q")
	raise(t, be, history.OrchestrationInstance{InstanceID: entity}, "op")
	wi := fetchOrch(t, be)
	for wi.InstanceID != entity {
		complete(t, be, wi, episode(wi, history.StatusRunning))
		wi = fetchOrch(t, be)
	}
	now := time.Now().UTC()
	start := startEvent(entity, entity, history.Str(`{"exists":true}`))
	complete(t, be, wi, &backend.Checkpoint{ContinuedAsNew: true, NewEvents: []*history.Event{
		{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now}, start, {Type: history.OrchestratorCompleted, EventID: -1, Timestamp: now}},
		State: backend.InstanceUpdate{RuntimeStatus: history.StatusRunning}})
	all, err := be.QueryInstances(ctx, backend.InstanceQuery{ExcludeEntities: true, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all.Instances {
		if strings.HasPrefix(s.InstanceID, "@") {
			t.Fatalf("ExcludeEntities listed %s", s.InstanceID)
		}
	}
	ents, err := be.QueryInstances(ctx, backend.InstanceQuery{InstanceIDPrefix: "@counter@", FetchInputs: true})
	if err != nil || len(ents.Instances) != 1 || ents.Instances[0].InstanceID != entity {
		t.Fatalf("entity query = %+v, %v", ents, err)
	}
}

func testPurge(t *testing.T, be backend.Backend) {
	id := newID("purge")
	create(t, be, id, "Orch")
	wi := fetchOrch(t, be)
	done := &history.Event{Type: history.ExecutionCompleted, EventID: 0, Timestamp: time.Now().UTC(), OrchestrationStatus: history.StatusCompleted}
	complete(t, be, wi, episode(wi, history.StatusCompleted, done))
	ctx := context.Background()
	if err := be.PurgeInstance(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := be.GetInstance(ctx, id, false); !errors.Is(err, backend.ErrInstanceNotFound) {
		t.Fatalf("GetInstance after purge: %v, want ErrInstanceNotFound", err)
	}
	if h, err := be.GetHistory(ctx, id); err != nil || len(h) != 0 {
		t.Fatalf("history after purge = %s, %v", types(h), err)
	}
	if err := be.PurgeInstance(ctx, id); !errors.Is(err, backend.ErrInstanceNotFound) {
		t.Fatalf("second purge: %v, want ErrInstanceNotFound", err)
	}
}

// failedInstance commits an instance whose activity failed and which then
// failed itself.
func failedInstance(t *testing.T, be backend.Backend) (string, history.OrchestrationInstance) {
	id, inst := started(t, be, "rewind")
	aw := fetchActivity(t, be)
	f := &history.FailureDetails{ErrorType: "E", ErrorMessage: "boom"}
	if err := be.CompleteActivityWorkItem(context.Background(), aw, &history.Event{Type: history.TaskFailed, EventID: -1,
		Timestamp: time.Now().UTC(), TaskScheduledID: 0, Reason: history.Str("boom"), Failure: f}); err != nil {
		t.Fatal(err)
	}
	wi := fetchOrch(t, be)
	done := &history.Event{Type: history.ExecutionCompleted, EventID: 1, Timestamp: time.Now().UTC(), OrchestrationStatus: history.StatusFailed,
		Failure: &history.FailureDetails{ErrorType: "TaskFailedError", ErrorMessage: "A failed", InnerFailure: f}}
	cp := episode(wi, history.StatusFailed, done)
	cp.State.Output = history.Str("Orchestrator function 'Orch' failed: A failed")
	complete(t, be, wi, cp)
	return id, inst
}

func testRewind(t *testing.T, be backend.Backend) {
	id, _ := failedInstance(t, be)
	ctx := context.Background()
	if err := be.RewindInstance(ctx, id, "try again"); err != nil {
		t.Fatal(err)
	}
	st, err := be.GetInstance(ctx, id, true)
	if err != nil || st.RuntimeStatus != history.StatusPending {
		t.Fatalf("status after rewind = %+v, %v", st, err)
	}
	wi := fetchOrch(t, be)
	if wi.InstanceID != id || types(wi.NewEvents) != "GenericEvent" {
		t.Fatalf("rewind wake-up = %s %s", wi.InstanceID, types(wi.NewEvents))
	}
	var rewound []string
	for _, e := range wi.History {
		switch e.Type {
		case history.TaskFailed, history.ExecutionCompleted:
			t.Fatalf("history still has %s after rewind: %s", e.Type, types(wi.History))
		case history.GenericEvent:
			rewound = append(rewound, history.Deref(e.Data))
		}
	}
	// The failed call, its failure and the failed completion became
	// GenericEvents (where the marker "Rewound: {type}" is kept differs:
	// DurableTask.AzureStorage writes it into the row's Reason column).
	if len(rewound) != 3 {
		t.Fatalf("rewound events = %q, want 3", rewound)
	}
	complete(t, be, wi, episode(wi, history.StatusRunning))
}

func testRewindErrors(t *testing.T, be backend.Backend) {
	ctx := context.Background()
	if err := be.RewindInstance(ctx, newID("nobody"), "r"); !errors.Is(err, backend.ErrInstanceNotFound) {
		t.Fatalf("rewind of an unknown instance: %v, want ErrInstanceNotFound", err)
	}
	id, _ := started(t, be, "running")
	if err := be.RewindInstance(ctx, id, "r"); err == nil {
		t.Fatal("rewind of a Running instance succeeded")
	}
}

func testFetchIdle(t *testing.T, be backend.Backend) {
	for name, fetch := range map[string]func(ctx context.Context) error{
		"FetchOrchestrationWorkItem": func(ctx context.Context) error { _, err := be.FetchOrchestrationWorkItem(ctx); return err },
		"FetchActivityWorkItem":      func(ctx context.Context) error { _, err := be.FetchActivityWorkItem(ctx); return err },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := fetch(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s on an idle task hub: err = %v, want the context's error", name, err)
		}
	}
}

func testCompleteTwice(t *testing.T, be backend.Backend) {
	id := newID("twice")
	create(t, be, id, "Orch")
	wi := fetchOrch(t, be)
	cp := episode(wi, history.StatusRunning)
	complete(t, be, wi, cp)
	err := be.CompleteOrchestrationWorkItem(context.Background(), wi, episode(wi, history.StatusRunning))
	if !errors.Is(err, backend.ErrWorkItemLost) {
		h, _ := be.GetHistory(context.Background(), id)
		t.Fatalf("completing a work item a second time: err = %v, want ErrWorkItemLost; history is now %s", err, types(h))
	}
	if err := be.AbandonOrchestrationWorkItem(context.Background(), wi, 0); !errors.Is(err, backend.ErrWorkItemLost) {
		t.Fatalf("abandoning a completed work item: err = %v, want ErrWorkItemLost", err)
	}
	if h, _ := be.GetHistory(context.Background(), id); types(h) != "OrchestratorStarted,ExecutionStarted,OrchestratorCompleted" {
		t.Fatalf("history after the refused second commit = %s", types(h))
	}
}

// A second completion of an activity work item (a worker that lost it and
// ran it again) may be refused or accepted, but its result never reaches
// the history twice.
func testCompleteActivityTwice(t *testing.T, be backend.Backend) {
	id, _ := started(t, be, "acttwice")
	aw := fetchActivity(t, be)
	res := &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: 0, Result: history.Str("1")}
	if err := be.CompleteActivityWorkItem(context.Background(), aw, res); err != nil {
		t.Fatal(err)
	}
	_ = be.CompleteActivityWorkItem(context.Background(), aw, res)
	raise(t, be, history.OrchestrationInstance{InstanceID: id}, "after")
	seen := ""
	for !strings.Contains(seen, "EventRaised") {
		wi := fetchOrch(t, be)
		seen += types(wi.NewEvents) + ","
		complete(t, be, wi, episode(wi, history.StatusRunning))
	}
	h, _ := be.GetHistory(context.Background(), id)
	if n := strings.Count(types(h), "TaskCompleted"); n != 1 {
		t.Fatalf("history has %d TaskCompleted events: %s", n, types(h))
	}
}
