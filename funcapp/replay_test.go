package funcapp

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
)

// memoryApp is an app on the in-memory backend whose "Ship" orchestrator
// calls the given activities.
func memoryApp(t *testing.T, calls ...string) *App {
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": t.TempDir(), "DURABLE_STORAGE": "memory"}
	app, err := New(Options{Getenv: func(k string) string { return settings[k] }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := app.Registry()
	for _, n := range []string{"Pack", "Label"} {
		if err := r.AddActivity(n, durable.Activity(func(ctx context.Context, _ any) (string, error) { return "ok", nil })); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddOrchestrator("Ship", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		for _, c := range calls {
			if _, err := durable.CallActivity[string](ctx, c, nil).Await(); err != nil {
				return "", err
			}
		}
		return "shipped", nil
	})); err != nil {
		t.Fatal(err)
	}
	return app
}

func TestReplaySubcommand(t *testing.T) {
	app := memoryApp(t, "Pack", "Label")
	ctx, cancel := context.WithCancel(context.Background())
	w := durable.NewWorker(app.store, app.registry, durable.WorkerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	id, err := app.Client().StartNew(ctx, "Ship", nil, durable.WithInstanceID("ship-1"))
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	if _, err := app.Client().WaitForCompletion(wctx, id); err != nil {
		t.Fatal(err)
	}
	wcancel()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	replay := func(a *App, args ...string) (int, string) {
		var out, errOut strings.Builder
		code := a.Replay(context.Background(), args, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	file := filepath.Join(t.TempDir(), "hub.jsonl")
	if code, out := replay(app, "-instance", "ship-1", "-v"); code != 0 || !strings.Contains(out, "ok instance ship-1 (Ship)") {
		t.Fatalf("the app's own task hub, unchanged code: exit %d\n%s", code, out)
	}
	if code, out := replay(app, "-prefix", "ship-", "-export", file); code != 0 || !strings.Contains(out, "exported 1 histories") {
		t.Fatalf("export: exit %d\n%s", code, out)
	}
	changed := memoryApp(t, "Label", "Pack")
	code, out := replay(changed, "-file", file)
	if code != 1 || !strings.Contains(out, "MISMATCH instance ship-1 (Ship): history event 2, TaskScheduled Pack (EventId 0)") {
		t.Fatalf("swapped calls: exit %d\n%s", code, out)
	}
	if code, _ := replay(changed, "-nonsense"); code != 2 {
		t.Fatalf("bad flag: exit %d", code)
	}
}
