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
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/internal/testazurite"
)

// The repository's app has a valid wake-up function: one queue trigger on
// its hub's wake-up queue (a valid queue name, not a hub queue), so the
// wake-up queue is on by default there.
func TestSampleAppWakeUpFunctionJSON(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", WakeUpFunction, "function.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fn struct {
		Bindings []map[string]string `json:"bindings"`
	}
	if err := json.Unmarshal(data, &fn); err != nil {
		t.Fatalf("function.json is not valid: %v", err)
	}
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": "..", "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
	cfg, err := LoadConfig(func(k string) string { return settings[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(fn.Bindings) != 1 {
		t.Fatalf("bindings %v", fn.Bindings)
	}
	b := fn.Bindings[0]
	want := wakeUpQueue(cfg.TaskHub)
	if b["type"] != "queueTrigger" || b["direction"] != "in" || b["name"] == "" || b["queueName"] != want ||
		b["connection"] != cfg.ConnectionName {
		t.Fatalf("binding %v; want a queueTrigger on %s over %s", b, want, cfg.ConnectionName)
	}
	if !regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`).MatchString(want) {
		t.Fatalf("%q is not a valid queue name", want)
	}
	if !cfg.WakeUpQueue || !cfg.BackendOptions(nil).WakeUpQueue {
		t.Fatal("with the wake-up function present the wake-up queue should be on by default")
	}
	names, _ := azstorage.NewNames(cfg.TaskHub, cfg.PartitionCount)
	if err := checkQueueTriggers("..", names); err != nil {
		t.Fatal(err)
	}
	settings["DURABLE_WAKEUP_QUEUE"] = "false"
	if cfg, err := LoadConfig(func(k string) string { return settings[k] }); err != nil || cfg.WakeUpQueue {
		t.Fatalf("DURABLE_WAKEUP_QUEUE=false: %v %v", cfg.WakeUpQueue, err)
	}
}

// A queue trigger on one of the hub's own queues is refused.
func TestQueueTriggerOnAHubQueueRefusesToStart(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "host.json"), []byte(`{"version":"2.0","extensions":{"durableTask":{"hubName":"MyHub"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := writeFunctionJSON(t, root, "Steal", `{"bindings":[{"type":"queueTrigger","direction":"in","name":"m","queueName":"myhub-control-02"}]}`)
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": root, "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
	_, err := New(Options{Getenv: func(k string) string { return settings[k] }})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "myhub-control-02") {
		t.Fatalf("New = %v, want an error naming %s", err, bad)
	}
}

// An invocation of the wake-up function makes an idle worker poll at
// once: a start written by another process while the worker's pollers
// have backed off runs right after the invocation.
func TestWakeUpInvocationPollsAtOnce(t *testing.T) {
	dir := t.TempDir()
	hub := "Wake" + time.Now().Format("150405")
	host := `{"version":"2.0","extensions":{"durableTask":{"hubName":"` + hub + `",
	  "storageProvider":{"connectionStringName":"Store","partitionCount":1,"maxQueuePollingInterval":"00:00:30"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFunctionJSON(t, dir, WakeUpFunction, `{"bindings":[{"type":"queueTrigger","direction":"in","name":"wakeup","queueName":"`+
		wakeUpQueue(hub)+`","connection":"Store"}]}`)
	conn := testazurite.Shared(t).ConnectionString()
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "Store": conn}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(Options{Getenv: func(k string) string { return settings[k] }, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if !app.Config().WakeUpQueue {
		t.Fatal("the wake-up function is present: the wake-up queue should be on")
	}
	if err := errors.Join(
		app.Registry().AddOrchestrator("Nothing", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
			return "done", nil
		})),
	); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = app.Backend().DeleteTaskHub(context.Background())
	})
	base := "http://" + ln.Addr().String()

	// Another process's client: its enqueue does not wake this worker.
	acct, err := azstorage.ParseConnectionString("Store", conn)
	if err != nil {
		t.Fatal(err)
	}
	clients, err := azstorage.NewClients(acct, azstorage.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := azstorage.New(clients, azstorage.Options{TaskHub: hub, PartitionCount: 1, Logger: app.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	client := durable.NewClient(other, nil)
	// Idle long enough for the empty-poll backoff to pass 12 s.
	time.Sleep(15 * time.Second)
	if _, err := client.StartNew(ctx, "Nothing", nil, durable.WithInstanceID("woken")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.Post(base+"/"+WakeUpFunction, "application/json",
		strings.NewReader(`{"Data":{"wakeup":"eyJ0YXNrSHViIjoiIn0="},"Metadata":{"DequeueCount":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("wake-up invocation: %d %s", resp.StatusCode, body)
	}
	for {
		st, err := client.GetStatus(ctx, "woken")
		if err != nil {
			t.Fatal(err)
		}
		if st.RuntimeStatus == durable.StatusCompleted {
			break
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("the instance is %s %v after the wake-up invocation; the worker did not poll at once", st.RuntimeStatus, time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("ran %v after the wake-up invocation", time.Since(start))
}
