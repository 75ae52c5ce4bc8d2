package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// appRootForScaleOut has short lease and visibility timings, so ownership
// moves and a dead worker's messages come back within seconds.
func appRootForScaleOut(t *testing.T) string {
	dir := t.TempDir()
	host := `{"version":"2.0","extensions":{"durableTask":{"maxConcurrentOrchestratorFunctions":50,"storageProvider":{"partitionCount":4,
	  "controlQueueVisibilityTimeout":"00:00:04","workItemQueueVisibilityTimeout":"00:00:04","maxQueuePollingInterval":"00:00:01",
	  "partitionLeaseInterval":"00:00:04","partitionLeaseRenewInterval":"00:00:01","partitionLeaseAcquireInterval":"00:00:01"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(host), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// owners reads the Partitions table: control queue → current owner.
func (a *app) owners() map[string]string {
	out := map[string]string{}
	p := a.clients.Table.NewClient(a.hub + "Partitions").NewListEntitiesPager(nil)
	for p.More() {
		page, err := p.NextPage(t0ctx())
		if err != nil {
			return out
		}
		for _, raw := range page.Entities {
			var row map[string]any
			_ = json.Unmarshal(raw, &row)
			owner, _ := row["CurrentOwner"].(string)
			out[row["RowKey"].(string)] = owner
		}
	}
	return out
}

func countByOwner(m map[string]string) map[string]int {
	c := map[string]int{}
	for _, o := range m {
		c[o]++
	}
	return c
}

// A worker that stops gracefully hands its partitions over within seconds.
func TestGracefulHandover(t *testing.T) {
	hub := uniqueHub("Hand")
	root := appRootForScaleOut(t)
	a := startApp(t, hub, "FUNCTIONS_APP_ROOT_PATH="+root, "DURABLE_WORKER_ID=first")
	waitOwners(t, a, map[string]int{"first": 4})
	b := startApp(t, hub, "FUNCTIONS_APP_ROOT_PATH="+root, "DURABLE_WORKER_ID=second")
	waitOwners(t, a, map[string]int{"first": 2, "second": 2})
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	<-a.exited
	start := time.Now()
	waitOwners(t, b, map[string]int{"second": 4})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("handover took %v", took)
	}
	id := b.startOrchestration("HelloCities", "", "")
	if st := b.waitDone(id, 20*time.Second); st.RuntimeStatus != "Completed" {
		t.Fatalf("after handover: %s", st.RuntimeStatus)
	}
}

// Three workers share a hub: partitions spread one or two per worker; 300
// orchestrations run while one worker is killed and later restarted;
// every one completes once with the right output.
func TestThreeWorkersSurviveAKill(t *testing.T) {
	hub := uniqueHub("Scale")
	root := appRootForScaleOut(t)
	workers := make([]*app, 3)
	for i := range workers {
		workers[i] = startApp(t, hub, "FUNCTIONS_APP_ROOT_PATH="+root, "DURABLE_WORKER_ID=w"+strconv.Itoa(i))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c := countByOwner(workers[0].owners())
		if len(c) == 3 && c["w0"] >= 1 && c["w1"] >= 1 && c["w2"] >= 1 && c[""] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions did not spread over three workers: %v", workers[0].owners())
		}
		time.Sleep(200 * time.Millisecond)
	}
	type started struct{ id, want string }
	var mu sync.Mutex
	var all []started
	var wg sync.WaitGroup
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w := workers[i%2] // worker 2 is killed mid-run; it still owns partitions until then
			var s started
			if i%2 == 0 {
				s = started{w.startOrchestration("HelloCities", fmt.Sprintf("scale-h-%d", i), ""), `["Hello Tokyo!","Hello Seattle!","Hello London!"]`}
			} else {
				s = started{w.startOrchestration("FanOutFanIn", fmt.Sprintf("scale-f-%d", i), "10"), "385"}
			}
			mu.Lock()
			all = append(all, s)
			mu.Unlock()
		}(i)
		if i == 150 {
			_ = workers[2].cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	wg.Wait()
	<-workers[2].exited
	time.Sleep(2 * time.Second)
	workers[2] = startApp(t, hub, "FUNCTIONS_APP_ROOT_PATH="+root, "DURABLE_WORKER_ID=w2")
	for _, s := range all {
		st := workers[0].waitDone(s.id, 180*time.Second)
		if st.RuntimeStatus != "Completed" || string(st.Output) != s.want {
			t.Errorf("%s: %s %s", s.id, st.RuntimeStatus, st.Output)
		}
	}
	// Exactly-once in effect: one completion per instance, one result per task.
	for _, s := range all[:60] {
		// History rows as stored: each TaskCompleted names the TaskScheduled
		// it answers; no task may be answered twice.
		completions := 0
		seen := map[string]bool{}
		for _, row := range workers[0].historyRows(s.id) {
			switch row["EventType"] {
			case "ExecutionCompleted":
				completions++
			case "TaskCompleted":
				key := fmt.Sprint(row["ExecutionId"], "/", row["TaskScheduledId"])
				if seen[key] {
					t.Errorf("%s has a duplicate task result for task %s", s.id, key)
				}
				seen[key] = true
			}
		}
		if completions != 1 {
			t.Errorf("%s has %d ExecutionCompleted rows", s.id, completions)
		}
	}
}

func waitOwners(t *testing.T, a *app, want map[string]int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := countByOwner(a.owners())
		ok := len(got) == len(want)
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("owners = %v, want %v", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
