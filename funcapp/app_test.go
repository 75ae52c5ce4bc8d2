package funcapp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/internal/testazurite"
)

func TestMain(m *testing.M) { os.Exit(testazurite.Main(m)) }

// An app built from a host.json of its own serves an orchestration over
// HTTP, serves its invocations, and stops on cancellation.
func TestAppServesAnOrchestrationAndStops(t *testing.T) {
	dir := t.TempDir()
	host := `{"version":"2.0","extensions":{"http":{"routePrefix":"fn"},"durableTask":{"hubName":"%HUB%",
	  "storageProvider":{"connectionStringName":"Store","partitionCount":2,"maxQueuePollingInterval":"00:00:01"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	hub := "App" + time.Now().Format("150405")
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "HUB": hub, "Store": testazurite.Shared(t).ConnectionString()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(Options{Getenv: func(k string) string { return settings[k] }, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if app.Config().TaskHub != hub || app.Client().TaskHubName() != hub || app.Config().PartitionCount != 2 {
		t.Fatalf("config = %+v", app.Config())
	}
	r := app.Registry()
	if err := errors.Join(
		r.AddOrchestrator("Greet", durable.Orchestrator(func(ctx *durable.OrchestrationContext, name string) (string, error) {
			return durable.CallActivity[string](ctx, "Hello", name).Await()
		})),
		r.AddActivity("Hello", durable.Activity(func(_ context.Context, name string) (string, error) { return "Hello " + name, nil })),
	); err != nil {
		t.Fatal(err)
	}
	app.HandleInvocation("Ping", func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error) {
		return &bindings.InvokeResponse{ReturnValue: "pong"}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	base := "http://" + ln.Addr().String()

	id := ""
	deadline := time.Now().Add(20 * time.Second)
	for id == "" {
		resp, err := http.Post(base+"/fn/orchestrators/Greet", "application/json", strings.NewReader(`"Go"`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			var cs map[string]string
			if err := json.Unmarshal(b, &cs); err != nil {
				t.Fatal(err)
			}
			id = cs["id"]
		case resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline):
			t.Fatalf("start: %d %s", resp.StatusCode, b)
		default:
			time.Sleep(50 * time.Millisecond) // the task hub is being created
		}
	}
	for {
		st, err := app.Client().GetStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.RuntimeStatus == durable.StatusCompleted {
			if st.Output == nil || *st.Output != `"Hello Go"` {
				t.Fatalf("output %v", st.Output)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %s", st.RuntimeStatus)
		}
		time.Sleep(50 * time.Millisecond)
	}

	resp, err := http.Post(base+"/Ping", "application/json", strings.NewReader(`{"Data":{},"Metadata":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"ReturnValue":"pong"`) {
		t.Fatalf("invocation: %d %s", resp.StatusCode, b)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		done <- nil
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20s of cancellation")
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Fatal("the server still answers after Run returned")
	}
}

// A bad setting fails New with a message naming it, before any network use.
func TestNewNamesABadConnectionString(t *testing.T) {
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": t.TempDir()}
	_, err := New(Options{Getenv: func(k string) string { return settings[k] }})
	if err == nil || !strings.Contains(err.Error(), "AzureWebJobsStorage") {
		t.Fatalf("err = %v", err)
	}
}
