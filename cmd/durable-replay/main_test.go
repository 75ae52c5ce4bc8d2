package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/internal/testazurite"
)

func TestMain(m *testing.M) { os.Exit(testazurite.Main(m)) }

// orderCode is a version of the app: "Order" calls the activities in turn
// and then, if wait is set, waits for the "Go" event.
func orderCode(t *testing.T, calls []string, wait bool) *durable.Registry {
	r := durable.NewRegistry()
	for _, n := range []string{"Reserve", "Charge", "Bill", "Ship"} {
		name := n
		if err := r.AddActivity(name, durable.Activity(func(ctx context.Context, _ any) (string, error) { return name, nil })); err != nil {
			t.Fatal(err)
		}
	}
	err := r.AddOrchestrator("Order", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		for _, c := range calls {
			if _, err := durable.CallActivity[string](ctx, c, nil).Await(); err != nil {
				return "", err
			}
		}
		if wait {
			return durable.WaitForExternalEvent[string](ctx, "Go").Await()
		}
		return "shipped", nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// record runs the old code on a fresh task hub on Azurite: "done-1"
// completes, "waiting-1" stays Running, waiting for an event.
func record(t *testing.T) (conn, hub string) {
	conn = testazurite.Shared(t).ConnectionString()
	hub = "Replay" + time.Now().Format("150405")
	acct, err := azstorage.ParseConnectionString("AzureWebJobsStorage", conn)
	if err != nil {
		t.Fatal(err)
	}
	clients, err := azstorage.NewClients(acct, azstorage.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	newBackend := func() *azstorage.Backend {
		be, err := azstorage.New(clients, azstorage.Options{TaskHub: hub, MaxPollingInterval: 200 * time.Millisecond, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return be
	}
	be := newBackend()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := be.CreateTaskHub(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = be.DeleteTaskHub(context.Background()) })
	old := orderCode(t, []string{"Reserve", "Charge", "Ship"}, false)
	// The waiting instance was started by another version of the app.
	oldWaiting := orderCode(t, []string{"Reserve", "Charge"}, true)
	run := func(reg *durable.Registry, id string, until func(*durable.InstanceStatus) bool) {
		wctx, stop := context.WithCancel(ctx)
		be := newBackend() // a backend starts once
		w := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: quiet})
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		defer func() {
			stop()
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		}()
		c := durable.NewClient(be, reg)
		if _, err := c.StartNew(ctx, "Order", nil, durable.WithInstanceID(id)); err != nil {
			t.Fatal(err)
		}
		for {
			st, err := c.GetStatus(ctx, id, durable.WithHistory())
			if err == nil && until(st) {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("%s did not get there: %+v %v", id, st, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	run(old, "done-1", func(st *durable.InstanceStatus) bool { return st.RuntimeStatus == durable.StatusCompleted })
	run(oldWaiting, "waiting-1", func(st *durable.InstanceStatus) bool {
		return st.RuntimeStatus == durable.StatusRunning && strings.Count(eventTypes(st), "TaskCompleted") == 2 &&
			strings.HasSuffix(eventTypes(st), "OrchestratorCompleted")
	})
	return conn, hub
}

func eventTypes(st *durable.InstanceStatus) string {
	var s []string
	for _, e := range st.History {
		s = append(s, e.Type.String())
	}
	return strings.Join(s, ",")
}

func replay(t *testing.T, reg *durable.Registry, getenv func(string) string, args ...string) (int, string) {
	var out, errOut strings.Builder
	code := run(context.Background(), args, reg, getenv, &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return code, out.String()
}

func TestReplayAgainstATaskHubOnAzurite(t *testing.T) {
	conn, hub := record(t)
	noEnv := func(string) string { return "" }
	hubArgs := []string{"-connection", conn, "-taskhub", hub}

	t.Run("unchanged code replays clean", func(t *testing.T) {
		code, out := replay(t, orderCode(t, []string{"Reserve", "Charge", "Ship"}, false), noEnv, append(hubArgs, "-instance", "done-1", "-v")...)
		if code != 0 || !strings.Contains(out, "ok instance done-1 (Order): 16 events") || !strings.Contains(out, "0 mismatches") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		code, out = replay(t, orderCode(t, []string{"Reserve", "Charge"}, true), noEnv, append(hubArgs, "-running")...)
		if code != 0 || !strings.Contains(out, "replayed 1 histories: 0 mismatches") {
			t.Fatalf("running instances, exit %d:\n%s", code, out)
		}
	})
	t.Run("activity renamed", func(t *testing.T) {
		code, out := replay(t, orderCode(t, []string{"Reserve", "Bill", "Ship"}, false), noEnv, append(hubArgs, "-instance", "done-1", "-running")...)
		want := []string{
			`MISMATCH instance done-1 (Order): history event 6, TaskScheduled Charge (EventId 1): `,
			`MISMATCH instance waiting-1 (Order): history event 6, TaskScheduled Charge (EventId 1): `,
			"replayed 2 histories: 2 mismatches",
		}
		for _, w := range want {
			if code != 1 || !strings.Contains(out, w) || !strings.Contains(out, `"Bill"`) {
				t.Fatalf("exit %d, want a line with %q:\n%s", code, w, out)
			}
		}
	})
	t.Run("order swapped", func(t *testing.T) {
		code, out := replay(t, orderCode(t, []string{"Charge", "Reserve", "Ship"}, false), noEnv, append(hubArgs, "-status", "Completed")...)
		if code != 1 || !strings.Contains(out, `MISMATCH instance done-1 (Order): history event 2, TaskScheduled Reserve (EventId 0): `) {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("export then replay the file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "hub.jsonl")
		if code, out := replay(t, nil, noEnv, append(hubArgs, "-prefix", "done-", "-export", file)...); code != 2 {
			t.Fatalf("without a registry: exit %d %s", code, out)
		}
		if code, out := replay(t, durable.NewRegistry(), noEnv, append(hubArgs, "-prefix", "done-", "-export", file)...); code != 0 || !strings.Contains(out, "exported 1 histories") {
			t.Fatalf("export: exit %d:\n%s", code, out)
		}
		code, out := replay(t, orderCode(t, []string{"Reserve", "Charge"}, false), noEnv, "-file", file)
		if code != 1 || !strings.Contains(out, "MISMATCH instance done-1 (Order): history event 10, TaskScheduled Ship (EventId 2): the current code has already finished") {
			t.Fatalf("call removed, from the file: exit %d:\n%s", code, out)
		}
	})
	t.Run("the app's settings name the task hub", func(t *testing.T) {
		root := t.TempDir()
		host := `{"version":"2.0","extensions":{"durableTask":{"hubName":"` + hub + `"}}}`
		if err := os.WriteFile(filepath.Join(root, "host.json"), []byte(host), 0o644); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"AzureWebJobsStorage": conn, "FUNCTIONS_APP_ROOT_PATH": root}
		code, out := replay(t, orderCode(t, []string{"Reserve", "Charge", "Ship"}, false), func(k string) string { return env[k] }, "-instance", "done-1")
		if code != 0 || !strings.Contains(out, "replayed 1 histories: 0 mismatches") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		if code, _ := replay(t, durable.NewRegistry(), noEnv); code != 2 {
			t.Fatalf("no source: exit %d", code)
		}
		if code, _ := replay(t, durable.NewRegistry(), noEnv, "-status", "Sleeping", "-taskhub", hub); code != 2 {
			t.Fatalf("bad status: exit %d", code)
		}
		if code, out := replay(t, durable.NewRegistry(), noEnv, append(hubArgs, "-instance", "nobody")...); code != 1 || !strings.Contains(out, "ERROR") {
			t.Fatalf("unknown instance: exit %d %s", code, out)
		}
	})
}
