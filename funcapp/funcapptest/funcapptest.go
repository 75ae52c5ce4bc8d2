// Package funcapptest runs a funcapp app inside a test, over a real Azure
// Storage emulator (Azurite), so an app's tests can drive it over HTTP the
// way the Functions host and its callers do.
//
// Azurite comes from AZURITE_CONNECTION_STRING (an emulator already
// running), else from node_modules/.bin/azurite in the module's folder or
// one above it (npm install azurite), else from PATH (npm install -g
// azurite). Each test binary starts its own on free loopback ports:
//
//	func TestMain(m *testing.M) { os.Exit(funcapptest.Main(m)) }
//
//	func TestOrder(t *testing.T) {
//		app := funcapptest.Start(t, ".", setup)
//		resp, err := http.Post(app.URL+"/api/orchestrators/ProcessOrder", "application/json", body)
//		...
//	}
package funcapptest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godurable/functions/funcapp"
	"github.com/godurable/functions/handler"
	"github.com/godurable/functions/internal/testazurite"
)

// Azurite is a running Azure Storage emulator.
type Azurite struct{ s *testazurite.Server }

// StartAzurite starts an Azurite in memory on free loopback ports (or
// uses the one AZURITE_CONNECTION_STRING names).
func StartAzurite() (*Azurite, error) {
	s, err := testazurite.Start(testazurite.Options{})
	if err != nil {
		return nil, fmt.Errorf("funcapptest: start Azurite: %w", err)
	}
	return &Azurite{s: s}, nil
}

// ConnectionString is an account-key connection string for the emulator.
func (a *Azurite) ConnectionString() string { return a.s.ConnectionString() }

// Stop ends the emulator.
func (a *Azurite) Stop() error { return a.s.Stop() }

var shared *Azurite

// Main starts one Azurite for the test binary, runs the tests and stops
// it. Use it from TestMain: os.Exit(funcapptest.Main(m)).
func Main(m *testing.M) int {
	return testazurite.Run(m, StartAzurite, func(a *Azurite) { shared = a })
}

// Shared is the Azurite started by Main.
func Shared(t testing.TB) *Azurite {
	t.Helper()
	if shared == nil {
		t.Fatal("funcapptest: no Azurite: call funcapptest.Main from TestMain")
	}
	return shared
}

// App is an app running for a test.
type App struct {
	*funcapp.App
	// URL is the app's base URL, http://127.0.0.1:{port}.
	URL string
}

var hubs atomic.Int64

// Start runs an app in the test the way the Functions host would: host.json
// from appRoot, the storage connection pointing at the shared Azurite (see
// Main), a task hub of its own (DURABLE_TASK_HUB), a free port, and the
// given extra app settings as "NAME=value". setup registers the app's
// functions as it does for funcapp.Main. Start returns once the task hub
// exists and the app accepts requests; the app stops when the test ends.
func Start(t testing.TB, appRoot string, setup func(*funcapp.App) error, settings ...string) *App {
	t.Helper()
	env := map[string]string{
		"FUNCTIONS_APP_ROOT_PATH": appRoot,
		"DURABLE_TASK_HUB":        "Test" + time.Now().Format("150405") + strconv.Itoa(os.Getpid()%1000) + "x" + strconv.FormatInt(hubs.Add(1), 10),
		"LOG_LEVEL":               "warn",
	}
	for _, kv := range settings {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("funcapptest: setting %q is not NAME=value", kv)
		}
		env[k] = v
	}
	cfg, err := funcapp.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("funcapptest: %v", err)
	}
	if _, set := env[cfg.ConnectionName]; !set {
		env[cfg.ConnectionName] = Shared(t).ConnectionString()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testWriter{t: t}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: funcapp.ParseLogLevel(env["LOG_LEVEL"])}))
	a, err := funcapp.New(funcapp.Options{Getenv: func(k string) string { return env[k] }, Logger: log, Listener: ln})
	if err != nil {
		_ = ln.Close()
		t.Fatalf("funcapptest: %v", err)
	}
	if setup != nil {
		if err := setup(a); err != nil {
			_ = ln.Close()
			t.Fatalf("funcapptest: setup: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("funcapptest: app stopped with %v", err)
		}
		logs.stop()
	})
	// The durable HTTP API holds requests until the task hub exists.
	url := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 40 * time.Second}
	resp, err := client.Get(url + handler.WebhookBasePath + "/instances?top=1")
	if err != nil {
		t.Fatalf("funcapptest: app not ready: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("funcapptest: app not ready: the management API answers %s", resp.Status)
	}
	return &App{App: a, URL: url}
}

// testWriter sends log lines to the test log while the test runs.
type testWriter struct {
	t       testing.TB
	stopped atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.stopped.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() { w.stopped.Store(true) }
