package replaycheck_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/durabletest"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replaycheck"
	"github.com/godurable/functions/handler"
)

// busy is an orchestrator with every kind of step: a fan-out, a timer, a
// sub-orchestration, an event and a failed call.
func busy(t *testing.T, renamed bool) *durable.Registry {
	r := durable.NewRegistry()
	add := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	add(r.AddActivity("Square", durable.Activity(func(ctx context.Context, n int) (int, error) { return n * n, nil })))
	add(r.AddActivity("Fail", durable.Activity(func(ctx context.Context, _ any) (int, error) { return 0, errors.New("no") })))
	add(r.AddOrchestrator("Child", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) { return n + 1, nil })))
	final := "Square"
	if renamed {
		final = "Cube"
		add(r.AddActivity("Cube", durable.Activity(func(ctx context.Context, n int) (int, error) { return n * n * n, nil })))
	}
	add(r.AddOrchestrator("Busy", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		var tasks []*durable.Task[int]
		for i := 1; i <= 4; i++ {
			tasks = append(tasks, durable.CallActivity[int](ctx, "Square", i))
		}
		sq, err := durable.WhenAllOf(ctx, tasks...)
		if err != nil {
			return 0, err
		}
		if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(time.Hour)).Await(); err != nil {
			return 0, err
		}
		c, err := durable.CallSubOrchestrator[int](ctx, "Child", sq[3]).Await()
		if err != nil {
			return 0, err
		}
		_, _ = durable.CallActivity[int](ctx, "Fail", nil).Await()
		v, err := durable.WaitForExternalEvent[int](ctx, "Add").Await()
		if err != nil {
			return 0, err
		}
		last, err := durable.CallActivity[int](ctx, final, c+v).Await()
		return last, err
	})))
	return r
}

func runBusy(t *testing.T) (*durabletest.Tester, *durabletest.Instance, *durabletest.Instance) {
	tt := durabletest.New(t, busy(t, false))
	done := tt.Start("Busy", nil)
	done.RaiseEventAfter(2*time.Hour, "Add", 3)
	tt.RunUntilDone(done)
	if got := durabletest.Output[int](done); got != 400 {
		t.Fatalf("Busy = %d", got)
	}
	waiting := tt.Execute("Busy", nil) // waits for "Add"
	return tt, done, waiting
}

