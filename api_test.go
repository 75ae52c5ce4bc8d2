package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestListAndPurgeInstances(t *testing.T) {
	a := startApp(t, uniqueHub("List"))
	start := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, a.startOrchestration("HelloCities", "list-"+string(rune('a'+i)), ""))
	}
	crash := a.startOrchestration("Crash", "list-crash", "")
	for _, id := range append(ids, crash) {
		a.waitDone(id, 20*time.Second)
	}
	// Paging with x-ms-continuation-token, following it as the npm client does.
	seen := map[string]bool{}
	token := ""
	pages := 0
	for {
		code, hdr, body := a.do("GET", "/api/durabletask/instances?top=2&instanceIdPrefix=list-", "", "x-ms-continuation-token", token)
		if code != 200 {
			t.Fatalf("list: %d %s", code, body)
		}
		if _, ok := hdr["X-Ms-Continuation-Token"]; !ok {
			t.Fatal("the continuation header must always be present")
		}
		var page []map[string]any
		_ = json.Unmarshal(body, &page)
		for _, st := range page {
			seen[st["instanceId"].(string)] = true
			if _, ok := st["input"]; !ok {
				t.Fatalf("status without input key: %v", st)
			}
		}
		pages++
		token = hdr.Get("X-Ms-Continuation-Token")
		if token == "" {
			break
		}
	}
	if len(seen) != 6 || pages < 3 {
		t.Fatalf("saw %d instances in %d pages", len(seen), pages)
	}
	code, _, body := a.do("GET", "/api/durabletask/instances?runtimeStatus=Failed&createdTimeFrom="+url.QueryEscape(start), "")
	var failed []map[string]any
	_ = json.Unmarshal(body, &failed)
	if code != 200 || len(failed) != 1 || failed[0]["instanceId"] != crash {
		t.Fatalf("Failed filter: %d %s", code, body)
	}
	for _, bad := range []string{"runtimeStatus=Finished", "createdTimeFrom=yesterday", "top=zero", "showInput=1"} {
		if code, _, body := a.do("GET", "/api/durabletask/instances?"+bad, ""); code != 400 {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}

	// Purge one: 200 then 404, and its rows are gone.
	if code, _, body := a.do("DELETE", "/api/durabletask/instances/"+ids[0], ""); code != 200 || string(body) != `{"instancesDeleted":1}` {
		t.Fatalf("purge: %d %s", code, body)
	}
	if code, _, _ := a.do("DELETE", "/api/durabletask/instances/"+ids[0], ""); code != 404 {
		t.Fatalf("second purge: %d", code)
	}
	if n := len(a.historyTypes(ids[0])); n != 0 {
		t.Fatalf("%d history rows left after purge", n)
	}
	if code, _, _ := a.do("GET", "/api/durabletask/instances/"+ids[0], ""); code != 404 {
		t.Fatalf("status after purge: %d", code)
	}
	// Purge by filter.
	if code, _, body := a.do("DELETE", "/api/durabletask/instances", ""); code != 400 || !strings.Contains(string(body), "createdTimeFrom") {
		t.Fatalf("purge without createdTimeFrom: %d %s", code, body)
	}
	if code, _, body := a.do("DELETE", "/api/durabletask/instances?runtimeStatus=Completed&createdTimeFrom="+url.QueryEscape(start), ""); code != 200 || string(body) != `{"instancesDeleted":4}` {
		t.Fatalf("purge by filter: %d %s", code, body)
	}
	if code, _, _ := a.do("DELETE", "/api/durabletask/instances?runtimeStatus=Completed&createdTimeFrom="+url.QueryEscape(start), ""); code != 404 {
		t.Fatalf("purge of nothing: %d", code)
	}
}

