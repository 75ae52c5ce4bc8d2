package scenarios

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
)

// An orchestrator that calls no activity completes with its result.
func TestScenario_HelloWorldOrchestration_Inline(t *testing.T) {
	helloWorld(t, "SayHelloInline")
}

// An orchestrator that calls one activity returns the activity's result.
func TestScenario_HelloWorldOrchestration_Activity(t *testing.T) {
	helloWorld(t, "SayHelloWithActivity")
}

// helloWorld runs orchestrator on "World", with extended sessions on and
// off: it completes with "Hello, World!".
func helloWorld(t *testing.T, orchestrator string) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start(orchestrator, "World"), standardTimeout)
		expectOutput(t, st, "Hello, World!")
		if in := jsonOf[string](t, "input", st.Input); in != "World" {
			t.Errorf("input %q", in)
		}
	})
}

// expectOutput fails the test unless the instance completed with the
// JSON string want as its output.
func expectOutput(t *testing.T, st *durable.InstanceStatus, want string) {
	t.Helper()
	expectStatus(t, st, durable.StatusCompleted)
	if out := jsonOf[string](t, "output", st.Output); out != want {
		t.Errorf("output %q", out)
	}
}

// Function chaining: 10! computed by ten activity calls in sequence.
func TestScenario_SequentialOrchestration(t *testing.T) {
	factorialOfTen(t, "Factorial")
}

// A sub-orchestration's result becomes its parent's.
func TestScenario_ParentOfSequentialOrchestration(t *testing.T) {
	factorialOfTen(t, "ParentOfFactorial")
}

// factorialOfTen runs orchestrator on 10: it completes with 10!.
func factorialOfTen(t *testing.T, orchestrator string) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	st := h.wait(h.start(orchestrator, 10), standardTimeout)
	expectStatus(t, st, durable.StatusCompleted)
	if in := jsonOf[int](t, "input", st.Input); in != 10 {
		t.Errorf("input %d", in)
	}
	if out := jsonOf[int64](t, "output", st.Output); out != 3628800 {
		t.Errorf("output %d", out)
	}
}

// An episode that runs longer than the control-queue visibility timeout
// keeps its messages hidden (renewed) and completes once, through a
// continue-as-new.
func TestScenario_LongRunningOrchestrator(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext, backend: func(o *azstorageOptions) {
			o.ControlQueueVisibility = 2 * time.Second
		}})
		st := h.wait(h.start("LongRunningOrchestrator", "0"), standardTimeout)
		expectOutput(t, st, "ok")
	})
}

