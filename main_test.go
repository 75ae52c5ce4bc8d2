package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/internal/testazurite"
	"github.com/godurable/functions/internal/testsupport"
)

// These tests play the Functions host: they build the handler binary, start
// it with the environment the host gives a custom handler (port, app root,
// app settings), wait for the readiness probe and send it requests, with a
// real Azurite behind it.

func TestMain(m *testing.M) { os.Exit(testazurite.Main(m)) }

type app struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string
	hub     string
	clients *azstorage.Clients
	logs    *testsupport.SyncBuffer
	exited  chan error
}

var builtBinary string

func buildBinary(t *testing.T) string {
	t.Helper()
	if builtBinary != "" {
		return builtBinary
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("funcapp-test-%d", os.Getpid()))
	cmd := exec.Command("go", "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	builtBinary = out
	return out
}

// startApp starts the handler as the host would and waits for GET / to
// answer.
func startApp(t *testing.T, hub string, extraEnv ...string) *app {
	t.Helper()
	bin := buildBinary(t)
	port, err := testazurite.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := testazurite.RepoRoot()
	conn := testazurite.Shared(t).ConnectionString()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port),
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID=test",
		"FUNCTIONS_APP_ROOT_PATH="+root,
		"FUNCTIONS_WORKER_RUNTIME=custom",
		"AzureWebJobsStorage="+conn,
		"DURABLE_TASK_HUB="+hub,
		"LOG_LEVEL=debug",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	a := &app{t: t, cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), hub: hub, logs: &testsupport.SyncBuffer{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = a.logs, a.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("handler output:\n%s", a.logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(a.base + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handler not ready: %v\n%s", err, a.logs.String())
		}
		time.Sleep(25 * time.Millisecond) // the host probes every 25 ms
	}
	acct, err := azstorage.ParseConnectionString("AzureWebJobsStorage", conn)
	if err != nil {
		t.Fatal(err)
	}
	if a.clients, err = azstorage.NewClients(acct, azstorage.ClientOptions{}); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *app) do(method, path, body string, hdr ...string) (int, http.Header, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func uniqueHub(prefix string) string {
	return prefix + time.Now().Format("150405") + strconv.Itoa(os.Getpid()%1000)
}

// historyTypes reads the History rows of an instance with the raw SDK.
func (a *app) historyTypes(id string) []string {
	a.t.Helper()
	var types []string
	for _, row := range a.historyRows(id) {
		types = append(types, row["EventType"].(string))
	}
	return types
}

// historyRows reads the History rows of an instance (the sentinel left
// out) with the raw SDK.
func (a *app) historyRows(id string) []map[string]any {
	a.t.Helper()
	filter := "PartitionKey eq '" + azstorage.EscapePartitionKey(id) + "'"
	p := a.clients.Table.NewClient(a.hub + "History").NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
	var rows []map[string]any
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			a.t.Fatal(err)
		}
		for _, raw := range page.Entities {
			var row map[string]any
			_ = json.Unmarshal(raw, &row)
			if row["RowKey"] != "sentinel" {
				rows = append(rows, row)
			}
		}
	}
	return rows
}

