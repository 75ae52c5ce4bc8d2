package azstorage

import (
	"context"
	"strings"
	"testing"

	"github.com/godurable/functions/durable"
)

func helloRegistry(t *testing.T) *durable.Registry {
	r := durable.NewRegistry()
	if err := r.AddActivity("SayHello", durable.Activity(func(ctx context.Context, city string) (string, error) {
		return "Hello " + city + "!", nil
	})); err != nil {
		t.Fatal(err)
	}
	if err := r.AddOrchestrator("HelloCities", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) ([]string, error) {
		var out []string
		for _, c := range []string{"Tokyo", "Seattle", "London"} {
			s, err := durable.CallActivity[string](ctx, "SayHello", c).Await()
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	})); err != nil {
		t.Fatal(err)
	}
	return r
}

// runWorker runs a worker until the test ends.
func runWorker(t *testing.T, b *Backend, r *durable.Registry) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := durable.NewWorker(b, r, durable.WorkerOptions{Logger: testLogger(t)})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}

func TestHelloCitiesEndToEnd(t *testing.T) {
	b := newTestBackend(t)
	r := helloRegistry(t)
	runWorker(t, b, r)
	id := "hello-e2e"
	runHelloCities(t, b, id)
	h, err := b.GetHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range h {
		types = append(types, e.Type.String())
	}
	want := "OrchestratorStarted,ExecutionStarted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,ExecutionCompleted,OrchestratorCompleted"
	if got := strings.Join(types, ","); got != want {
		t.Fatalf("history:\n got %s\nwant %s", got, want)
	}
}
