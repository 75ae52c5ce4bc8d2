package scenarios

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
)

// A completed instance id can be started again; the new run's input and
// output replace the old.
func TestScenario_RecreateCompletedInstance(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := "HelloSingleton_" + durable.NewInstanceID()
		st := h.wait(h.start("SayHelloWithActivity", "One", durable.WithInstanceID(id)), standardTimeout)
		expectStatus(t, st, durable.StatusCompleted)
		if jsonOf[string](t, "input", st.Input) != "One" || jsonOf[string](t, "output", st.Output) != "Hello, One!" {
			t.Fatalf("first run: %s → %s", text(st.Input), text(st.Output))
		}
		first := st.ExecutionID
		h.start("SayHelloWithActivity", "Two", durable.WithInstanceID(id))
		st = h.waitNewExecution(id, first)
		expectStatus(t, st, durable.StatusCompleted)
		if jsonOf[string](t, "input", st.Input) != "Two" || jsonOf[string](t, "output", st.Output) != "Hello, Two!" {
			t.Fatalf("second run: %s → %s", text(st.Input), text(st.Output))
		}
	})
}

// waitNewExecution waits for a terminal status of an execution other than
// old.
func (h *host) waitNewExecution(id, old string) *durable.InstanceStatus {
	h.t.Helper()
	return h.waitExecution(id, standardTimeout, "no new execution finished", func(st *durable.InstanceStatus) bool {
		return st.ExecutionID != old && st.IsTerminal()
	})
}

// waitExecution polls the instance's status until ok accepts it; after
// within it fails the test, saying what did not happen.
func (h *host) waitExecution(id string, within time.Duration, what string, ok func(*durable.InstanceStatus) bool) *durable.InstanceStatus {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := h.status(id)
		if st != nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: %s (status %+v)", id, what, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A failed instance id can be started again and then succeed.
func TestScenario_RecreateFailedInstance(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := "HelloSingleton_" + durable.NewInstanceID()
		st := h.wait(h.start("SayHelloWithActivity", nil, durable.WithInstanceID(id)), standardTimeout)
		expectStatus(t, st, durable.StatusFailed)
		h.start("SayHelloWithActivity", "NotNull", durable.WithInstanceID(id))
		st = h.waitNewExecution(id, st.ExecutionID)
		expectStatus(t, st, durable.StatusCompleted)
		if jsonOf[string](t, "output", st.Output) != "Hello, NotNull!" {
			t.Fatalf("output %s", text(st.Output))
		}
	})
}

// A terminated instance id can be started again and runs.
func TestScenario_RecreateTerminatedInstance(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := "SingletonCounter_" + durable.NewInstanceID()
		h.start("Counter", -1, durable.WithInstanceID(id))
		h.waitForStartup(id)
		h.terminate(id, "sayōnara")
		st := h.wait(id, 10*time.Second)
		expectStatus(t, st, durable.StatusTerminated)
		if text(st.Input) != "-1" || jsonOrText(st.Output) != "sayōnara" {
			t.Fatalf("terminated: input %s, output %s", text(st.Input), text(st.Output))
		}
		h.start("Counter", 0, durable.WithInstanceID(id))
		st = h.waitRunningExecution(id, st.ExecutionID, 10*time.Second)
		if text(st.Input) != "0" {
			t.Fatalf("recreated input %s", text(st.Input))
		}
	})
}

// waitRunningExecution waits until an execution other than old runs.
func (h *host) waitRunningExecution(id, old string, within time.Duration) *durable.InstanceStatus {
	h.t.Helper()
	return h.waitExecution(id, within, "no new running execution", func(st *durable.InstanceStatus) bool {
		return st.ExecutionID != old && st.RuntimeStatus == durable.StatusRunning
	})
}

// A running instance can be replaced by a new start of the same id when
// the start allows overwriting (the .NET suite's client starts with no
// de-duplication statuses).
func TestScenario_RecreateRunningInstance(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		id := "SingletonCounter_" + time.Now().Format(time.RFC3339Nano)
		h.start("Counter", 0, durable.WithInstanceID(id))
		st := h.waitForStartup(id)
		expectStatus(t, st, durable.StatusRunning)
		if text(st.Input) != "0" || st.Output != nil {
			t.Fatalf("first run: input %s, output %s", text(st.Input), text(st.Output))
		}
		// Without overwriting, a running id is refused.
		if _, err := h.client.StartNew(context.Background(), "Counter", 1, durable.WithInstanceID(id)); !errors.Is(err, durable.ErrInstanceExists) {
			t.Fatalf("start over a running instance: %v, want ErrInstanceExists", err)
		}
		h.start("Counter", 99, durable.WithInstanceID(id), durable.OverwriteExisting())
		st = h.waitRunningExecution(id, st.ExecutionID, 20*time.Second)
		if text(st.Input) != "99" {
			t.Fatalf("recreated input %s", text(st.Input))
		}
		// The new execution is the one that runs: it counts from 99.
		h.raise(id, "operation", "incr")
		h.raise(id, "operation", "end")
		st = h.wait(id, standardTimeout)
		expectStatus(t, st, durable.StatusCompleted)
		if text(st.Output) != "100" {
			t.Errorf("output %s, want 100", text(st.Output))
		}
	})
}