func TestHelloCitiesThroughTheHostProtocol(t *testing.T) {
	a := startApp(t, uniqueHub("E2E"))
	code, hdr, body := a.do("POST", "/api/orchestrators/HelloCities", "", "Host", "myapp.example:7071")
	if code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, body)
	}
	var cs map[string]string
	if err := json.Unmarshal(body, &cs); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "rewindPostUri", "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"} {
		if cs[k] == "" {
			t.Fatalf("check-status payload lacks %s: %s", k, body)
		}
	}
	if hdr.Get("Location") != cs["statusQueryGetUri"] || hdr.Get("Retry-After") != "10" ||
		!strings.HasPrefix(cs["statusQueryGetUri"], "http://myapp.example:7071/api/durabletask/instances/"+cs["id"]+"?taskHub="+a.hub) {
		t.Fatalf("Location %q Retry-After %q status URL %q", hdr.Get("Location"), hdr.Get("Retry-After"), cs["statusQueryGetUri"])
	}
	statusPath := strings.TrimPrefix(cs["statusQueryGetUri"], "http://myapp.example:7071")
	deadline := time.Now().Add(20 * time.Second)
	var st map[string]any
	for {
		code, _, body = a.do("GET", statusPath, "")
		if code == http.StatusOK {
			_ = json.Unmarshal(body, &st)
			break
		}
		if code != http.StatusAccepted || time.Now().After(deadline) {
			t.Fatalf("status: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, _ := json.Marshal(st["output"])
	if st["runtimeStatus"] != "Completed" || string(out) != `["Hello Tokyo!","Hello Seattle!","Hello London!"]` || st["name"] != "HelloCities" {
		t.Fatalf("status = %s", body)
	}
	want := "OrchestratorStarted,ExecutionStarted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,TaskScheduled,OrchestratorCompleted," +
		"OrchestratorStarted,TaskCompleted,ExecutionCompleted,OrchestratorCompleted"
	if got := strings.Join(a.historyTypes(cs["id"]), ","); got != want {
		t.Fatalf("History rows:\n got %s\nwant %s", got, want)
	}
	// The same status under the standalone webhook path.
	code, _, body = a.do("GET", "/runtime/webhooks/durabletask/instances/"+cs["id"], "")
	if code != http.StatusOK || !strings.Contains(string(body), `"runtimeStatus":"Completed"`) {
		t.Fatalf("webhook status: %d %s", code, body)
	}
}

// Bad requests get a 4xx with a JSON message and write nothing.
func TestBadInputChangesNothing(t *testing.T) {
	a := startApp(t, uniqueHub("Bad"))
	time.Sleep(300 * time.Millisecond) // the task hub exists once the worker runs
	before := a.storageFootprint()
	cases := []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"POST", "/api/orchestrators/NoSuchOrchestrator", "", 400, "doesn't exist"},
		{"POST", "/api/orchestrators/HelloCities", "{not json", 400, "Invalid JSON content"},
		{"POST", "/runtime/webhooks/durabletask/orchestrators/HelloCities/id1", `{"a":`, 400, "Invalid JSON content"},
		{"POST", "/api/orchestrators/HelloCities?timeout=abc&pollingInterval=1", "", 400, "timeout"},
		{"GET", "/api/durabletask/instances/no-such-instance?showHistory=maybe", "", 400, "showHistory"},
	}
	for _, c := range cases {
		code, hdr, body := a.do(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(string(body), c.msg) || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %s (want %d with %q)", c.method, c.path, code, body, c.code, c.msg)
		}
	}
	if code, _, body := a.do("GET", "/api/durabletask/instances/no-such-instance", ""); code != 404 || len(body) != 0 {
		t.Errorf("unknown instance: %d %q", code, body)
	}
	if after := a.storageFootprint(); after != before {
		t.Fatalf("storage changed: before %s, after %s", before, after)
	}
}

// storageFootprint counts Instances rows and queued messages of the hub.
func (a *app) storageFootprint() string {
	ctx := context.Background()
	rows := 0
	p := a.clients.Table.NewClient(a.hub + "Instances").NewListEntitiesPager(nil)
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		rows += len(page.Entities)
	}
	msgs := 0
	lc := strings.ToLower(a.hub)
	for _, q := range []string{lc + "-control-00", lc + "-control-01", lc + "-control-02", lc + "-control-03", lc + "-workitems"} {
		props, err := a.clients.Queue.NewQueueClient(q).GetProperties(ctx, nil)
		if err == nil && props.ApproximateMessagesCount != nil {
			msgs += int(*props.ApproximateMessagesCount)
		}
	}
	return fmt.Sprintf("%d instance rows, %d messages", rows, msgs)
}

// SIGTERM stops the handler cleanly and releases its partitions.
func TestGracefulShutdownReleasesPartitions(t *testing.T) {
	a := startApp(t, uniqueHub("Stop"), "DURABLE_WORKER_ID=stopper")
	deadline := time.Now().Add(10 * time.Second)
	for a.ownedBy("stopper") < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("worker did not claim its partitions: %s", a.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, a.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("handler did not stop within 20s of SIGTERM")
	}
	if n := a.ownedBy("stopper"); n != 0 {
		t.Fatalf("%d partitions still owned after shutdown", n)
	}
}

func (a *app) ownedBy(worker string) int {
	p := a.clients.Table.NewClient(a.hub + "Partitions").NewListEntitiesPager(nil)
	n := 0
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			return 0
		}
		for _, raw := range page.Entities {
			var row map[string]any
			_ = json.Unmarshal(raw, &row)
			if row["CurrentOwner"] == worker {
				n++
			}
		}
	}
	return n
}

// A missing connection string stops the handler with an error naming it.
func TestMissingConnectionStringIsAClearStartupError(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin)
	root, _ := testazurite.RepoRoot()
	port, _ := testazurite.FreePort()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AzureWebJobsStorage=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "FUNCTIONS_APP_ROOT_PATH="+root, "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "AzureWebJobsStorage") {
		t.Fatalf("want a failing start naming AzureWebJobsStorage; err %v, output:\n%s", err, out)
	}
}

func t0ctx() context.Context { return context.Background() }