// Listing all instances returns both finished instances with their outputs.
func TestScenario_GetAllOrchestrationStatuses(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	h.wait(h.start("SayHelloInline", "world one"), standardTimeout)
	h.wait(h.start("SayHelloInline", "world two"), standardTimeout)
	all := h.listAll(durable.Query{})
	if len(all) != 2 {
		t.Fatalf("%d instances, want 2", len(all))
	}
	for _, want := range []string{`"Hello, world one!"`, `"Hello, world two!"`} {
		n := 0
		for _, st := range all {
			if text(st.Output) == want {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d instances with output %s, want 1", n, want)
		}
	}
}

// listAll reads every page of a query.
func (h *host) listAll(q durable.Query) []*durable.InstanceStatus {
	h.t.Helper()
	var out []*durable.InstanceStatus
	for {
		p, err := h.client.ListInstances(context.Background(), q)
		if err != nil {
			h.t.Fatalf("list instances: %v", err)
		}
		out = append(out, p.Instances...)
		if p.ContinuationToken == "" {
			return out
		}
		q.ContinuationToken = p.ContinuationToken
	}
}

// A prefix query returns exactly the instances whose ids start with the
// prefix, in one page with no continuation token.
func TestScenario_GetInstanceIdsByPrefix(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	prefix := "0abb6ebb-d712-453a-97c4-6c7c1f78f49f"
	ids := []string{prefix, prefix + "_0_Foo", prefix + "_1_Bar", prefix + "_Foo", prefix + "_Bar"}
	for _, id := range append(ids, "Foo_"+prefix) {
		h.wait(h.start("Echo", "Greetings!", durable.WithInstanceID(id)), standardTimeout)
	}
	p, err := h.client.ListInstances(context.Background(), durable.Query{InstanceIDPrefix: prefix, PageSize: len(ids)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Instances) != len(ids) {
		t.Errorf("%d instances, want %d", len(p.Instances), len(ids))
	}
	for _, st := range p.Instances {
		if !strings.HasPrefix(st.InstanceID, prefix) {
			t.Errorf("instance %q does not have the prefix", st.InstanceID)
		}
	}
	if p.ContinuationToken != "" {
		t.Errorf("continuation token %q, want none", p.ContinuationToken)
	}
}

// An empty task hub's query has no continuation token.
func TestScenario_NoInstancesGetAllOrchestrationStatusesNullContinuationToken(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	p, err := h.client.ListInstances(context.Background(), durable.Query{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Instances) != 0 || p.ContinuationToken != "" {
		t.Fatalf("%d instances, token %q; want none", len(p.Instances), p.ContinuationToken)
	}
}

// A parent and a child orchestration exchange events (the child continues
// as new between messages); with fire-and-forget the parent does not wait
// for the child.
func TestScenario_EventConversation(t *testing.T) {
	bothSessionModesAnd(t, "fireAndForget", func(t *testing.T, ext, ff bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("EventConversation", ff), standardTimeout)
		expectOutput(t, st, "OK")
	})
}

// Continue-as-new followed by a timer in the next execution completes.
func TestScenario_ContinueAsNewThenTimer(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("ContinueAsNewThenTimer", 0), standardTimeout)
		expectOutput(t, st, "OK")
	})
}

// The last custom status set persists after completion.
func TestScenario_ValidateCustomStatusPersists(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	st := h.wait(h.start("ChangeStatus", []string{"custom_status"}), standardTimeout)
	expectStatus(t, st, durable.StatusCompleted)
	if cs := jsonOf[string](t, "custom status", st.CustomStatus); cs != "custom_status" {
		t.Errorf("custom status %q", cs)
	}
}

// Setting the custom status back to null persists null.
func TestScenario_ValidateNullCustomStatusPersists(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{})
	st := h.wait(h.start("ChangeStatus", []*string{ptr("custom_status"), nil}), standardTimeout)
	expectStatus(t, st, durable.StatusCompleted)
	if st.CustomStatus != nil && *st.CustomStatus != "null" {
		t.Errorf("custom status %s, want null", *st.CustomStatus)
	}
}

func ptr[T any](v T) *T { return &v }

// Fan-out over the files of the working directory sums their sizes.
func TestScenario_ParallelOrchestration(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		dir, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		st := h.wait(h.start("DiskUsage", dir), 90*time.Second)
		expectStatus(t, st, durable.StatusCompleted)
		if in := jsonOf[string](t, "input", st.Input); in != dir {
			t.Errorf("input %q", in)
		}
		if out := jsonOf[int64](t, "output", st.Output); out <= 0 {
			t.Errorf("total size %d", out)
		}
	})
}

// A fan-out to many activities completes (the .NET suite uses 1000; 300
// keeps the package fast on two cores while still spanning several
// history batches and queue polls).
func TestScenario_LargeFanOutOrchestration(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("FanOutFanIn", 300), 3*time.Minute)
		expectStatus(t, st, durable.StatusCompleted)
	})
}

// History batches whose rows together exceed a table transaction's 4 MB
// limit are split and committed.
func TestScenario_FanOutOrchestration_LargeHistoryBatches(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{extendedSessions: true})
	st := h.wait(h.start("SemiLargePayloadFanOutFanIn", 90), 3*time.Minute)
	expectStatus(t, st, durable.StatusCompleted)
}

// Two consecutive fan-out/fan-ins complete.
func TestScenario_DoubleFanOut(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("DoubleFanOut", nil), standardTimeout)
		expectStatus(t, st, durable.StatusCompleted)
	})
}

