package durable_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/memory"
)

// With extended sessions the orchestrator is not replayed: each line of
// code between awaits runs once; without, earlier lines run again on
// every episode.
func TestExtendedSessionsDoNotReplay(t *testing.T) {
	for _, ext := range []bool{true, false} {
		var runs, replays atomic.Int64
		reg := durable.NewRegistry()
		if err := reg.AddActivity("Inc", durable.Activity(func(_ context.Context, n int) (int, error) { return n + 1, nil })); err != nil {
			t.Fatal(err)
		}
		if err := reg.AddOrchestrator("Count", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
			n := 0
			for i := 0; i < 5; i++ {
				runs.Add(1)
				if ctx.IsReplaying() {
					replays.Add(1)
				}
				var err error
				if n, err = durable.CallActivity[int](ctx, "Inc", n).Await(); err != nil {
					return 0, err
				}
			}
			return n, nil
		})); err != nil {
			t.Fatal(err)
		}
		be := memory.New(memory.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		w := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ExtendedSessions: ext})
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		c := durable.NewClient(be, reg)
		id, err := c.StartNew(ctx, "Count", nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.WaitForCompletion(ctx, id)
		cancel()
		<-done
		if err != nil || st.RuntimeStatus != durable.StatusCompleted || *st.Output != "5" {
			t.Fatalf("extended=%v: %v %+v", ext, err, st)
		}
		if ext && (runs.Load() != 5 || replays.Load() != 0) {
			t.Errorf("extended sessions: the loop body ran %d times (%d replaying), want 5 and 0", runs.Load(), replays.Load())
		}
		if !ext && replays.Load() == 0 {
			t.Errorf("without extended sessions nothing was replayed")
		}
	}
}
