package scenarios

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/telemetry"
)

// The .NET suite's AllowReplayingTerminalInstances setting is ignored
// there; its behaviour is replaced by the repair the
// TestWorkerFailingDuringCompleteWorkItemCall* scenarios check.
func TestScenario_TestAllowReplayingTerminalInstances(t *testing.T) {
	t.Skip("ignored in the .NET suite (the setting's behaviour was replaced); this runtime always repairs the Instances row from history, which the six TestWorkerFailingDuringCompleteWorkItemCall* scenarios check")
}

// faultRun is one run of a TestWorkerFailingDuringCompleteWorkItemCall*
// scenario: finish an instance, make its Instances row disagree with its
// history (as a worker that died between the history write and the row
// update leaves it), send it a message, and check that the row is brought
// back to what the history says; then the same with no row at all.
type faultRun struct {
	orchestrator string
	input        any
	tags         map[string]string
	// finish brings the started instance to its terminal status.
	finish func(h *host, id string) *durable.InstanceStatus
	want   durable.RuntimeStatus
	// blobs: the instance's payloads are large enough for blobs.
	blobs bool
}

func runFaultScenario(t *testing.T, r faultRun) {
	bothSessionModesAnd(t, "terminate", func(t *testing.T, ext, terminate bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		var opts []durable.StartOption
		if r.tags != nil {
			opts = append(opts, durable.WithTags(r.tags))
		}
		id := h.start(r.orchestrator, r.input, opts...)
		orig := r.finish(h, id)
		expectStatus(t, orig, r.want)
		if r.blobs && h.blobsOf(id) == 0 {
			t.Fatal("no large-message blobs")
		}
		poke := func() {
			// The Durable Task client sends without reading the
			// status first (the row may be wrong or missing).
			e := &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(), Name: "Foo", Input: ptr(`"Bar"`)}
			if terminate {
				e = &history.Event{Type: history.ExecutionTerminated, EventID: -1, Timestamp: time.Now().UTC(), Input: ptr("testing")}
			}
			if err := h.be.SendEvent(context.Background(), history.OrchestrationInstance{InstanceID: id}, e); err != nil {
				t.Fatal(err)
			}
		}
		check := func(what string) {
			t.Helper()
			st := h.waitStatus(id, 30*time.Second, r.want)
			if text(st.Output) != text(orig.Output) {
				t.Errorf("%s: output %.100s, want %.100s", what, text(st.Output), text(orig.Output))
			}
			if text(st.Input) != text(orig.Input) {
				t.Errorf("%s: input %.100s, want %.100s", what, text(st.Input), text(orig.Input))
			}
			if st.Name != r.orchestrator || st.ExecutionID != orig.ExecutionID {
				t.Errorf("%s: name %q execution %q, want %q %q", what, st.Name, st.ExecutionID, r.orchestrator, orig.ExecutionID)
			}
			if r.tags != nil && !maps.Equal(st.Tags, r.tags) {
				t.Errorf("%s: tags %v, want %v", what, st.Tags, r.tags)
			}
		}
		h.mergeInstanceRow(id, map[string]any{"RuntimeStatus": "Running", "Output": "null"})
		if st := h.status(id); st.RuntimeStatus != durable.StatusRunning {
			t.Fatalf("the tampered row reads %s", st.RuntimeStatus)
		}
		poke()
		check("stale row")

		// A sub-orchestration finishing in its first episode can
		// leave no row at all.
		h.deleteInstanceRow(id)
		poke()
		check("missing row")
	})
}

func finishEcho(h *host, id string) *durable.InstanceStatus { return h.wait(id, 2*time.Minute) }

func finishByTerminate(reason string) func(h *host, id string) *durable.InstanceStatus {
	return func(h *host, id string) *durable.InstanceStatus {
		h.waitForStartup(id)
		h.terminate(id, reason)
		return h.wait(id, 2*time.Minute)
	}
}

func TestScenario_TestWorkerFailingDuringCompleteWorkItemCallCompletedOrchestration(t *testing.T) {
	runFaultScenario(t, faultRun{orchestrator: "Echo", input: "hello!", tags: map[string]string{"key": "value"},
		finish: finishEcho, want: durable.StatusCompleted})
}