func TestRewindAndRestart(t *testing.T) {
	a := startApp(t, uniqueHub("Rewind"))
	id := a.startOrchestration("CallFlaky", "flaky-rewind", `{"failTimes":1}`)
	if st := a.waitDone(id, 20*time.Second); st.RuntimeStatus != "Failed" {
		t.Fatalf("first run: %s", st.RuntimeStatus)
	}
	if code, _, _ := a.do("POST", "/api/durabletask/instances/nobody/rewind", ""); code != 404 {
		t.Fatalf("rewind unknown: %d", code)
	}
	if code, _, body := a.do("POST", "/api/durabletask/instances/"+id+"/rewind?reason=again", ""); code != 202 {
		t.Fatalf("rewind: %d %s", code, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, st := a.status(id, "")
		if code == 200 && st.RuntimeStatus == "Completed" {
			if string(st.Output) != "2" {
				t.Fatalf("after rewind: %s", st.Output)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rewound instance did not complete: %d %s\n%s", code, st.RuntimeStatus, a.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _, _ := a.do("POST", "/api/durabletask/instances/"+id+"/rewind", ""); code != 412 {
		t.Fatalf("rewind of a completed instance: %d, want 412", code)
	}

	h := a.startOrchestration("HelloCities", "restart-me", `{"x":1}`)
	a.waitDone(h, 20*time.Second)
	code, _, body := a.do("POST", "/api/durabletask/instances/"+h+"/restart", "")
	var cs map[string]string
	_ = json.Unmarshal(body, &cs)
	if code != 202 || cs["id"] == "" || cs["id"] == h {
		t.Fatalf("restart: %d %s", code, body)
	}
	if st := a.waitDone(cs["id"], 20*time.Second); st.RuntimeStatus != "Completed" {
		t.Fatalf("restarted: %s", st.RuntimeStatus)
	}
	code, _, body = a.do("POST", "/api/durabletask/instances/"+h+"/restart?restartWithNewInstanceId=false", "")
	_ = json.Unmarshal(body, &cs)
	if code != 202 || cs["id"] != h {
		t.Fatalf("restart with the same id: %d %s", code, body)
	}
	if code, _, _ := a.do("POST", "/api/durabletask/instances/nobody/restart", ""); code != 400 {
		t.Fatalf("restart unknown: %d", code)
	}
}

func TestAPIKeyIsEnforced(t *testing.T) {
	a := startApp(t, uniqueHub("Keys"), "DURABLE_API_KEY=s3cret")
	if code, _, _ := a.do("POST", "/api/orchestrators/HelloCities", ""); code != http.StatusUnauthorized {
		t.Fatalf("no key: %d", code)
	}
	if code, _, _ := a.do("GET", "/runtime/webhooks/durabletask/instances/x?code=wrong", ""); code != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", code)
	}
	code, _, body := a.do("POST", "/api/orchestrators/HelloCities", "", "x-functions-key", "s3cret")
	var cs map[string]string
	_ = json.Unmarshal(body, &cs)
	if code != 202 || !strings.HasSuffix(cs["statusQueryGetUri"], "&code=s3cret") {
		t.Fatalf("with key: %d %s", code, body)
	}
	u, _ := url.Parse(cs["statusQueryGetUri"])
	if code, _, _ := a.do("GET", u.RequestURI(), ""); code != 200 && code != 202 {
		t.Fatalf("the generated URL must work as is: %d", code)
	}
	if code, _, _ := a.do("GET", "/", ""); code != 200 {
		t.Fatalf("health must stay open: %d", code)
	}
}

// The host's queue and timer invocations, with the payloads of the custom
// handler protocol.
func TestQueueAndTimerClientFunctions(t *testing.T) {
	a := startApp(t, uniqueHub("Invoke"))
	msg := `{"Data":{"order":"{\"id\":\"1005\",\"item\":\"book\",\"quantity\":2}"},` +
		`"Metadata":{"DequeueCount":"1","Id":"\"a1\"","sys":{"MethodName":"StartFromQueue","UtcNow":"2024-05-01T12:00:00Z","RandGuid":"g"}}}`
	code, _, body := a.do("POST", "/StartFromQueue", msg, "Content-Type", "application/json; charset=utf-8", "X-Azure-Functions-InvocationId", "inv-1")
	if code != 200 || !strings.Contains(string(body), `"ReturnValue":{"instanceId":"order-1005"}`) {
		t.Fatalf("StartFromQueue: %d %s", code, body)
	}
	if st := a.waitDone("order-1005", 20*time.Second); st.RuntimeStatus != "Completed" || string(st.Output) != `{"orderId":"1005","status":"reserved 2 x book"}` {
		t.Fatalf("ProcessOrder: %s %s", st.RuntimeStatus, st.Output)
	}
	// A redelivered message does not start a second instance.
	if code, _, body := a.do("POST", "/StartFromQueue", msg); code != 200 {
		t.Fatalf("redelivery: %d %s", code, body)
	}
	if code, _, _ := a.do("POST", "/StartFromQueue", `{"Data":{"order":"not json"},"Metadata":{}}`); code != 500 {
		t.Fatalf("bad message: %d, want 500 (the host retries, then poisons it)", code)
	}
	timer := `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"PurgeOldInstances"}}}`
	code, _, body = a.do("POST", "/PurgeOldInstances", timer)
	if code != 200 || !strings.Contains(string(body), "purged 0 instances") {
		t.Fatalf("PurgeOldInstances: %d %s", code, body)
	}
	b := startApp(t, a.hub+"P", "DURABLE_PURGE_AFTER=0.00:00:00.001")
	id := b.startOrchestration("HelloCities", "", "")
	b.waitDone(id, 20*time.Second)
	time.Sleep(50 * time.Millisecond)
	code, _, body = b.do("POST", "/PurgeOldInstances", timer)
	if code != 200 || !strings.Contains(string(body), "purged 1 instances") {
		t.Fatalf("PurgeOldInstances with a short age: %d %s", code, body)
	}
	if code, _ := b.status(id, ""); code != 404 {
		t.Fatalf("purged instance still there: %d", code)
	}
}

func TestEntityRoutes(t *testing.T) {
	a := startApp(t, uniqueHub("Ent"))
	if code, _, _ := a.do("GET", "/api/durabletask/entities/counter/http1", ""); code != 404 {
		t.Fatalf("unknown entity: %d", code)
	}
	for i := 0; i < 3; i++ {
		if code, _, body := a.do("POST", "/api/durabletask/entities/Counter/http1?op=add", "4", "Content-Type", "application/json"); code != 202 {
			t.Fatalf("signal: %d %s", code, body)
		}
	}
	if code, _, body := a.do("POST", "/api/durabletask/entities/Counter/http1?op=add", "{bad", "Content-Type", "application/json"); code != 400 {
		t.Fatalf("bad JSON signal: %d %s", code, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _, body := a.do("GET", "/runtime/webhooks/durabletask/entities/counter/http1", "")
		if code == 200 && string(body) == "12" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("entity state: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, _, _ = a.do("POST", "/api/durabletask/entities/Counter/http2?op=add", "1", "Content-Type", "application/json")
	time.Sleep(500 * time.Millisecond)
	code, _, body := a.do("GET", "/api/durabletask/entities/counter?fetchState=true", "")
	var list []struct {
		EntityID struct{ Name, Key string } `json:"entityId"`
		State    json.RawMessage            `json:"state"`
	}
	_ = json.Unmarshal(body, &list)
	if code != 200 || len(list) != 2 || list[0].EntityID.Name != "counter" || list[0].EntityID.Key != "http1" || string(list[0].State) != "12" {
		t.Fatalf("list: %d %s", code, body)
	}
	if code, _, _ := a.do("DELETE", "/api/durabletask/entities/counter/http2", ""); code != 202 {
		t.Fatalf("delete: %d", code)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		if code, _, _ := a.do("GET", "/api/durabletask/entities/counter/http2", ""); code == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("deleted entity still readable")
		}
		time.Sleep(100 * time.Millisecond)
	}
	id := a.startOrchestration("CounterWorkflow", "", `{"from":"http1","to":"http3","amount":5}`)
	if st := a.waitDone(id, 20*time.Second); st.RuntimeStatus != "Completed" || string(st.Output) != "[7,5]" {
		t.Fatalf("CounterWorkflow: %s %s", st.RuntimeStatus, st.Output)
	}
}