// An activity failure caught by the orchestrator does not fail it.
func TestScenario_HandledActivityException(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("TryCatchLoop", 5), standardTimeout)
		expectStatus(t, st, durable.StatusCompleted)
		if out := jsonOf[int](t, "output", st.Output); out != 5 {
			t.Errorf("caught %d, want 5", out)
		}
	})
}

// An error returned by the orchestrator itself fails the instance with
// its message.
func TestScenario_UnhandledOrchestrationException(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("Throw", ""), standardTimeout)
		expectStatus(t, st, durable.StatusFailed)
		if !strings.Contains(text(st.Output), "null") {
			t.Errorf("output %s does not mention null", text(st.Output))
		}
	})
}

// An activity's unhandled error fails the orchestration with its message.
func TestScenario_UnhandledActivityException(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		msg := "Kah-BOOOOM!!!"
		st := h.wait(h.start("Throw", msg), standardTimeout)
		expectStatus(t, st, durable.StatusFailed)
		if !strings.Contains(text(st.Output), msg) {
			t.Errorf("output %s does not contain %q", text(st.Output), msg)
		}
	})
}

// Each fanned-out activity runs exactly once: 100 activities each insert
// one row and the count is 100.
func TestScenario_FanOutToTableStorage(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("MapReduceTableStorage", 100), 2*time.Minute)
		expectStatus(t, st, durable.StatusCompleted)
		if out := jsonOf[int](t, "output", st.Output); out != 100 {
			t.Errorf("%d rows, want 100", out)
		}
	})
}

// Ten orchestrations each waiting on a timer run at the same time.
func TestScenario_OrchestrationConcurrency(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		const timer = 3.0
		began := time.Now()
		ids := make([]string, 10)
		for i := range ids {
			ids[i] = h.start("Approval", timer)
		}
		for _, id := range ids {
			st := h.wait(id, 60*time.Second)
			expectStatus(t, st, durable.StatusCompleted)
		}
		// Run one after another they would take ten timers.
		if took := time.Since(began); took > 5*time.Duration(timer*float64(time.Second)) {
			t.Errorf("10 concurrent %vs timers took %v", timer, took)
		}
	})
}

// A raised event beats the timer; the orchestration completes "Approved".
func TestScenario_TimerCancellation(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := h.start("Approval", 10.0)
		h.waitForStartup(id)
		h.raise(id, "approval", true)
		st := h.wait(id, standardTimeout)
		expectOutput(t, st, "Approved")
	})
}

// With no event the timer fires; the orchestration completes "Expired".
func TestScenario_TimerExpiration(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := h.start("Approval", 2.0)
		h.waitForStartup(id)
		st := h.wait(id, 20*time.Second)
		expectOutput(t, st, "Expired")
	})
}

// A timer fires at its time whether the time was given in UTC or in a
// local zone.
func TestScenario_TimerDelay(t *testing.T) {
	bothWays(t, "utc", func(t *testing.T, utc bool) {
		h := newHost(t, hostOptions{})
		start := time.Now()
		if !utc {
			start = start.In(time.FixedZone("UTC+5", 5*3600))
		}
		delay := 3 * time.Second
		st := h.wait(h.start("DelayedCurrentTimeInline", start.Add(delay)), standardTimeout)
		expectStatus(t, st, durable.StatusCompleted)
		took := time.Since(start)
		if took < delay || took > delay+10*time.Second {
			t.Errorf("timer of %v fired after %v", delay, took)
		}
	})
}

// Terminate ends a running instance with the reason as its output.
func TestScenario_TerminateOrchestration(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := h.start("Counter", 0)
		h.waitForStartup(id)
		h.terminate(id, "sayōnara")
		st := h.wait(id, 10*time.Second)
		expectStatus(t, st, durable.StatusTerminated)
		if text(st.Output) != "sayōnara" && jsonOrText(st.Output) != "sayōnara" {
			t.Errorf("output %s", text(st.Output))
		}
	})
}

// jsonOrText returns a JSON string's value, or the text itself.
func jsonOrText(s *string) string {
	if s == nil {
		return ""
	}
	if v, err := strconv.Unquote(*s); err == nil {
		return v
	}
	return *s
}

