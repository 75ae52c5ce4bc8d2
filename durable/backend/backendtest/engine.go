package backendtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// engineRegistry holds the functions the Engine subtests run.
func engineRegistry(t *testing.T, failures *atomic.Int32) *durable.Registry {
	r := durable.NewRegistry()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.AddActivity("Hello", durable.Activity(func(ctx context.Context, name string) (string, error) {
		return "Hello " + name + "!", nil
	})))
	must(r.AddActivity("FailUntilRewound", durable.Activity(func(ctx context.Context, _ any) (string, error) {
		if failures.Add(1) == 1 {
			return "", errors.New("first attempt fails")
		}
		return "fixed", nil
	})))
	must(r.AddOrchestrator("Hellos", durable.Orchestrator(func(ctx *durable.OrchestrationContext, names []string) ([]string, error) {
		var out []string
		for _, n := range names {
			s, err := durable.CallActivity[string](ctx, "Hello", n).Await()
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	})))
	must(r.AddOrchestrator("WaitOrTimeout", durable.Orchestrator(func(ctx *durable.OrchestrationContext, ms int) (string, error) {
		v, err := durable.WaitForExternalEvent[string](ctx, "Go", durable.WithTimeout(time.Duration(ms)*time.Millisecond)).Await()
		if errors.Is(err, durable.ErrTimeout) {
			return "timed out", nil
		}
		return "got " + v, err
	})))
	must(r.AddOrchestrator("Parent", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) ([]string, error) {
		return durable.CallSubOrchestrator[[]string](ctx, "Hellos", []string{"child"}).Await()
	})))
	must(r.AddOrchestrator("Countdown", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
		if n == 0 {
			return 0, nil
		}
		return 0, ctx.ContinueAsNew(n - 1)
	})))
	must(r.AddOrchestrator("Forever", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		return durable.WaitForExternalEvent[string](ctx, "Never").Await()
	})))
	must(r.AddActivity("Echo", durable.Activity(func(ctx context.Context, s string) (string, error) { return s, nil })))
	must(r.AddOrchestrator("EchoBig", durable.Orchestrator(func(ctx *durable.OrchestrationContext, s string) (int, error) {
		out, err := durable.CallActivity[string](ctx, "Echo", s+s).Await()
		return len(out), err
	})))
	must(r.AddOrchestrator("FailingChild", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		return "", errors.New("child gave up")
	})))
	must(r.AddOrchestrator("CatchChild", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		_, err := durable.CallSubOrchestrator[string](ctx, "FailingChild", nil).Await()
		var tf *durable.TaskFailedError
		if errors.As(err, &tf) && tf.SubOrchestration {
			return "caught: " + tf.Details.ErrorMessage, nil
		}
		return "", fmt.Errorf("want a sub-orchestration failure, got %v", err)
	})))
	must(r.AddOrchestrator("Rewindable", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		return durable.CallActivity[string](ctx, "FailUntilRewound", nil).Await()
	})))
	must(r.AddEntity("Counter", durable.EntityOperations(map[string]func(*durable.EntityContext, int, json.RawMessage) (int, any, error){
		"add": func(ctx *durable.EntityContext, n int, in json.RawMessage) (int, any, error) {
			var d int
			if err := json.Unmarshal(in, &d); err != nil {
				return n, nil, err
			}
			return n + d, n + d, nil
		},
		"get": func(ctx *durable.EntityContext, n int, _ json.RawMessage) (int, any, error) { return n, n, nil },
	})))
	must(r.AddOrchestrator("Transfer", durable.Orchestrator(func(ctx *durable.OrchestrationContext, key string) (int, error) {
		a, b := durable.NewEntityID("Counter", key+"-a"), durable.NewEntityID("Counter", key+"-b")
		release, err := durable.LockEntities(ctx, a, b)
		if err != nil {
			return 0, err
		}
		defer release()
		if _, err := durable.CallEntity[int](ctx, a, "add", -5).Await(); err != nil {
			return 0, err
		}
		return durable.CallEntity[int](ctx, b, "add", 5).Await()
	})))
	return r
}

type engine struct {
	t      *testing.T
	be     backend.Backend
	client *durable.Client
}

