package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startOrchestration starts an instance over HTTP and returns its id.
func (a *app) startOrchestration(name, id, input string) string {
	a.t.Helper()
	path := "/api/orchestrators/" + name
	if id != "" {
		path += "/" + id
	}
	// A 503 means storage was too slow or failed and nothing was started:
	// a client tries again after Retry-After, as the answer asks.
	code, hdr, body := a.do("POST", path, input, "Content-Type", "application/json")
	for try := 0; code == http.StatusServiceUnavailable && try < 5; try++ {
		wait, err := strconv.Atoi(hdr.Get("Retry-After"))
		if err != nil || wait <= 0 {
			a.t.Errorf("start %s: 503 without a Retry-After: %q", name, hdr.Get("Retry-After"))
			break
		}
		time.Sleep(min(time.Duration(wait)*time.Second, 2*time.Second))
		code, hdr, body = a.do("POST", path, input, "Content-Type", "application/json")
	}
	if code != http.StatusAccepted {
		a.t.Fatalf("start %s: %d %s", name, code, body)
	}
	var cs map[string]string
	_ = json.Unmarshal(body, &cs)
	return cs["id"]
}

type statusBody struct {
	Name          string           `json:"name"`
	RuntimeStatus string           `json:"runtimeStatus"`
	Output        json.RawMessage  `json:"output"`
	CustomStatus  json.RawMessage  `json:"customStatus"`
	HistoryEvents []map[string]any `json:"historyEvents"`
}

// status reads an instance's status.
func (a *app) status(id string, query string) (int, statusBody) {
	a.t.Helper()
	code, _, body := a.do("GET", "/runtime/webhooks/durabletask/instances/"+id+query, "")
	var st statusBody
	if code == 200 || code == 202 {
		if err := json.Unmarshal(body, &st); err != nil {
			a.t.Fatalf("status of %s: %v: %s", id, err, body)
		}
	}
	return code, st
}