// Suspend holds events until resume; then the instance completes.
func TestScenario_SuspendResumeOrchestration(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := h.start("NextExecution", "OGstatus")
		h.waitForStartup(id)
		// The first custom status is set behind a zero timer.
		deadline := time.Now().Add(10 * time.Second)
		for st := h.status(id); text(st.CustomStatus) != `"OGstatus"`; st = h.status(id) {
			if time.Now().After(deadline) {
				t.Fatalf("custom status %s", text(st.CustomStatus))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := h.client.Suspend(context.Background(), id, "sleepyOrch"); err != nil {
			t.Fatal(err)
		}
		st := h.waitStatus(id, 10*time.Second, durable.StatusSuspended)
		if jsonOrText(st.Output) != "sleepyOrch" {
			t.Errorf("suspended output %s, want the reason", text(st.Output))
		}
		h.raise(id, "changeStatusNow", "newStatus")
		time.Sleep(time.Second)
		if st := h.status(id); text(st.CustomStatus) != `"OGstatus"` || st.RuntimeStatus != durable.StatusSuspended {
			t.Errorf("while suspended: %s, custom status %s", st.RuntimeStatus, text(st.CustomStatus))
		}
		if err := h.client.Resume(context.Background(), id, "wakeUp"); err != nil {
			t.Fatal(err)
		}
		st = h.wait(id, 10*time.Second)
		expectStatus(t, st, durable.StatusCompleted)
		if text(st.CustomStatus) != `"newStatus"` {
			t.Errorf("custom status %s", text(st.CustomStatus))
		}
	})
}

// A suspended instance can be terminated.
func TestScenario_TerminateSuspendedOrchestration(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := h.start("Counter", 0)
		h.waitForStartup(id)
		if err := h.client.Suspend(context.Background(), id, "suspend"); err != nil {
			t.Fatal(err)
		}
		h.waitStatus(id, 10*time.Second, durable.StatusSuspended)
		h.terminate(id, "terminate")
		st := h.wait(id, 10*time.Second)
		expectStatus(t, st, durable.StatusTerminated)
		if jsonOrText(st.Output) != "terminate" {
			t.Errorf("output %s", text(st.Output))
		}
	})
}

// The counter actor keeps its state across continue-as-new executions;
// the final input is the last state, not the original.
func TestScenario_ActorOrchestration(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := h.start("Counter", 0)
		h.waitForStartup(id)
		for _, op := range []string{"incr", "incr", "incr", "decr", "incr"} {
			h.raise(id, "operation", op)
		}
		st := h.endCounter(id, "the operations")
		if out := jsonOf[int](t, "output", st.Output); out != 3 {
			t.Errorf("output %d, want 3", out)
		}
		if in := jsonOf[int](t, "input", st.Input); in == 0 {
			t.Errorf("input is still the original 0")
		}
	})
}

// Rewind of one failed instance leaves others alone and completes it.
func TestScenario_RewindOrchestrationsFail(t *testing.T) {
	h := rewindHost(t)
	id1 := "1_Test_" + durable.NewInstanceID()
	id2 := "2_Test_" + durable.NewInstanceID()
	h.start("FactorialOrchestratorFail", 3, durable.WithInstanceID(id1))
	expectStatus(t, h.wait(id1, standardTimeout), durable.StatusFailed)
	h.env.Heal(SwitchFactorialOrchestrator)
	h.start("SayHelloWithActivity", "Catherine", durable.WithInstanceID(id2))
	h.rewind(id1, "Rewind failed orchestration only")
	st := h.wait(id1, standardTimeout)
	expectStatus(t, st, durable.StatusCompleted)
	if text(st.Output) != "6" {
		t.Errorf("output %s, want 6", text(st.Output))
	}
	expectStatus(t, h.wait(id2, standardTimeout), durable.StatusCompleted)
}

func (h *host) rewind(id, reason string) {
	h.t.Helper()
	if err := h.client.Rewind(context.Background(), id, reason); err != nil {
		h.t.Fatalf("rewind %s: %v", id, err)
	}
	// Rewind returns the instance to Pending; wait for that before waiting
	// for the end, so the old Failed status is not read back.
	h.waitStatus(id, 10*time.Second, durable.StatusPending, durable.StatusRunning, durable.StatusCompleted)
}

