package azstorage

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

// An event for an instance this worker is running is sent without reading
// its Instances row first; once the instance has finished, the row is
// read again and the event refused.
func TestRaiseEventToAnInstanceRunningHereSkipsTheStatusRead(t *testing.T) {
	b, log := newLoggedBackend(t)
	r := durable.NewRegistry()
	addWaitOrchestrator(t, r, "WaitOne")
	runWorker(t, b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := durable.NewClient(b, r)
	if _, err := c.StartNew(ctx, "WaitOne", nil, durable.WithInstanceID("hint")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the instance to run here", func() bool { return b.RunningHere("hint") })
	rowReads := func() int { return log.count(http.MethodGet, b.names.InstancesTable()+"(PartitionKey='hint'") }
	before := rowReads()
	if err := c.RaiseEvent(ctx, "hint", "go", "went"); err != nil {
		t.Fatal(err)
	}
	if n := rowReads() - before; n != 0 {
		t.Errorf("raising the event read the Instances row %d times, want 0", n)
	}
	st, err := c.WaitForCompletion(ctx, "hint")
	if err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != `"went"` {
		t.Fatalf("status %v output %s", st.RuntimeStatus, history.Deref(st.Output))
	}
	if b.RunningHere("hint") {
		t.Fatal("a finished instance is still reported running here")
	}
	if err := c.RaiseEvent(ctx, "hint", "go", "again"); !errors.Is(err, durable.ErrInstanceFinished) {
		t.Fatalf("raise to a finished instance: %v, want ErrInstanceFinished", err)
	}
}