// waitDone polls until the instance has finished.
func (a *app) waitDone(id string, within time.Duration) statusBody {
	a.t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, st := a.status(id, "")
		if code == http.StatusOK {
			return st
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%s did not finish within %v (last %d %s)\n%s", id, within, code, st.RuntimeStatus, a.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSamples(t *testing.T) {
	a := startApp(t, uniqueHub("Samples"))
	cases := []struct {
		name, input, status, output string
	}{
		{"FanOutFanIn", "50", "Completed", "42925"},
		{"Countdown", "5", "Completed", `"done"`},
		{"RetryFlaky", `{"failTimes":2}`, "Completed", "3"},
		{"CatchFailure", "", "Completed", `"caught: this activity always fails"`},
		{"ParentChild", "", "Completed", `["Hello Tokyo!","Hello Seattle!","Hello London!"]`},
		{"Sleeper", "2", "Completed", `"woke"`},
		{"Approval", `{"timeoutSeconds":2}`, "Completed", `"timed out"`},
	}
	ids := map[string]string{}
	for _, c := range cases {
		ids[c.name] = a.startOrchestration(c.name, "", c.input)
	}
	for _, c := range cases {
		st := a.waitDone(ids[c.name], 30*time.Second)
		if st.RuntimeStatus != c.status || string(st.Output) != c.output {
			t.Errorf("%s: %s %s, want %s %s", c.name, st.RuntimeStatus, st.Output, c.status, c.output)
		}
	}
	// Countdown leaves its last custom status; ParentChild's child has the requested id.
	if _, st := a.status(ids["Countdown"], ""); string(st.CustomStatus) != "0" {
		t.Errorf("Countdown custom status = %s", st.CustomStatus)
	}
	if code, st := a.status(ids["ParentChild"]+":child", ""); code != 200 || st.Name != "HelloCities" || st.RuntimeStatus != "Completed" {
		t.Errorf("child: %d %+v", code, st)
	}
	// The retry delays are durable timers in the history.
	_, st := a.status(ids["RetryFlaky"], "?showHistory=true")
	timers, failures := 0, 0
	for _, e := range st.HistoryEvents {
		switch e["EventType"] {
		case "TimerFired":
			timers++
		case "TaskFailed":
			failures++
		}
	}
	if timers != 2 || failures != 2 {
		t.Errorf("RetryFlaky history: %d timers, %d failures; want 2 and 2", timers, failures)
	}
}

func TestCrashFailsWithMessage(t *testing.T) {
	a := startApp(t, uniqueHub("Crash"))
	id := a.startOrchestration("Crash", "", "")
	st := a.waitDone(id, 20*time.Second)
	if st.RuntimeStatus != "Failed" || !strings.Contains(string(st.Output), "this activity always fails") {
		t.Fatalf("Crash: %s %s", st.RuntimeStatus, st.Output)
	}
	if code, _, _ := a.do("GET", "/api/durabletask/instances/"+id+"?returnInternalServerErrorOnFailure=true", ""); code != 500 {
		t.Fatalf("returnInternalServerErrorOnFailure: %d", code)
	}
}

func TestApprovalEventsAndCommands(t *testing.T) {
	a := startApp(t, uniqueHub("Approve"))
	yes := a.startOrchestration("Approval", "", `{"timeoutSeconds":60}`)
	no := a.startOrchestration("Approval", "", `{"timeoutSeconds":60}`)
	time.Sleep(500 * time.Millisecond)
	if code, _, body := a.do("POST", "/api/durabletask/instances/"+yes+"/raiseEvent/approval", "true", "Content-Type", "application/json"); code != 202 {
		t.Fatalf("raise: %d %s", code, body)
	}
	if code, _, _ := a.do("POST", "/api/durabletask/instances/"+no+"/raiseEvent/Approval", "false", "Content-Type", "text/plain"); code != 400 {
		t.Fatalf("text/plain body: %d, want 400", code)
	}
	_, _, _ = a.do("POST", "/api/durabletask/instances/"+no+"/raiseEvent/Approval", "false", "Content-Type", "application/json")
	if st := a.waitDone(yes, 20*time.Second); string(st.Output) != `"approved"` {
		t.Fatalf("approved: %s", st.Output)
	}
	if st := a.waitDone(no, 20*time.Second); string(st.Output) != `"rejected"` {
		t.Fatalf("rejected: %s", st.Output)
	}
	if code, _, _ := a.do("POST", "/api/durabletask/instances/"+yes+"/raiseEvent/Approval", "true", "Content-Type", "application/json"); code != 410 {
		t.Fatalf("raise on a finished instance: %d, want 410", code)
	}
	if code, _, _ := a.do("POST", "/api/durabletask/instances/nobody/terminate", ""); code != 404 {
		t.Fatalf("terminate unknown: %d, want 404", code)
	}

	// Suspend holds the event until resume; terminate ends an instance.
	s := a.startOrchestration("Approval", "", `{"timeoutSeconds":60}`)
	time.Sleep(300 * time.Millisecond)
	if code, _, _ := a.do("POST", "/api/durabletask/instances/"+s+"/suspend?reason=wait", ""); code != 202 {
		t.Fatalf("suspend: %d", code)
	}
	waitStatus(t, a, s, "Suspended")
	_, _, _ = a.do("POST", "/api/durabletask/instances/"+s+"/raiseEvent/Approval", "true", "Content-Type", "application/json")
	time.Sleep(700 * time.Millisecond)
	if _, st := a.status(s, ""); st.RuntimeStatus != "Suspended" {
		t.Fatalf("a suspended instance moved on: %s", st.RuntimeStatus)
	}
	if code, _, _ := a.do("POST", "/api/durabletask/instances/"+s+"/resume?reason=go", ""); code != 202 {
		t.Fatalf("resume: %d", code)
	}
	if st := a.waitDone(s, 20*time.Second); string(st.Output) != `"approved"` {
		t.Fatalf("after resume: %s %s", st.RuntimeStatus, st.Output)
	}
	term := a.startOrchestration("Approval", "", `{"timeoutSeconds":60}`)
	time.Sleep(300 * time.Millisecond)
	if code, _, _ := a.do("POST", "/api/durabletask/instances/"+term+"/terminate?reason=enough", ""); code != 202 {
		t.Fatalf("terminate: %d", code)
	}
	if st := a.waitDone(term, 20*time.Second); st.RuntimeStatus != "Terminated" || string(st.Output) != `"enough"` {
		t.Fatalf("terminated: %s %s", st.RuntimeStatus, st.Output)
	}
}

func waitStatus(t *testing.T, a *app, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, st := a.status(id, ""); st.RuntimeStatus == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became %s", id, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// appRootWithShortTimeouts writes a host.json whose visibility timeouts
// are seconds, so a killed worker's in-flight messages come back fast.
func appRootWithShortTimeouts(t *testing.T) string {
	dir := t.TempDir()
	host := `{"version":"2.0","extensions":{"durableTask":{"storageProvider":{"partitionCount":4,
	  "controlQueueVisibilityTimeout":"00:00:03","workItemQueueVisibilityTimeout":"00:00:03","maxQueuePollingInterval":"00:00:01"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Killing the handler with SIGKILL mid-run and starting it again loses
// nothing: FanOutFanIn, Approval and Sleeper all finish correctly.
func TestKillAndRestartMidRun(t *testing.T) {
	hub := uniqueHub("Kill")
	env := []string{"FUNCTIONS_APP_ROOT_PATH=" + appRootWithShortTimeouts(t), "DURABLE_WORKER_ID=killme"}
	a := startApp(t, hub, env...)
	fan := a.startOrchestration("FanOutFanIn", "", "300")
	appr := a.startOrchestration("Approval", "", `{"timeoutSeconds":120}`)
	sleep := a.startOrchestration("Sleeper", "", "4")
	time.Sleep(400 * time.Millisecond)
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.exited

	b := startApp(t, hub, env...)
	if code, _, body := b.do("POST", "/api/durabletask/instances/"+appr+"/raiseEvent/Approval", "true", "Content-Type", "application/json"); code != 202 {
		t.Fatalf("raise after restart: %d %s", code, body)
	}
	for id, want := range map[string]string{fan: "9045050", appr: `"approved"`, sleep: `"woke"`} {
		st := b.waitDone(id, 45*time.Second)
		if st.RuntimeStatus != "Completed" || string(st.Output) != want {
			t.Errorf("%s: %s %s, want %s", id, st.RuntimeStatus, st.Output, want)
		}
	}
	// No execution completed twice.
	for _, id := range []string{fan, appr, sleep} {
		n := 0
		for _, e := range b.historyTypes(id) {
			if e == "ExecutionCompleted" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s has %d ExecutionCompleted rows", id, n)
		}
	}
}

// CrossAppCaller in one app starts HelloCities in another app (a second
// handler process with its own task hub) over HTTP and polls it to the end.
func TestCrossAppCaller(t *testing.T) {
	remote := startApp(t, uniqueHub("Remote"))
	caller := startApp(t, uniqueHub("Caller"))
	in := `{"startUrl":"` + remote.base + `/api/orchestrators/HelloCities","pollSeconds":1}`
	id := caller.startOrchestration("CrossAppCaller", "", in)
	st := caller.waitDone(id, 30*time.Second)
	if st.RuntimeStatus != "Completed" || string(st.Output) != `["Hello Tokyo!","Hello Seattle!","Hello London!"]` {
		t.Fatalf("CrossAppCaller: %s %s", st.RuntimeStatus, st.Output)
	}
	if remote.hub == caller.hub {
		t.Fatal("the two apps must use different task hubs")
	}
}
