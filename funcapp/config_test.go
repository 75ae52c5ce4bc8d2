package funcapp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadReadsHostJSONAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	host := `{"version":"2.0","extensions":{"http":{"routePrefix":"/x/"},"DurableTask":{"HubName":"%HUB%",
	  "maxConcurrentActivityFunctions":7,"storeInputsInOrchestrationHistory":true,"storageProvider":{"partitionCount":2,"controlQueueVisibilityTimeout":"00:00:05",
	  "maxQueuePollingInterval":"00:00:01.5","connectionStringName":"MyStorage"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "HUB": "OrdersHub", "MyStorage": "UseDevelopmentStorage=true",
		"FUNCTIONS_CUSTOMHANDLER_PORT": "4321", "DURABLE_WORKER_ID": "w1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.TaskHub != "OrdersHub" || c.PartitionCount != 2 || c.Port != 4321 || c.ConnectionString != "UseDevelopmentStorage=true" ||
		c.ControlQueueVisibility != 5*time.Second || c.MaxQueuePollingInterval != 1500*time.Millisecond ||
		c.MaxConcurrentActivities != 7 || c.WorkerID != "w1" || c.RoutePrefix != "x" || c.WorkItemQueueVisibility != 30*time.Second ||
		!c.StoreInputsInOrchestrationHistory || !c.WorkerOptions(nil).StoreInputsInOrchestrationHistory {
		t.Fatalf("config = %+v", c)
	}
}

func TestDefaultsWithoutHostJSON(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := os.Hostname()
	if c.Port != 7071 || c.TaskHub != "TestHubName" || c.PartitionCount != 4 || c.ConnectionName != "AzureWebJobsStorage" ||
		!strings.HasPrefix(c.WorkerID, h+"-") || c.ControlQueueBatchSize != 32 || c.StoreInputsInOrchestrationHistory {
		t.Fatalf("config = %+v", c)
	}
}

func TestBadValuesAreNamed(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{"extensions":{"durableTask":{"storageProvider":{"partitionCount":"four","maxQueuePollingInterval":"30s"}}}}`), 0o644)
	_, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "FUNCTIONS_CUSTOMHANDLER_PORT": "http"}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"partitionCount", "maxQueuePollingInterval", "FUNCTIONS_CUSTOMHANDLER_PORT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{`), 0o644)
	if _, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir})); err == nil || !strings.Contains(err.Error(), "host.json") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseTimeSpan(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"00:05:00": 5 * time.Minute, "1.02:00:00": 26 * time.Hour, "00:00:00.25": 250 * time.Millisecond, "00:00:00.0000001": 100,
	} {
		got, err := ParseTimeSpan(in)
		if err != nil || got != want {
			t.Errorf("ParseTimeSpan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseTimeSpan("5m"); err == nil {
		t.Error("5m must be rejected")
	}
}

func TestDefaultHubName(t *testing.T) {
	for in, want := range map[string]string{"": "TestHubName", "my-app": "myapp", "1app": "t1app", "a": "aHub", "---": "DefaultTaskHub",
		strings.Repeat("x", 60): strings.Repeat("x", 45)} {
		if got := DefaultHubName(in); got != want {
			t.Errorf("DefaultHubName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDashboardSetting(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir}))
	if err != nil || !c.Dashboard {
		t.Fatalf("the dashboard is on by default: %v %v", c.Dashboard, err)
	}
	c, err = LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "DURABLE_DASHBOARD": "false"}))
	if err != nil || c.Dashboard {
		t.Fatalf("DURABLE_DASHBOARD=false: %v %v", c.Dashboard, err)
	}
	if _, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "DURABLE_DASHBOARD": "maybe"})); err == nil || !strings.Contains(err.Error(), "DURABLE_DASHBOARD") {
		t.Fatalf("a bad value must be named: %v", err)
	}
}