// An orchestration keeps working after its extended session expired: the
// worker drops the instance's in-memory state after the idle timeout and
// the next event is processed from storage.
func TestScenario_ExtendedSessions_SessionTimeout(t *testing.T) {
	t.Parallel()
	const idle = 2 * time.Second
	h := newHost(t, hostOptions{extendedSessions: true, backend: func(o *azstorageOptions) { o.ExtendedSessionIdleTimeout = idle },
		worker: func(o *durable.WorkerOptions) { o.ExtendedSessionIdleTimeout = idle }})
	id := "SingletonCounter_" + time.Now().Format(time.RFC3339Nano)
	h.start("Counter", 0, durable.WithInstanceID(id))
	st := h.waitForStartup(id)
	if text(st.Input) != "0" || st.Output != nil {
		t.Fatalf("input %s, output %s", text(st.Input), text(st.Output))
	}
	deadline := time.Now().Add(5 * time.Second)
	for !h.be.RunningHere(id) {
		if time.Now().After(deadline) {
			t.Fatal("the running instance never had a session")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(idle + time.Second)
	if h.be.RunningHere(id) {
		t.Fatalf("the session outlived its %v idle timeout", idle)
	}
	h.raise(id, "operation", "incr")
	st = h.endCounter(id, "the event")
	if text(st.Output) != "1" {
		t.Errorf("output %s, want 1", text(st.Output))
	}
}

// An orchestrator and an activity that abort their work items run again;
// the orchestration completes as if nothing happened.
func TestScenario_AbortOrchestrationAndActivity(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("AbortSessionOrchestration", durable.NewInstanceID()), standardTimeout)
		expectStatus(t, st, durable.StatusCompleted)
		if text(st.Output) != "true" {
			t.Errorf("output %s, want true (both aborted once)", text(st.Output))
		}
		for _, e := range h.historyEvents(st.InstanceID) {
			if e.Type.String() == "TaskFailed" {
				t.Errorf("the aborted activity left a TaskFailed in history")
			}
		}
	})
}

// scheduledDelay stands in for the .NET suite's 30 s scheduled start.
const scheduledDelay = 5 * time.Second

// sameInstant compares a stored time with the one given (the Table
// service keeps 100 ns ticks).
func sameInstant(got *time.Time, want time.Time) bool {
	return got != nil && got.UTC().Equal(want.UTC().Truncate(100*time.Nanosecond))
}

// scheduledStart runs orch now and at a scheduled time and checks both.
func scheduledStart(t *testing.T, ext bool, orch string) {
	h := newHost(t, hostOptions{extendedSessions: ext})
	at := time.Now().UTC().Add(scheduledDelay)
	later := h.start(orch, "Current Time!", durable.WithStartTime(at))
	now := h.start(orch, "Current Time!")
	stNow := h.wait(now, standardTimeout)
	stLater := h.wait(later, 2*standardTimeout)
	for _, st := range []*durable.InstanceStatus{stNow, stLater} {
		expectStatus(t, st, durable.StatusCompleted)
		if jsonOf[string](t, "input", st.Input) != "Current Time!" {
			t.Errorf("input %s", text(st.Input))
		}
	}
	if stNow.ScheduledStartTime != nil {
		t.Errorf("unscheduled instance has ScheduledStartTime %v", stNow.ScheduledStartTime)
	}
	if !sameInstant(stLater.ScheduledStartTime, at) {
		t.Errorf("ScheduledStartTime %v, want %v", stLater.ScheduledStartTime, at)
	}
	ranNow := jsonOf[time.Time](t, "output", stNow.Output)
	ranLater := jsonOf[time.Time](t, "output", stLater.Output)
	if !ranLater.After(ranNow) || ranLater.Before(at) {
		t.Errorf("scheduled run at %v (unscheduled %v), not before %v", ranLater, ranNow, at)
	}
}