func TestExportFileRoundTrip(t *testing.T) {
	tt, done, waiting := runBusy(t)
	hs, err := replaycheck.LoadHistories(context.Background(), tt.Backend(), replaycheck.Selection{InstanceIDs: []string{done.ID()}, Running: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].InstanceID != done.ID() || hs[1].InstanceID != waiting.ID() || hs[1].Name != "Busy" {
		t.Fatalf("loaded %d histories: %+v", len(hs), hs)
	}
	var buf bytes.Buffer
	if err := replaycheck.WriteHistories(&buf, hs); err != nil {
		t.Fatal(err)
	}
	back, err := replaycheck.ReadHistories(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range replaycheck.CheckAll(busy(t, false), back) {
		if r.Mismatch != nil || r.Err != nil || r.Skipped != "" || r.Events == 0 {
			t.Fatalf("unchanged code: %+v", r)
		}
	}
	results := replaycheck.CheckAll(busy(t, true), back)
	if m := results[0].Mismatch; m == nil || m.InstanceID != done.ID() || m.Event.Type != history.TaskScheduled || m.Event.Name != "Square" {
		t.Fatalf("renamed activity, completed instance: %+v", results[0])
	}
	if results[1].Mismatch != nil {
		t.Fatalf("the waiting instance has not reached the renamed call yet, but: %v", results[1].Mismatch)
	}
	if _, err := replaycheck.ReadHistories(strings.NewReader(`{"history":[]}`)); err == nil {
		t.Fatal("a record without an instance id was read")
	}
}

func TestStatusJSONFromTheHTTPAPI(t *testing.T) {
	tt, done, _ := runBusy(t)
	h := handler.New(handler.Config{Durable: tt.Client(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/runtime/webhooks/durabletask/instances/"+done.ID()+"?showHistory=true&showHistoryOutput=true", nil))
	if rec.Code != 200 {
		t.Fatalf("status API: %d %s", rec.Code, rec.Body)
	}
	hs, err := replaycheck.ParseStatusJSON(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].InstanceID != done.ID() || !hs[0].Approximate {
		t.Fatalf("parsed %+v", hs)
	}
	if m, err := replaycheck.Check(busy(t, false), hs[0].InstanceID, hs[0].History); m != nil || err != nil {
		t.Fatalf("unchanged code: %v, %v\nrebuilt history: %s", m, err, types(hs[0].History))
	}
	m, err := replaycheck.Check(busy(t, true), hs[0].InstanceID, hs[0].History)
	if err != nil || m == nil || m.Event.Name != "Square" || !strings.Contains(m.Reason, "Cube") {
		t.Fatalf("renamed activity: %v, %v", m, err)
	}
	if _, err := replaycheck.ParseStatusJSON([]byte(`{"instanceId":"x"}`)); err == nil || !strings.Contains(err.Error(), "showHistory=true") {
		t.Fatalf("status without history: %v", err)
	}
}

func TestLoadHistoriesByQuery(t *testing.T) {
	tt, done, waiting := runBusy(t)
	tt.SignalEntity(durable.NewEntityID("Nobody", "k"), "op", nil) // entities are left out
	tt.RunUntilIdle()
	hs, err := replaycheck.LoadHistories(context.Background(), tt.Backend(), replaycheck.Selection{
		Query: &backend.InstanceQuery{InstanceIDPrefix: "Busy-", RuntimeStatus: []history.OrchestrationStatus{history.StatusCompleted}}})
	if err != nil || len(hs) != 1 || hs[0].InstanceID != done.ID() {
		t.Fatalf("query: %+v, %v", hs, err)
	}
	_ = waiting
	if _, err := replaycheck.LoadHistories(context.Background(), tt.Backend(), replaycheck.Selection{InstanceIDs: []string{"nobody"}}); !errors.Is(err, backend.ErrInstanceNotFound) {
		t.Fatalf("unknown instance: %v", err)
	}
}

func types(h []*history.Event) string {
	var s []string
	for _, e := range h {
		s = append(s, e.Type.String())
	}
	return strings.Join(s, ",")
}

func TestReplayCommandReadsStatusJSON(t *testing.T) {
	tt, done, _ := runBusy(t)
	h := handler.New(handler.Config{Durable: tt.Client(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/runtime/webhooks/durabletask/instances/"+done.ID()+"?showHistory=true&showHistoryOutput=true", nil))
	file := t.TempDir() + "/status.json"
	if err := os.WriteFile(file, rec.Body.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		reg  *durable.Registry
		code int
		want string
	}{
		{busy(t, false), 0, "replayed 1 histories: 0 mismatches, 0 errors"},
		{busy(t, true), 1, "MISMATCH instance Busy-1 (Busy): history event"},
	} {
		var out, errOut strings.Builder
		code := replaycheck.Command(context.Background(), []string{"-status-json", file}, replaycheck.CommandOptions{Registry: c.reg, Stdout: &out, Stderr: &errOut})
		if code != c.code || !strings.Contains(out.String(), c.want) {
			t.Fatalf("exit %d (want %d):\n%s%s", code, c.code, out.String(), errOut.String())
		}
	}
	var errOut strings.Builder
	if code := replaycheck.Command(context.Background(), []string{"-running"}, replaycheck.CommandOptions{Registry: busy(t, false), Stderr: &errOut}); code != 2 {
		t.Fatalf("a task hub source without OpenTaskHub: exit %d", code)
	}
}

// Calls started together and finished in another order: the status
// answer does not say which was numbered first; the rebuilt history's
// other numberings are tried.
func TestStatusJSONOfCallsFinishingOutOfOrder(t *testing.T) {
	r := durable.NewRegistry()
	for _, n := range []string{"Slow", "Quick"} {
		if err := r.AddActivity(n, durable.Activity(func(ctx context.Context, _ any) (string, error) { return "x", nil })); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddOrchestrator("Pair", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		a := durable.CallActivity[string](ctx, "Slow", nil)
		b := durable.CallActivity[string](ctx, "Quick", nil)
		if err := durable.WhenAll(ctx, a, b); err != nil {
			return 0, err
		}
		_, err := durable.CallActivity[string](ctx, "Quick", nil).Await()
		return 2, err
	})); err != nil {
		t.Fatal(err)
	}
	tt := durabletest.New(t, r)
	tt.OnActivity("Slow").Return("late").Delay(time.Hour)
	inst := tt.Execute("Pair", nil)
	h := handler.New(handler.Config{Durable: tt.Client(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/runtime/webhooks/durabletask/instances/"+inst.ID()+"?showHistory=true&showHistoryOutput=true", nil))
	hs, err := replaycheck.ParseStatusJSON(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := replaycheck.Check(r, "", hs[0].History); m == nil {
		t.Fatal("the first numbering (by finishing order) replays; this test no longer covers the other numberings")
	}
	if res := replaycheck.CheckAll(r, hs); res[0].Mismatch != nil || res[0].Err != nil {
		t.Fatalf("unchanged code: %+v", res[0])
	}
}