func TestScenario_TestWorkerFailingDuringCompleteWorkItemCallFailedOrchestration(t *testing.T) {
	runFaultScenario(t, faultRun{orchestrator: "ThrowException", input: "Failure!", finish: finishEcho, want: durable.StatusFailed})
}

func TestScenario_TestWorkerFailingDuringCompleteWorkItemCallTerminatedOrchestration(t *testing.T) {
	runFaultScenario(t, faultRun{orchestrator: "Counter", input: 0, finish: finishByTerminate("terminate"), want: durable.StatusTerminated})
}

func TestScenario_TestWorkerFailingDuringCompleteWorkItemCallLargeInputOutput(t *testing.T) {
	runFaultScenario(t, faultRun{orchestrator: "Echo", input: mediumPayload(), finish: finishEcho, want: durable.StatusCompleted, blobs: true})
}

func TestScenario_TestWorkerFailingDuringCompleteWorkItemCallLargeTerminationReason(t *testing.T) {
	runFaultScenario(t, faultRun{orchestrator: "Counter", input: 0, finish: finishByTerminate(mediumPayload()), want: durable.StatusTerminated, blobs: true})
}

func TestScenario_TestWorkerFailingDuringCompleteWorkItemCallLargeFailureReason(t *testing.T) {
	runFaultScenario(t, faultRun{orchestrator: "ThrowException", input: mediumPayload(), finish: finishEcho, want: durable.StatusFailed, blobs: true})
}

// serviceHost is a task hub driven by hand through the backend, as the
// .NET suite drives AzureStorageOrchestrationService directly.
func serviceHost(t *testing.T, ext bool, mutate func(*azstorage.Options)) *host {
	h := newHost(t, hostOptions{extendedSessions: ext, noWorker: true, backend: mutate})
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.be.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = h.be.Stop(stop)
	})
	return h
}

// fetch waits up to within for an orchestration work item (nil if none).
func (h *host) fetch(within time.Duration) *backend.OrchestrationWorkItem {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	wi, err := h.be.FetchOrchestrationWorkItem(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if err != nil {
		h.t.Fatalf("fetch work item: %v", err)
	}
	return wi
}

// createByHand creates an instance and takes its first work item.
func (h *host) createByHand(id, execID string) (*backend.OrchestrationWorkItem, *history.Event) {
	h.t.Helper()
	gen := 0
	now := time.Now().UTC()
	started := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: now, Name: "orchestration",
		Instance: &history.OrchestrationInstance{InstanceID: id, ExecutionID: execID}, Generation: &gen, ScheduledStartTime: &now}
	if err := h.be.CreateInstance(context.Background(), started, nil); err != nil {
		h.t.Fatal(err)
	}
	wi := h.fetch(30 * time.Second)
	if wi == nil || wi.InstanceID != id {
		h.t.Fatalf("no work item for %s: %+v", id, wi)
	}
	return wi, started
}

// episode lays out a first episode's checkpoint: the start and actions.
func episode(started *history.Event, actions ...*history.Event) *backend.Checkpoint {
	now := time.Now().UTC()
	events := []*history.Event{{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now}, started}
	events = append(events, actions...)
	events = append(events, &history.Event{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: now})
	return &backend.Checkpoint{NewEvents: events, State: backend.InstanceUpdate{RuntimeStatus: history.StatusRunning}}
}

// A worker that stalled between its history write and its Instances-row
// update writes the row after another writer already changed it. With
// UseInstanceTableETag the stale write fails (a conflict carrying the
// Table service's 412) and the other writer's status stands; without it
// (the default, as in the .NET provider) the stalled worker's Running
// overwrites it. Either way the history stays whole.
func TestScenario_WorkerAttemptingToUpdateInstanceTableAfterStalling(t *testing.T) {
	bothWays(t, "useInstanceEtag", func(t *testing.T, useETag bool) {
		h, wi, started := stalledHost(t, useETag)
		cp := episode(started, &history.Event{Type: history.TaskScheduled, EventID: 0, Timestamp: time.Now().UTC(), Name: "Act"})
		h.mergeInstanceRow("instance_id", map[string]any{"RuntimeStatus": "Completed"})
		err := h.be.CompleteOrchestrationWorkItem(context.Background(), wi, cp)
		h.expectStalledWrite("instance_id", err, useETag, 412)
		if n := len(h.historyEvents("instance_id")); n != 4 {
			t.Errorf("%d history events, want 4", n)
		}
	})
}