// rewindHost is a rewind scenario's host, with extended sessions; the
// test runs in parallel.
func rewindHost(t *testing.T) *host {
	t.Parallel()
	return newHost(t, hostOptions{extendedSessions: true})
}

// rewindStep heals one failure switch and rewinds the failed instance.
type rewindStep struct {
	heal, reason string
}

// failThenRewind starts name with input under id and expects it to fail;
// then each step heals a switch and rewinds it, after which it fails
// again until the last step, after which it completes. It returns the
// completed status.
func (h *host) failThenRewind(id, name string, input any, steps ...rewindStep) *durable.InstanceStatus {
	h.t.Helper()
	h.start(name, input, durable.WithInstanceID(id))
	st := h.wait(id, standardTimeout)
	for i, step := range steps {
		expectStatus(h.t, st, durable.StatusFailed)
		h.env.Heal(step.heal)
		h.rewind(id, step.reason)
		st = h.wait(id, standardTimeout)
		if i == len(steps)-1 {
			expectStatus(h.t, st, durable.StatusCompleted)
		}
	}
	return st
}

// Rewinding a fan-out re-runs the failed activities only.
func TestScenario_RewindActivityFailFanOut(t *testing.T) {
	h := rewindHost(t)
	h.env.Heal(SwitchFanOut1)
	st := h.failThenRewind("Test_"+durable.NewInstanceID(), "FanOutFanInRewind", 3,
		rewindStep{SwitchFanOut2, "Rewind orchestrator with failed parallel activity."})
	if text(st.Output) != `"Done"` {
		t.Errorf("output %s", text(st.Output))
	}
}

// Rewinding after an activity failure runs it again and completes.
func TestScenario_RewindActivityFail(t *testing.T) {
	h := rewindHost(t)
	st := h.failThenRewind(durable.NewInstanceID(), "SayHelloWithActivityFail", "World",
		rewindStep{SwitchHelloFailActivity, "Activity failure test."})
	if text(st.Output) != `"Hello, World!"` {
		t.Errorf("output %s", text(st.Output))
	}
}

// Two rewinds, each past a different failing activity.
func TestScenario_RewindMultipleActivityFail(t *testing.T) {
	h := rewindHost(t)
	st := h.failThenRewind("Test_"+durable.NewInstanceID(), "FactorialMultipleActivityFail", 4,
		rewindStep{SwitchMultiply1, "Rewind for activity failure 1."},
		rewindStep{SwitchMultiply2, "Rewind for activity failure 2."})
	if text(st.Output) != "24" {
		t.Errorf("output %s, want 24", text(st.Output))
	}
}

// Rewinding a parent whose sub-orchestrations failed reruns them.
func TestScenario_RewindSubOrchestrationsTest(t *testing.T) {
	rewindHost(t).failThenRewind("Parent_"+durable.NewInstanceID(), "ParentWorkflowSubOrchestrationFail", true,
		rewindStep{SwitchChildOrch1, "Rewind first suborchestration failure."},
		rewindStep{SwitchChildOrch2, "Rewind second suborchestration failure."})
}

// Rewinding a parent reaches the failed activity inside its children.
func TestScenario_RewindSubOrchestrationActivityTest(t *testing.T) {
	rewindHost(t).failThenRewind("Parent_"+durable.NewInstanceID(), "ParentWorkflowSubOrchestrationActivityFail", true,
		rewindStep{SwitchSubActivity1, "Rewinding 1: child should still fail."},
		rewindStep{SwitchSubActivity2, "Rewinding 2: child should complete."})
}

// Rewinding a grandparent reaches activities two levels down.
func TestScenario_RewindNestedSubOrchestrationTest(t *testing.T) {
	rewindHost(t).failThenRewind("Grandparent_"+durable.NewInstanceID(), "GrandparentWorkflowNestedActivityFail", true,
		rewindStep{SwitchNested1, "Rewind 1: Nested child activity still fails."},
		rewindStep{SwitchNested2, "Rewind 2: Nested child activity completes."})
}