// A scheduled inline orchestration does not run before its time.
func TestScenario_ScheduledStart_Inline(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) { scheduledStart(t, ext, "CurrentTimeInline") })
}

// A scheduled orchestration's activity does not run before its time.
func TestScenario_ScheduledStart_Activity(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) { scheduledStart(t, ext, "CurrentTimeActivity") })
}

// The status of a scheduled instance carries its scheduled start time
// from the start on.
func TestScenario_ScheduledStart_Activity_GetStatus_Returns_ScheduledStart(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		at := time.Now().UTC().Add(scheduledDelay)
		later := h.start("DelayedCurrentTimeActivity", "Delayed Current Time!", durable.WithStartTime(at))
		now := h.start("DelayedCurrentTimeActivity", "Delayed Current Time!")
		if st := h.status(later); !sameInstant(st.ScheduledStartTime, at) {
			t.Errorf("ScheduledStartTime %v, want %v", st.ScheduledStartTime, at)
		}
		if st := h.status(now); st.ScheduledStartTime != nil {
			t.Errorf("unscheduled instance has ScheduledStartTime %v", st.ScheduledStartTime)
		}
		expectStatus(t, h.wait(now, standardTimeout), durable.StatusCompleted)
		expectStatus(t, h.wait(later, 2*standardTimeout), durable.StatusCompleted)
	})
}

// A start time given in any zone is stored as the same instant in UTC.
func TestScenario_OrchestratorStartAtAcceptsAllDateTimeKinds(t *testing.T) {
	bothWays(t, "utc", func(t *testing.T, utc bool) {
		h := newHost(t, hostOptions{})
		at := time.Now().Add(3 * time.Second).In(time.FixedZone("UTC-7", -7*3600))
		if utc {
			at = at.UTC()
		}
		st := h.wait(h.start("CurrentTimeInline", "", durable.WithStartTime(at)), standardTimeout)
		expectStatus(t, st, durable.StatusCompleted)
		if !sameInstant(st.ScheduledStartTime, at) || st.ScheduledStartTime.Location() != time.UTC {
			t.Errorf("ScheduledStartTime %v, want %v in UTC", st.ScheduledStartTime, at.UTC())
		}
	})
}

// A pending (scheduled) instance can be terminated before it starts,
// also with a reason large enough for a blob, and does not start later.
func TestScenario_TerminatePendingOrchestration(t *testing.T) {
	bothSessionModesAnd(t, "largeReason", func(t *testing.T, ext, large bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		const startIn = 20 * time.Second
		at := time.Now().Add(startIn)
		id := h.start("Counter", 0, durable.WithStartTime(at))
		h.waitStatus(id, 5*time.Second, durable.StatusPending)
		reason := "terminate"
		if large {
			reason = mediumPayload()
		}
		h.terminate(id, reason)
		st := h.wait(id, 10*time.Second)
		if time.Now().After(at) {
			t.Fatalf("termination took until after the scheduled start")
		}
		expectStatus(t, st, durable.StatusTerminated)
		if jsonOrText(st.Output) != reason {
			t.Errorf("output is not the reason (%d characters, want %d)", len(jsonOrText(st.Output)), len(reason))
		}
		if large && h.blobsOf(id) == 0 {
			t.Error("the large reason is not in a blob")
		}
		time.Sleep(time.Until(at) + 3*time.Second)
		st = h.status(id)
		expectStatus(t, st, durable.StatusTerminated)
		if jsonOrText(st.Output) != reason {
			t.Error("the output changed after the scheduled start time")
		}
	})
}

// The orchestrator never replays while extended sessions keep it in
// memory: each episode continues where the last one stopped.
func TestScenario_SequentialOrchestrationNoReplay(t *testing.T) {
	t.Parallel()
	h := newHost(t, hostOptions{extendedSessions: true})
	st := h.wait(h.start("FactorialNoReplay", 10), standardTimeout)
	expectStatus(t, st, durable.StatusCompleted)
	if in := jsonOf[int](t, "input", st.Input); in != 10 {
		t.Errorf("input %d", in)
	}
	if out := jsonOf[int64](t, "output", st.Output); out != 3628800 {
		t.Errorf("output %s", text(st.Output))
	}
}

// An operation sent to an entity that does not exist yet starts it.
func TestScenario_AutoStart(t *testing.T) {
	bothSessionModes(t, func(t *testing.T, ext bool) {
		h := newHost(t, hostOptions{extendedSessions: ext})
		st := h.wait(h.start("AutoStartOrchestration", ""), standardTimeout)
		expectStatus(t, st, durable.StatusCompleted)
		if jsonOf[string](t, "output", st.Output) != "OK" {
			t.Errorf("output %s", text(st.Output))
		}
	})
}