// stalledHost is a service host whose Instances row writes check ETags
// if useETag, with instance_id created by hand and its first work item
// taken.
func stalledHost(t *testing.T, useETag bool) (*host, *backend.OrchestrationWorkItem, *history.Event) {
	t.Helper()
	h := serviceHost(t, false, func(o *azstorage.Options) { o.UseInstanceTableETag = useETag })
	wi, started := h.createByHand("instance_id", "execution_id")
	return h, wi, started
}

// expectStalledWrite checks a stalled worker's late checkpoint (its
// error err) after another writer set the Instances row of id to
// Completed: with the ETag check the checkpoint fails with a conflict
// carrying HTTP status and Completed stands; without it the checkpoint
// succeeds and its Running overwrites the row.
func (h *host) expectStalledWrite(id string, err error, useETag bool, status int) {
	h.t.Helper()
	want := "Running"
	if useETag {
		expectConflict(h.t, err, status)
		want = "Completed"
	} else if err != nil {
		h.t.Fatalf("complete: %v", err)
	}
	h.waitRowStatus(id, want)
}

// waitRowStatus waits until the raw Instances row has the status (the
// worker may write the row after the commit returns) and, for a status
// that must stay, that it still has it a moment later.
func (h *host) waitRowStatus(id, want string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := h.instanceRow(id)["RuntimeStatus"]
		if got == want {
			time.Sleep(500 * time.Millisecond)
			if got = h.instanceRow(id)["RuntimeStatus"]; got == want {
				return
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("row status %v, want %s", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectConflict checks a checkpoint that failed because the Instances
// row changed under it.
func expectConflict(t *testing.T, err error, status int) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.Is(err, backend.ErrConflict) || !errors.As(err, &re) || re.StatusCode != status {
		t.Fatalf("complete: %v; want a conflict with HTTP %d", err, status)
	}
}

// The same for a sub-orchestration's first episode, whose row the stalled
// worker inserts after another writer created it (409 with the ETag
// check).
func TestScenario_WorkerAttemptingToUpdateInstanceTableAfterStallingForSubOrchestration(t *testing.T) {
	bothWays(t, "useInstanceEtag", func(t *testing.T, useETag bool) {
		h, wi, started := stalledHost(t, useETag)
		now := time.Now().UTC()
		gen := 0
		subStart := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: now, Name: "suborchestration", Generation: &gen,
			Instance: &history.OrchestrationInstance{InstanceID: "sub_instance_id", ExecutionID: durable.NewInstanceID()},
			Parent:   &history.ParentInstance{Name: "orchestration", Instance: *started.Instance, TaskScheduleID: 0}}
		cp := episode(started, &history.Event{Type: history.SubOrchestrationInstanceCreated, EventID: 0, Timestamp: now, Name: "suborchestration", InstanceID: "sub_instance_id"})
		cp.Outbound = []backend.OutboundMessage{{Event: subStart, Target: *subStart.Instance}}
		if err := h.be.CompleteOrchestrationWorkItem(context.Background(), wi, cp); err != nil {
			t.Fatal(err)
		}
		sub := h.fetch(30 * time.Second)
		if sub == nil || sub.InstanceID != "sub_instance_id" {
			t.Fatalf("no work item for the sub-orchestration: %+v", sub)
		}
		if h.instanceRow("sub_instance_id") != nil {
			t.Fatal("the sub-orchestration has an Instances row before its first checkpoint")
		}
		h.insertInstanceRow("sub_instance_id", map[string]any{"RuntimeStatus": "Completed"})
		subCp := episode(subStart, &history.Event{Type: history.TaskScheduled, EventID: 0, Timestamp: now, Name: "Act"})
		err := h.be.CompleteOrchestrationWorkItem(context.Background(), sub, subCp)
		h.expectStalledWrite("sub_instance_id", err, useETag, 409)
	})
}

// A response for an instance that does not exist is delivered a few times
// (its start might still be on the way) and then dropped: it leaves the
// control queue and creates nothing.
func TestScenario_WorkerAttemptingToDequeueMessageForNonExistentInstance(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		e := &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: time.Now().UTC().Add(-time.Minute), TaskScheduledID: 0, Result: ptr(`""`)}
		if err := h.be.SendEvent(context.Background(), history.OrchestrationInstance{InstanceID: "instance_id", ExecutionID: "execution_id"}, e); err != nil {
			t.Fatal(err)
		}
		q := h.clis.Queue.NewQueueClient(h.names.ControlQueue(0))
		deadline := time.Now().Add(90 * time.Second)
		for {
			props, err := q.GetProperties(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if props.ApproximateMessagesCount != nil && *props.ApproximateMessagesCount == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the message is still in the control queue (%d messages)", *props.ApproximateMessagesCount)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if h.instanceRow("instance_id") != nil || h.history("instance_id") != 0 {
			t.Error("the message created an instance")
		}
	})
}

