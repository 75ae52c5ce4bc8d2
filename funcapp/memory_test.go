package funcapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
)

// DURABLE_STORAGE=memory runs the app without any storage (and without a
// connection string), warning that nothing is durable.
func TestAppRunsInMemory(t *testing.T) {
	dir := t.TempDir()
	settings := map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "DURABLE_STORAGE": "memory"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	app, err := New(Options{Getenv: func(k string) string { return settings[k] }, Listener: ln,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if !app.Config().InMemory || app.Backend() != nil || !strings.Contains(logs.String(), "NOT durable") {
		t.Fatalf("in-memory app: config %+v, backend %v, logs %s", app.Config(), app.Backend(), logs.String())
	}
	greet := durable.NewOrchestrator("MemGreet", func(ctx *durable.OrchestrationContext, name string) (string, error) {
		return "Hello " + name, nil
	})
	if err := app.Register(greet); err != nil {
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
	resp, err := http.Post("http://"+ln.Addr().String()+"/api/orchestrators/MemGreet", "application/json", strings.NewReader(`"memory"`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var started map[string]string
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(b, &started) != nil {
		t.Fatalf("start: %d %s", resp.StatusCode, b)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	st, err := app.Client().WaitForCompletion(wctx, started["id"])
	if err != nil || st.RuntimeStatus != durable.StatusCompleted || *st.Output != `"Hello memory"` {
		t.Fatalf("status %+v, %v", st, err)
	}
}