func startEngine(t *testing.T, be backend.Backend, r *durable.Registry) *engine {
	ctx, cancel := context.WithCancel(context.Background())
	w := durable.NewWorker(be, r, durable.WorkerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return &engine{t: t, be: be, client: durable.NewClient(be, r, durable.WithTaskHubName("conformance"))}
}

func (e *engine) start(name string, input any) string {
	e.t.Helper()
	id, err := e.client.StartNew(context.Background(), name, input, durable.WithInstanceID(newID(strings.ToLower(name))))
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *engine) wait(id string) *durable.InstanceStatus {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := e.client.WaitForCompletion(ctx, id)
	if err != nil {
		e.t.Fatalf("waiting for %s: %v", id, err)
	}
	return st
}

// waitStatus polls until the instance has the status.
func (e *engine) waitStatus(id string, want durable.RuntimeStatus) *durable.InstanceStatus {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := e.client.GetStatus(context.Background(), id)
		if err == nil && st.RuntimeStatus == want {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s never became %s (last: %+v, %v)", id, want, st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func expectOutput(t *testing.T, st *durable.InstanceStatus, status durable.RuntimeStatus, output string) {
	t.Helper()
	if st.RuntimeStatus != status || history.Deref(st.Output) != output {
		t.Fatalf("%s ended %s with %s; want %s with %s", st.InstanceID, st.RuntimeStatus, history.Deref(st.Output), status, output)
	}
}

// runEngine runs real orchestrations on the backend through durable's
// worker and client.
func runEngine(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	cases := []struct {
		name string
		fn   func(t *testing.T, e *engine, failures *atomic.Int32)
	}{
		{"Engine/ActivitiesInSequence", func(t *testing.T, e *engine, _ *atomic.Int32) {
			id := e.start("Hellos", []string{"Tokyo", "London"})
			expectOutput(t, e.wait(id), durable.StatusCompleted, `["Hello Tokyo!","Hello London!"]`)
			h, err := e.be.GetHistory(context.Background(), id)
			want := "OrchestratorStarted,ExecutionStarted,TaskScheduled,OrchestratorCompleted," +
				"OrchestratorStarted,TaskCompleted,TaskScheduled,OrchestratorCompleted," +
				"OrchestratorStarted,TaskCompleted,ExecutionCompleted,OrchestratorCompleted"
			if err != nil || types(h) != want {
				t.Fatalf("history:\n got %s\nwant %s (%v)", types(h), want, err)
			}
		}},
		{"Engine/EventBeforeTimeout", func(t *testing.T, e *engine, _ *atomic.Int32) {
			id := e.start("WaitOrTimeout", 60000)
			e.waitStatus(id, durable.StatusRunning)
			if err := e.client.RaiseEvent(context.Background(), id, "Go", "yes"); err != nil {
				t.Fatal(err)
			}
			expectOutput(t, e.wait(id), durable.StatusCompleted, `"got yes"`)
		}},
		{"Engine/TimerFires", func(t *testing.T, e *engine, _ *atomic.Int32) {
			began := time.Now()
			expectOutput(t, e.wait(e.start("WaitOrTimeout", 1000)), durable.StatusCompleted, `"timed out"`)
			if d := time.Since(began); d < 900*time.Millisecond {
				t.Fatalf("a 1 s timeout ended after %v", d)
			}
		}},
		{"Engine/SubOrchestration", func(t *testing.T, e *engine, _ *atomic.Int32) {
			expectOutput(t, e.wait(e.start("Parent", nil)), durable.StatusCompleted, `["Hello child!"]`)
		}},
		{"Engine/ContinueAsNew", func(t *testing.T, e *engine, _ *atomic.Int32) {
			id := e.start("Countdown", 3)
			expectOutput(t, e.wait(id), durable.StatusCompleted, "0")
			h, err := e.be.GetHistory(context.Background(), id)
			if err != nil || len(h) < 2 || h[1].Type != history.ExecutionStarted || history.Deref(h[1].Input) != "0" {
				t.Fatalf("history of the last generation = %s, %v", types(h), err)
			}
		}},
		{"Engine/TerminateSuspendResume", func(t *testing.T, e *engine, _ *atomic.Int32) {
			ctx := context.Background()
			id := e.start("Forever", nil)
			e.waitStatus(id, durable.StatusRunning)
			if err := e.client.Suspend(ctx, id, "pause"); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(id, durable.StatusSuspended)
			if err := e.client.Resume(ctx, id, "go on"); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(id, durable.StatusRunning)
			if err := e.client.Terminate(ctx, id, "enough"); err != nil {
				t.Fatal(err)
			}
			st := e.wait(id)
			if st.RuntimeStatus != durable.StatusTerminated || !strings.Contains(history.Deref(st.Output), "enough") {
				t.Fatalf("terminated instance = %s %s", st.RuntimeStatus, history.Deref(st.Output))
			}
			if err := e.client.RaiseEvent(ctx, id, "Never", "x"); !errors.Is(err, durable.ErrInstanceFinished) {
				t.Fatalf("raise on a terminated instance: %v, want ErrInstanceFinished", err)
			}
		}},
		{"Engine/EntitiesSignalCallLock", func(t *testing.T, e *engine, _ *atomic.Int32) {
			ctx := context.Background()
			key := newID("acct")
			a := durable.NewEntityID("Counter", key+"-a")
			if err := e.client.SignalEntity(ctx, a, "add", 12); err != nil {
				t.Fatal(err)
			}
			expectOutput(t, e.wait(e.start("Transfer", key)), durable.StatusCompleted, "5")
			deadline := time.Now().Add(30 * time.Second)
			for {
				md, err := e.client.GetEntity(ctx, a)
				if err == nil && history.Deref(md.State) == "7" && md.LockedBy == "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("entity %s = %+v, %v; want state 7, unlocked", a, md, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}},
		{"Engine/RewindAndPurge", func(t *testing.T, e *engine, failures *atomic.Int32) {
			ctx := context.Background()
			id := e.start("Rewindable", nil)
			if st := e.wait(id); st.RuntimeStatus != durable.StatusFailed {
				t.Fatalf("first run = %s %s, want Failed", st.RuntimeStatus, history.Deref(st.Output))
			}
			if err := e.client.Rewind(ctx, id, "fixed it"); err != nil {
				t.Fatal(err)
			}
			expectOutput(t, e.wait(id), durable.StatusCompleted, `"fixed"`)
			if n := failures.Load(); n != 2 {
				t.Fatalf("the activity ran %d times, want 2", n)
			}
			if err := e.client.Purge(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := e.client.GetStatus(ctx, id); !errors.Is(err, durable.ErrInstanceNotFound) {
				t.Fatalf("status after purge: %v, want ErrInstanceNotFound", err)
			}
		}},
		{"Engine/LargePayloads", func(t *testing.T, e *engine, _ *atomic.Int32) {
			big := strings.Repeat("abcdefgh", 16*1024) // 128 KiB in, 256 KiB through the activity
			id := e.start("EchoBig", big)
			expectOutput(t, e.wait(id), durable.StatusCompleted, fmt.Sprint(2*len(big)))
			st, err := e.client.GetStatus(context.Background(), id)
			if err != nil || len(history.Deref(st.Input)) != len(big)+2 {
				t.Fatalf("stored input of %d bytes, want %d (%v)", len(history.Deref(st.Input)), len(big)+2, err)
			}
		}},
		{"Engine/SubOrchestrationFailure", func(t *testing.T, e *engine, _ *atomic.Int32) {
			expectOutput(t, e.wait(e.start("CatchChild", nil)), durable.StatusCompleted, `"caught: child gave up"`)
		}},
		{"Engine/ScheduledStartAndSignal", func(t *testing.T, e *engine, _ *atomic.Int32) {
			ctx := context.Background()
			began := time.Now()
			id, err := e.client.StartNew(ctx, "Hellos", []string{"later"}, durable.WithInstanceID(newID("later")),
				durable.WithStartTime(began.Add(1500*time.Millisecond)))
			if err != nil {
				t.Fatal(err)
			}
			c := durable.NewEntityID("Counter", newID("later"))
			if err := e.client.SignalEntity(ctx, c, "add", 4, durable.SignalAt(began.Add(1500*time.Millisecond))); err != nil {
				t.Fatal(err)
			}
			expectOutput(t, e.wait(id), durable.StatusCompleted, `["Hello later!"]`)
			if d := time.Since(began); d < 1300*time.Millisecond {
				t.Fatalf("a start scheduled 1.5 s ahead completed after %v", d)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				md, err := e.client.GetEntity(ctx, c)
				if err == nil && history.Deref(md.State) == "4" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the scheduled signal never arrived: %+v, %v", md, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}},
		{"Engine/RestartSameID", func(t *testing.T, e *engine, _ *atomic.Int32) {
			ctx := context.Background()
			id := e.start("Hellos", []string{"again"})
			first := e.wait(id)
			if _, err := e.client.Restart(ctx, id, true); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				st, err := e.client.GetStatus(ctx, id)
				if err == nil && st.RuntimeStatus == durable.StatusCompleted && st.CreatedTime.After(first.CreatedTime) {
					expectOutput(t, st, durable.StatusCompleted, `["Hello again!"]`)
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the restarted instance: %+v, %v", st, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}},
		{"Engine/ListInstances", func(t *testing.T, e *engine, _ *atomic.Int32) {
			id := e.start("Hellos", []string{"x"})
			e.wait(id)
			p, err := e.client.ListInstances(context.Background(), durable.Query{InstanceIDPrefix: id, RuntimeStatus: []durable.RuntimeStatus{durable.StatusCompleted}})
			if err != nil || len(p.Instances) != 1 || p.Instances[0].InstanceID != id || p.Instances[0].Name != "Hellos" {
				t.Fatalf("ListInstances = %+v, %v", p, err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var failures atomic.Int32
			be := newBackend(t)
			e := startEngine(t, be, engineRegistry(t, &failures))
			c.fn(t, e, &failures)
		})
	}
}