// A response to a task the history has not scheduled is held back (its
// request's checkpoint may not have landed yet); a response to a
// scheduled task is delivered.
func TestScenario_WorkerAttemptingToDequeueMessageWithNoTaskScheduledInHistory(t *testing.T) {
	bothSessionModesAnd(t, "taskScheduled", func(t *testing.T, ext, scheduled bool) {
		h := serviceHost(t, ext, nil)
		var actions []*history.Event
		if scheduled {
			actions = append(actions, &history.Event{Type: history.TaskScheduled, EventID: 0, Timestamp: time.Now().UTC(), Name: "Act"})
		}
		inst := h.checkpointFirstEpisode(actions...)
		send := func(taskID int) {
			e := &history.Event{Type: history.TaskCompleted, EventID: -1, Timestamp: time.Now().UTC(), TaskScheduledID: taskID, Result: ptr(`""`)}
			if err := h.be.SendEvent(context.Background(), *inst, e); err != nil {
				t.Fatal(err)
			}
		}
		send(1)
		if wi := h.fetch(3 * time.Second); wi != nil {
			t.Fatalf("a response to unscheduled task 1 was delivered: %+v", wi.NewEvents)
		}
		if scheduled {
			send(0)
			wi := h.fetch(10 * time.Second)
			if wi == nil {
				t.Fatal("the response to scheduled task 0 was not delivered")
			}
			for _, e := range wi.NewEvents {
				if e.Type == history.TaskCompleted && e.TaskScheduledID != 0 {
					t.Errorf("delivered a response to task %d", e.TaskScheduledID)
				}
			}
		}
	})
}

// An entity's response (an event named after its request id) that comes
// before the history holds the EventSent request is held back; one whose
// request is in the history is delivered.
func TestScenario_WorkerAttemptingToDequeueMessageWithNoEventSentInHistory(t *testing.T) {
	bothSessionModesAnd(t, "eventSent", func(t *testing.T, ext, sent bool) {
		h := serviceHost(t, ext, nil)
		requestID := newGUID()
		var actions []*history.Event
		if sent {
			actions = append(actions, &history.Event{Type: history.EventSent, EventID: 0, Timestamp: time.Now().UTC(),
				Name: "op", InstanceID: "@test@myEntity", Input: ptr(`{ "id": "` + requestID + `" }`)})
		}
		inst := h.checkpointFirstEpisode(actions...)
		h.sendFromEntity(inst, "@test@myEntity", newGUID())
		if wi := h.fetch(3 * time.Second); wi != nil {
			t.Fatalf("a response to an unsent request was delivered: %+v", wi.NewEvents)
		}
		if sent {
			h.sendFromEntity(inst, "@test@myEntity", requestID)
			if wi := h.fetch(10 * time.Second); wi == nil {
				t.Fatal("the response to the sent request was not delivered")
			}
		}
	})
}

