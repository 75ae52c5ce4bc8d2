package funcapptest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/funcapp"
	"github.com/godurable/functions/funcapp/funcapptest"
)

func TestMain(m *testing.M) { os.Exit(funcapptest.Main(m)) }

var double = durable.NewOrchestrator("Double", func(_ *durable.OrchestrationContext, n int) (int, error) { return 2 * n, nil })

// Start honours the app's host.json and extra settings, and the app
// answers over HTTP as soon as Start returns.
func TestStartRunsTheAppFromItsHostJSON(t *testing.T) {
	dir := t.TempDir()
	host := `{"version":"2.0","extensions":{"http":{"routePrefix":"fn"},"durableTask":{"storageProvider":{"partitionCount":1}}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	app := funcapptest.Start(t, dir, func(a *funcapp.App) error { return a.Register(double) }, "DURABLE_WORKER_ID=tester")
	if cfg := app.Config(); cfg.PartitionCount != 1 || cfg.RoutePrefix != "fn" || cfg.WorkerID != "tester" {
		t.Fatalf("config %+v", cfg)
	}
	resp, err := http.Post(app.URL+"/fn/orchestrators/Double", "application/json", strings.NewReader("21"))
	if err != nil {
		t.Fatal(err)
	}
	var links map[string]string
	err = json.NewDecoder(resp.Body).Decode(&links)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %d %v", resp.StatusCode, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := app.Client().WaitForCompletion(ctx, links["id"])
	if err != nil {
		t.Fatal(err)
	}
	if out, err := double.Output(st); err != nil || out != 42 {
		t.Fatalf("output %v %v", out, err)
	}
}