func TestEntityMessageReorderWindow(t *testing.T) {
	for host, want := range map[string]time.Duration{
		`{"version":"2.0"}`: 30 * time.Minute,
		`{"version":"2.0","extensions":{"durableTask":{"entityMessageReorderWindowInMinutes":5}}}`: 5 * time.Minute,
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir}))
		if err != nil || c.EntityMessageReorderWindow != want {
			t.Fatalf("%s: %v %v, want %v", host, c, err, want)
		}
	}
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{"extensions":{"durableTask":{"entityMessageReorderWindowInMinutes":0}}}`), 0o644)
	if _, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir})); err == nil || !strings.Contains(err.Error(), "entityMessageReorderWindowInMinutes") {
		t.Fatalf("a zero window: %v", err)
	}
}

// Every host.json key the app reads reaches the backend and the worker.
func TestEveryHostJSONKeyReachesBackendAndWorker(t *testing.T) {
	dir := t.TempDir()
	host := `{"extensions":{"durableTask":{"hubName":"Keys","maxConcurrentActivityFunctions":3,"maxConcurrentOrchestratorFunctions":5,
	  "entityMessageReorderWindowInMinutes":7,
	  "storageProvider":{"connectionName":"Conn","partitionCount":3,"controlQueueBatchSize":9,"controlQueueVisibilityTimeout":"00:01:00",
	    "workItemQueueVisibilityTimeout":"00:00:40","maxQueuePollingInterval":"00:00:02","useBase64QueueMessages":true,"maxDequeueCount":4,
	    "partitionLeaseInterval":"00:00:20","partitionLeaseRenewInterval":"00:00:05","partitionLeaseAcquireInterval":"00:00:06","workerId":"w9"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir, "Conn": "UseDevelopmentStorage=true"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ConnectionName != "Conn" || c.ConnectionString != "UseDevelopmentStorage=true" {
		t.Fatalf("connection %q=%q", c.ConnectionName, c.ConnectionString)
	}
	b := c.BackendOptions(nil)
	if b.TaskHub != "Keys" || b.PartitionCount != 3 || b.ControlQueueBatchSize != 9 || b.ControlQueueVisibility != time.Minute ||
		b.WorkItemQueueVisibility != 40*time.Second || b.MaxPollingInterval != 2*time.Second || !b.Base64Messages ||
		b.MaxDequeueCount != 4 || b.LeaseInterval != 20*time.Second || b.LeaseRenewInterval != 5*time.Second ||
		b.LeaseAcquireInterval != 6*time.Second || b.WorkerID != "w9" {
		t.Fatalf("backend options %+v", b)
	}
	w := c.WorkerOptions(nil)
	if w.MaxConcurrentActivities != 3 || w.MaxConcurrentOrchestrations != 5 || w.EntityMessageReorderWindow != 7*time.Minute ||
		w.ActivityRenewInterval != 20*time.Second {
		t.Fatalf("worker options %+v", w)
	}
}

// The versioning and extended-session settings reach the worker, the
// backend and the client.
func TestVersioningAndExtendedSessionSettings(t *testing.T) {
	dir := t.TempDir()
	host := `{"extensions":{"durableTask":{"defaultVersion":"2.1","versionMatchStrategy":"CurrentOrOlder","versionFailureStrategy":"Fail",
	  "extendedSessionsEnabled":true,"extendedSessionIdleTimeoutInSeconds":12}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir}))
	if err != nil {
		t.Fatal(err)
	}
	w := c.WorkerOptions(nil)
	if w.Versioning == nil || *w.Versioning != (durable.Versioning{DefaultVersion: "2.1", MatchStrategy: durable.VersionMatchCurrentOrOlder, FailureStrategy: durable.VersionFailureFail}) {
		t.Fatalf("worker versioning %+v", w.Versioning)
	}
	if !w.ExtendedSessions || w.ExtendedSessionIdleTimeout != 12*time.Second || c.BackendOptions(nil).ExtendedSessionIdleTimeout != 12*time.Second {
		t.Fatalf("extended sessions: worker %v %v, backend %v", w.ExtendedSessions, w.ExtendedSessionIdleTimeout, c.BackendOptions(nil).ExtendedSessionIdleTimeout)
	}

	// Without the keys there is no versioning and no extended sessions.
	c, err = LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.WorkerOptions(nil); w.Versioning != nil || w.ExtendedSessions {
		t.Fatalf("defaults: versioning %+v, extended sessions %v", w.Versioning, w.ExtendedSessions)
	}

	// Bad strategies are named.
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{"extensions":{"durableTask":{"versionMatchStrategy":"Newest","versionFailureStrategy":"Ignore"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadConfig(env(map[string]string{"FUNCTIONS_APP_ROOT_PATH": dir}))
	if err == nil || !strings.Contains(err.Error(), "Newest") || !strings.Contains(err.Error(), "Ignore") {
		t.Fatalf("bad strategies: %v", err)
	}
}