// checkpointFirstEpisode creates an instance by hand and checkpoints its
// first episode with actions; it returns the instance.
func (h *host) checkpointFirstEpisode(actions ...*history.Event) *history.OrchestrationInstance {
	h.t.Helper()
	wi, started := h.createByHand(durable.NewInstanceID(), durable.NewInstanceID())
	if err := h.be.CompleteOrchestrationWorkItem(context.Background(), wi, episode(started, actions...)); err != nil {
		h.t.Fatal(err)
	}
	return started.Instance
}

// sendFromEntity puts an entity's response message (an EventRaised named
// after the request id, sent by the entity) on the instance's control
// queue.
func (h *host) sendFromEntity(to *history.OrchestrationInstance, entity, requestID string) {
	h.t.Helper()
	e := &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: time.Now().UTC(), Name: requestID, Input: ptr(`{"result":"null"}`)}
	m := &azstorage.MessageData{ActivityID: newGUID(), TaskMessage: &azstorage.TaskMessage{Event: e, OrchestrationInstance: *to},
		Sender: &history.OrchestrationInstance{InstanceID: entity, ExecutionID: newGUID()}}
	body, err := azstorage.EncodeMessage(m)
	if err != nil {
		h.t.Fatal(err)
	}
	q := h.clis.Queue.NewQueueClient(h.names.ControlQueue(azstorage.PartitionIndex(to.InstanceID, h.names.PartitionCount())))
	if _, err := q.EnqueueMessage(context.Background(), string(body), &azqueue.EnqueueMessageOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// newGUID returns a random GUID in "D" format.
func newGUID() string {
	s := durable.NewInstanceID()
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// OpenTelemetry scenarios: the spans DurableTask.Core emits for an
// instance, their kinds, durabletask.type and parent links, in the order
// they end (the .NET suite's processor OnEnd order).
func TestScenario_OpenTelemetry_SayHelloWithActivity(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, extended bool) {
		spanExporter()
		h := newHost(t, hostOptions{extendedSessions: extended})
		id := h.start("SayHelloWithActivity", "World")
		expectStatus(t, h.wait(id, standardTimeout), durable.StatusCompleted)
		ss := endedSpans(t, 4, inTrace(traceOf(t, id)))
		create, exec, client, orch := ss[0], ss[1], ss[2], ss[3]
		checkSpan(t, create, "create_orchestration:SayHelloWithActivity", trace.SpanKindProducer, "orchestration")
		checkSpan(t, exec, "activity:Hello", trace.SpanKindServer, "activity")
		checkSpan(t, client, "activity:Hello", trace.SpanKindClient, "activity")
		checkSpan(t, orch, "orchestration:SayHelloWithActivity", trace.SpanKindServer, "orchestration")
		checkParent(t, orch, create)
		checkParent(t, exec, client)
		checkParent(t, client, orch)
		if attr(orch, telemetry.AttrStatus) != "Completed" || attr(orch, telemetry.AttrInstanceID) != id {
			t.Errorf("orchestration span attributes %v", orch.Attributes)
		}
	})
}

func TestScenario_OpenTelemetry_ExternalEvent_RaiseEvent(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, extended bool) {
		spanExporter()
		h := newHost(t, hostOptions{extendedSessions: extended})
		id := h.start("Approval", 10.0)
		h.waitForStartup(id)
		h.raise(id, "approval", true)
		expectStatus(t, h.wait(id, standardTimeout), durable.StatusCompleted)
		tr := traceOf(t, id)
		ss := endedSpans(t, 3, func(s tracetest.SpanStub) bool {
			return s.SpanContext.TraceID() == tr || attr(s, telemetry.AttrEventTargetID) == id
		})
		create, event, orch := ss[0], ss[1], ss[2]
		checkSpan(t, create, "create_orchestration:Approval", trace.SpanKindProducer, "orchestration")
		checkSpan(t, event, "orchestration_event:approval", trace.SpanKindProducer, "event")
		checkSpan(t, orch, "orchestration:Approval", trace.SpanKindServer, "orchestration")
		checkParent(t, orch, create)
		if event.SpanContext.TraceID() == tr {
			t.Errorf("the client's event span is in the orchestration's trace; it is its own trace")
		}
	})
}

