package funcapp

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/internal/testazurite"
)

func TestPartitionAndAppLeaseSettings(t *testing.T) {
	load := func(sp, dt string, envs ...string) (*Config, error) {
		dir := t.TempDir()
		host := `{"extensions":{"durableTask":{` + dt + `"storageProvider":{` + sp + `}}}}`
		if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
			t.Fatal(err)
		}
		e := map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir}
		for i := 0; i+1 < len(envs); i += 2 {
			e[envs[i]] = envs[i+1]
		}
		return LoadConfig(env(e))
	}
	c, err := load(``, ``, "WEBSITE_SITE_NAME", "my-site")
	if err != nil {
		t.Fatal(err)
	}
	if c.PartitionManagement() != azstorage.TablePartitions || c.UseBase64QueueMessages || !c.UseAppLease || c.AppName != "my-site" ||
		c.AppLease != (azstorage.AppLeaseOptions{RenewInterval: 25 * time.Second, AcquireInterval: 300 * time.Second, LeaseInterval: 60 * time.Second}) {
		t.Fatalf("defaults: %+v", c)
	}
	if o := c.BackendOptions(nil); o.PartitionManagement != azstorage.TablePartitions || !o.UseAppLease || o.AppName != "my-site" || o.AppLease != c.AppLease {
		t.Fatalf("backend options: %+v", o)
	}

	c, err = load(`"useTablePartitionManagement":false`, `"useAppLease":false,"appLeaseOptions":{"renewInterval":"00:00:10","leaseInterval":"00:00:30"},`)
	if err != nil {
		t.Fatal(err)
	}
	if c.PartitionManagement() != azstorage.BlobLeases || !c.UseBase64QueueMessages || c.UseAppLease ||
		c.AppLease.RenewInterval != 10*time.Second || c.AppLease.LeaseInterval != 30*time.Second || c.AppLease.AcquireInterval != 300*time.Second {
		t.Fatalf("blob leases: %+v", c)
	}
	c, err = load(`"useTablePartitionManagement":false,"useBase64QueueMessages":false`, ``)
	if err != nil || c.UseBase64QueueMessages {
		t.Fatalf("explicit useBase64QueueMessages false: %+v %v", c, err)
	}
	c, err = load(`"useLegacyPartitionManagement":true`, ``)
	if err != nil || c.PartitionManagement() != azstorage.LegacyBlobLeases || !c.UseBase64QueueMessages {
		t.Fatalf("legacy: %+v %v", c, err)
	}
	_, err = load(`"useLegacyPartitionManagement":true,"useTablePartitionManagement":true`, ``)
	if err == nil || !strings.Contains(err.Error(), "useLegacyPartitionManagement") {
		t.Fatalf("both schemes: %v", err)
	}
}

func writeFunctionJSON(t *testing.T, root, fn, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, fn), 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, fn, "function.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// An app whose function.json declares a durable binding does not start:
// the error names the file and the binding.
func TestDurableBindingInFunctionJSONRefusesToStart(t *testing.T) {
	for _, typ := range []string{"orchestrationTrigger", "activityTrigger", "entityTrigger", "durableClient", "orchestrationClient", "DurableClient"} {
		root := t.TempDir()
		writeFunctionJSON(t, root, "Start", `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req"},{"type":"http","direction":"out","name":"res"}]}`)
		writeFunctionJSON(t, root, "Broken", `{"bindings":`)
		bad := writeFunctionJSON(t, root, "Orchestrate", `{"bindings":[{"type":"`+typ+`","direction":"in","name":"context"}]}`)
		settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": root, "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
		_, err := New(Options{Getenv: func(k string) string { return settings[k] }})
		var dbe *DurableBindingError
		if !errors.As(err, &dbe) || dbe.File != bad || dbe.Binding != typ || !strings.Contains(err.Error(), bad) {
			t.Fatalf("%s: New = %v, want a DurableBindingError naming %s", typ, err, bad)
		}
	}
}

// The repository's own sample app declares no durable binding.
func TestSampleAppFunctionJSONHasNoDurableBinding(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "*", "function.json"))
	if len(files) == 0 {
		t.Fatal("no function.json found next to the module root")
	}
	if err := CheckFunctionJSON("..", nil); err != nil {
		t.Fatal(err)
	}
}

func newTestApp(t *testing.T, hub, storageProvider string) (*App, net.Listener) {
	t.Helper()
	dir := t.TempDir()
	host := `{"version":"2.0","extensions":{"durableTask":{"hubName":"%HUB%","storageProvider":{"connectionStringName":"Store",` +
		`"maxQueuePollingInterval":"00:00:01","partitionLeaseAcquireInterval":"00:00:01"` + storageProvider + `}}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "HUB": hub, "Store": testazurite.Shared(t).ConnectionString()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app, err := New(Options{Getenv: func(k string) string { return settings[k] }, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	return app, ln
}

// An app configured for blob leases runs an orchestration on a hub it
// creates; an app configured for table partitions then refuses that hub
// at once instead of retrying, naming the mismatch.
func TestBlobLeaseAppAndMismatchedApp(t *testing.T) {
	hub := "Blob" + time.Now().Format("150405")
	app, _ := newTestApp(t, hub, `,"useTablePartitionManagement":false`)
	if err := app.Registry().AddOrchestrator("Echo", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (string, error) {
		return in, nil
	})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var id string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		if id == "" {
			id, err = app.Client().StartNew(ctx, "Echo", "hi")
		}
		if err == nil {
			st, serr := app.Client().GetStatus(ctx, id)
			if serr == nil && st.RuntimeStatus == durable.StatusCompleted {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the orchestration did not complete on a blob lease hub (id %q, %v)", id, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	other, _ := newTestApp(t, hub, ``)
	start := time.Now()
	err := other.Run(context.Background())
	if !errors.Is(err, azstorage.ErrPartitionSchemeMismatch) {
		t.Fatalf("Run on a blob lease hub with table partitions = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refusal took %v (retried?)", d)
	}
}
