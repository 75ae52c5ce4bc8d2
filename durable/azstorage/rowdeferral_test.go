package azstorage

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

// stepsThenWait runs n activity steps, then waits for the event "go".
func stepsThenWait(t *testing.T) *durable.Registry {
	t.Helper()
	r := helloRegistry(t)
	if err := r.AddOrchestrator("StepsThenWait", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (string, error) {
		for i := 0; i < n; i++ {
			if _, err := durable.CallActivity[string](ctx, "SayHello", "step").Await(); err != nil {
				return "", err
			}
		}
		return durable.WaitForExternalEvent[string](ctx, "go").Await()
	})); err != nil {
		t.Fatal(err)
	}
	return r
}

// storedRow is the instance's row as stored, this process's waiting
// updates left out.
func storedRow(t *testing.T, b *Backend, id string) (st *durableState) {
	t.Helper()
	row, _, found, err := b.getInstanceRow(context.Background(), id, nil)
	if err != nil || !found {
		t.Fatalf("read the row of %q: found %v, %v", id, found, err)
	}
	s, err := rowToInstanceState(row)
	if err != nil {
		t.Fatal(err)
	}
	return &durableState{status: s.RuntimeStatus, updated: s.LastUpdatedTime}
}

type durableState struct {
	status  history.OrchestrationStatus
	updated time.Time
}

// An instance stepping through activities gets a row write for its first
// episode and for its last, not one per step: the steps in between only
// move LastUpdatedTime and wait for the next update.
func TestQuietRowUpdatesAreWrittenTogether(t *testing.T) {
	b, log := newLoggedBackend(t)
	runWorker(t, b, stepsThenWait(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := durable.NewClient(b, nil)
	if _, err := c.StartNew(ctx, "StepsThenWait", 8, durable.WithInstanceID("steps")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the steps to run", func() bool {
		h, err := b.GetHistory(ctx, "steps")
		return err == nil && countEvents(h, history.TaskCompleted) == 8
	})
	if err := c.RaiseEvent(ctx, "steps", "go", "went"); err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, "steps")
	if err != nil || st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != `"went"` {
		t.Fatalf("%+v %v", st, err)
	}
	// Ten episodes; a write for the first and the last, and one a second
	// at most in between.
	if n := log.count(http.MethodPatch, b.names.InstancesTable()+"(PartitionKey='steps'"); n > 5 {
		t.Errorf("%d row writes for ten episodes", n)
	}
	if got := storedRow(t, b, "steps"); got.status != history.StatusCompleted {
		t.Errorf("stored status %s", got.status)
	}
}

// While quiet updates wait, the stored row is behind: a status read in
// this process sees the row as it will be once they are written, a read
// that writes after it (a new start, the start dedupe) has them written
// first, and a change of status is written at once.
func TestWaitingRowUpdatesAndReads(t *testing.T) {
	b := newTestBackend(t)
	b.rowDeferral = time.Minute
	runWorker(t, b, stepsThenWait(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := durable.NewClient(b, nil)
	if _, err := c.StartNew(ctx, "StepsThenWait", 2, durable.WithInstanceID("behind")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the steps to run", func() bool {
		h, err := b.GetHistory(ctx, "behind")
		return err == nil && countEvents(h, history.TaskCompleted) == 2 && countEvents(h, history.OrchestratorCompleted) == 3
	})
	// The first step's work item is deleted although its row update
	// waits: the second step's update superseded it and keeps its own
	// work item until the row is written.
	waitFor(t, "one work item left", func() bool { return queueLength(t, b, b.names.WorkItemQueue()) == 1 })
	stored := storedRow(t, b, "behind")
	seen, err := c.GetStatus(ctx, "behind")
	if err != nil {
		t.Fatal(err)
	}
	if stored.status != history.StatusRunning || seen.RuntimeStatus != durable.StatusRunning {
		t.Fatalf("stored %s, seen %s: want both Running (the first episode is written at once)", stored.status, seen.RuntimeStatus)
	}
	if !seen.LastUpdatedTime.After(stored.updated) {
		t.Fatalf("status read: LastUpdatedTime %v, stored %v: want the waiting updates' later time", seen.LastUpdatedTime, stored.updated)
	}
	if _, _, _, err := b.readInstanceRow(ctx, "behind"); err != nil {
		t.Fatal(err)
	}
	if now := storedRow(t, b, "behind"); !now.updated.Equal(seen.LastUpdatedTime) {
		t.Fatalf("after a writer's read the stored LastUpdatedTime is %v, want %v", now.updated, seen.LastUpdatedTime)
	}
	waitFor(t, "the work items to go", func() bool { return queueLength(t, b, b.names.WorkItemQueue()) == 0 })
	if err := c.RaiseEvent(ctx, "behind", "go", "went"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stored row to say Completed", func() bool { return storedRow(t, b, "behind").status == history.StatusCompleted })
}

// Stopping the backend writes the updates that wait, without waiting out
// their delay.
func TestStopWritesWaitingRowUpdates(t *testing.T) {
	b := newTestBackend(t)
	b.rowDeferral = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := durable.NewWorker(b, stepsThenWait(t), durable.WorkerOptions{Logger: testLogger(t)})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	c := durable.NewClient(b, nil)
	if _, err := c.StartNew(ctx, "StepsThenWait", 2, durable.WithInstanceID("stopped")); err != nil {
		t.Fatal(err)
	}
	var want time.Time
	waitFor(t, "the steps to run", func() bool {
		h, err := b.GetHistory(ctx, "stopped")
		if err != nil || countEvents(h, history.OrchestratorCompleted) != 3 {
			return false
		}
		st, err := c.GetStatus(ctx, "stopped")
		want = st.LastUpdatedTime
		return err == nil
	})
	if got := storedRow(t, b, "stopped"); !got.updated.Before(want) {
		t.Fatalf("stored LastUpdatedTime %v, want it behind %v while the update waits", got.updated, want)
	}
	began := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("stopping took %v", took)
	}
	if got := storedRow(t, b, "stopped"); !got.updated.Equal(want) || got.status != history.StatusRunning {
		t.Fatalf("after the stop the stored row is %s at %v, want Running at %v", got.status, got.updated, want)
	}
}