func TestScenario_OpenTelemetry_TimerFired(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, extended bool) {
		spanExporter()
		h := newHost(t, hostOptions{extendedSessions: extended})
		id := h.start("Approval", 1.0)
		h.waitForStartup(id)
		expectStatus(t, h.wait(id, standardTimeout), durable.StatusCompleted)
		ss := endedSpans(t, 3, inTrace(traceOf(t, id)))
		create, timer, orch := ss[0], ss[1], ss[2]
		checkSpan(t, create, "create_orchestration:Approval", trace.SpanKindProducer, "orchestration")
		checkSpan(t, timer, "orchestration:Approval:timer", trace.SpanKindInternal, "timer")
		checkSpan(t, orch, "orchestration:Approval", trace.SpanKindServer, "orchestration")
		checkParent(t, orch, create)
		checkParent(t, timer, orch)
		if attr(timer, telemetry.AttrFireAt) == "" || attr(timer, telemetry.AttrTaskID) == "" {
			t.Errorf("timer span attributes %v", timer.Attributes)
		}
	})
}

// The .NET scenario's responder is an auto-started orchestration; here it
// is an instance started before the sender, in a trace of its own.
func TestScenario_OpenTelemetry_ExternalEvent_SendEvent(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, extended bool) {
		spanExporter()
		h := newHost(t, hostOptions{extendedSessions: extended, noWorker: true})
		if err := h.reg.AddOrchestrator("OTelSender", durable.Orchestrator(func(ctx *durable.OrchestrationContext, responder string) (string, error) {
			if err := ctx.SendEvent(responder, "ping", ctx.InstanceID()); err != nil {
				return "", err
			}
			return durable.WaitForExternalEvent[string](ctx, "pong").Await()
		})); err != nil {
			t.Fatal(err)
		}
		if err := h.reg.AddOrchestrator("OTelResponder", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
			from, err := durable.WaitForExternalEvent[string](ctx, "ping").Await()
			if err != nil {
				return "", err
			}
			return "done", ctx.SendEvent(from, "pong", "hello")
		})); err != nil {
			t.Fatal(err)
		}
		h.runWorker(durable.WorkerOptions{Logger: logger(t)})
		responder := h.start("OTelResponder", nil)
		h.waitForStartup(responder)
		id := h.start("OTelSender", responder)
		expectStatus(t, h.wait(id, standardTimeout), durable.StatusCompleted)
		tr := traceOf(t, id)
		ss := endedSpans(t, 4, func(s tracetest.SpanStub) bool {
			return s.SpanContext.TraceID() == tr || (attr(s, telemetry.AttrType) == "event" && attr(s, telemetry.AttrEventTargetID) == id)
		})
		create, send, sendBack, orch := ss[0], ss[1], ss[2], ss[3]
		if send.Name == "orchestration_event:pong" {
			// The two instances commit independently: the responder's
			// span may end first.
			send, sendBack = sendBack, send
		}
		checkSpan(t, create, "create_orchestration:OTelSender", trace.SpanKindProducer, "orchestration")
		checkSpan(t, send, "orchestration_event:ping", trace.SpanKindProducer, "event")
		checkSpan(t, sendBack, "orchestration_event:pong", trace.SpanKindProducer, "event")
		checkSpan(t, orch, "orchestration:OTelSender", trace.SpanKindServer, "orchestration")
		if attr(send, telemetry.AttrInstanceID) != id || attr(send, telemetry.AttrEventTargetID) != responder ||
			attr(sendBack, telemetry.AttrInstanceID) != responder || attr(sendBack, telemetry.AttrEventTargetID) != id {
			t.Errorf("event span attributes: %v / %v", send.Attributes, sendBack.Attributes)
		}
		checkParent(t, orch, create)
		checkParent(t, send, orch)
	})
}