// versioned starts a host whose worker applies versioning settings and
// whose client starts the worker's version by default.
func versioned(t *testing.T, v durable.Versioning) *host {
	h := newHost(t, hostOptions{worker: func(o *durable.WorkerOptions) { o.Versioning = &v }})
	h.client.UseVersioning(v)
	return h
}

// With failure strategy Fail, an instance of version 2 on a version 1
// worker fails unless the match strategy is None.
func TestScenario_OrchestrationFailsWithVersionMismatch(t *testing.T) {
	t.Parallel()
	for _, ms := range []durable.VersionMatchStrategy{durable.VersionMatchStrict, durable.VersionMatchCurrentOrOlder, durable.VersionMatchNone} {
		t.Run("match="+strconv.Itoa(int(ms)), func(t *testing.T) {
			t.Parallel()
			h := versioned(t, durable.Versioning{DefaultVersion: "1", MatchStrategy: ms, FailureStrategy: durable.VersionFailureFail})
			st := h.wait(h.start("SayHelloInline", "World", durable.WithTags(map[string]string{}), durable.WithVersion("2")), standardTimeout)
			if st.Version != "2" {
				t.Errorf("version %q, want 2", st.Version)
			}
			if ms == durable.VersionMatchNone {
				expectStatus(t, st, durable.StatusCompleted)
				return
			}
			expectStatus(t, st, durable.StatusFailed)
		})
	}
}

// Versions that the match strategy accepts run.
func TestScenario_OrchestrationSucceedsWithVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ms      durable.VersionMatchStrategy
		version string
	}{
		{durable.VersionMatchStrict, "1.0.0"},
		{durable.VersionMatchCurrentOrOlder, "1.0.0"},
		{durable.VersionMatchCurrentOrOlder, "0.9.0"},
		{durable.VersionMatchNone, "1.0.0"},
	}
	for _, c := range cases {
		t.Run("match="+strconv.Itoa(int(c.ms))+"/version="+c.version, func(t *testing.T) {
			t.Parallel()
			h := versioned(t, durable.Versioning{DefaultVersion: "1.0.0", MatchStrategy: c.ms, FailureStrategy: durable.VersionFailureFail})
			st := h.wait(h.start("SayHelloInline", "World", durable.WithVersion(c.version)), standardTimeout)
			expectStatus(t, st, durable.StatusCompleted)
			// The orchestrator sees its own version.
			st = h.wait(h.start("CurrentVersion", nil, durable.WithVersion(c.version)), standardTimeout)
			expectStatus(t, st, durable.StatusCompleted)
			if jsonOf[string](t, "output", st.Output) != c.version {
				t.Errorf("ctx.Version() = %s, want %s", text(st.Output), c.version)
			}
		})
	}
	// Without WithVersion the client starts the default version.
	h := versioned(t, durable.Versioning{DefaultVersion: "1.0.0", MatchStrategy: durable.VersionMatchStrict, FailureStrategy: durable.VersionFailureFail})
	st := h.wait(h.start("CurrentVersion", nil), standardTimeout)
	expectStatus(t, st, durable.StatusCompleted)
	if jsonOf[string](t, "output", st.Output) != "1.0.0" || st.Version != "1.0.0" {
		t.Errorf("default version: ctx.Version() = %s, status %q", text(st.Output), st.Version)
	}
}

// With failure strategy Reject, a mismatched instance is never started:
// it stays Pending with no history.
func TestScenario_OrchestrationRejectsWithVersionMismatch(t *testing.T) {
	t.Parallel()
	h := versioned(t, durable.Versioning{DefaultVersion: "1", MatchStrategy: durable.VersionMatchStrict, FailureStrategy: durable.VersionFailureReject})
	id := h.start("SayHelloInline", "World", durable.WithTags(map[string]string{}), durable.WithVersion("2"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if st, err := h.client.WaitForCompletion(ctx, id); err == nil {
		t.Fatalf("the rejected instance finished: %s", st.RuntimeStatus)
	}
	st := h.status(id)
	if st.RuntimeStatus != durable.StatusRunning && st.RuntimeStatus != durable.StatusPending {
		t.Fatalf("status %s, want Pending or Running", st.RuntimeStatus)
	}
	if n := h.history(id); n != 0 {
		t.Errorf("a rejected orchestration has %d history events, want none", n)
	}
}
