package azstorage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/internal/testazurite"
)

// recoveryOptions are chaosOptions, or with DURABLE_CHAOS_DEFAULT_TIMINGS=1
// (make chaos) the production defaults: 30 s leases and visibility, a
// 10 s acquire interval, polls up to 30 s apart.
func recoveryOptions(o *Options) {
	if os.Getenv("DURABLE_CHAOS_DEFAULT_TIMINGS") == "" {
		chaosOptions(o)
		return
	}
	o.MaxPollingInterval = 0 // newTestBackend's 200 ms back to the default
}

// workerProcessEnv carries the hub and worker id to a worker process.
const workerProcessEnv = "AZSTORAGE_TEST_WORKER"

type workerProcessConfig struct {
	Hub, WorkerID string
}

// slowRegistry has SlowCities: three activities of 300 ms each, so that
// a killed worker dies with work in flight.
func slowRegistry(t testing.TB) *durable.Registry {
	r := durable.NewRegistry()
	if err := r.AddActivity("SlowHello", durable.Activity(func(ctx context.Context, city string) (string, error) {
		time.Sleep(300 * time.Millisecond)
		return "Hello " + city + "!", nil
	})); err != nil {
		t.Fatal(err)
	}
	if err := r.AddOrchestrator("SlowCities", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		out := ""
		for _, c := range []string{"Tokyo", "Seattle", "London"} {
			s, err := durable.CallActivity[string](ctx, "SlowHello", c).Await()
			if err != nil {
				return "", err
			}
			out += s
		}
		return out, nil
	})); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestWorkerProcess is not a test of its own: the kill tests run the test
// binary again with workerProcessEnv set, and this is the worker they
// start and kill.
func TestWorkerProcess(t *testing.T) {
	raw := os.Getenv(workerProcessEnv)
	if raw == "" {
		t.Skip("the worker process of the kill tests; it runs only when they start it")
	}
	var cfg workerProcessConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	opts := Options{TaskHub: cfg.Hub, PartitionCount: 4, WorkerID: cfg.WorkerID, Logger: testLogger(t)}
	recoveryOptions(&opts)
	b, err := New(testClients(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	w := durable.NewWorker(b, slowRegistry(t), durable.WorkerOptions{Logger: testLogger(t)})
	if err := w.Run(context.Background()); err != nil { // until killed
		t.Fatal(err)
	}
}

// workerProcess is a worker running in a process of its own.
type workerProcess struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startWorkerProcess(t *testing.T, hub, workerID string) *workerProcess {
	t.Helper()
	raw, _ := json.Marshal(workerProcessConfig{Hub: hub, WorkerID: workerID})
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), workerProcessEnv+"="+string(raw),
		"AZURITE_CONNECTION_STRING="+testazurite.Shared(t).ConnectionString())
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProcess{cmd: cmd, out: out}
	t.Cleanup(func() { w.kill() })
	return w
}

// kill ends the process at once (SIGKILL): nothing is released.
func (w *workerProcess) kill() {
	if w.cmd.ProcessState == nil {
		_ = w.cmd.Process.Kill()
		_ = w.cmd.Wait()
	}
}

// owners counts the partitions each worker owns.
func owners(t *testing.T, b *Backend) map[string]int {
	t.Helper()
	rows, err := b.queryRows(context.Background(), b.names.PartitionsTable(), "PartitionKey eq ''", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range rows {
		if l := leaseFromRow(r); l.CurrentOwner != "" && time.Now().Before(l.ExpiresAt) {
			n[l.CurrentOwner]++
		}
	}
	return n
}

// One of two workers is killed while instances run (its partitions,
// dequeued messages, in-process hand-overs and running activities die
// with it); or it is killed and started again at once under the same
// worker id. Either way every instance completes within 60 s of the kill.
func TestKilledWorkerRecoversWithinSeconds(t *testing.T) {
	for _, restart := range []bool{false, true} {
		name := "the other worker takes over"
		if restart {
			name = "restarted at once with the same worker id"
		}
		t.Run(name, func(t *testing.T) {
			b := newTestBackend(t, recoveryOptions) // the client's; never started
			hub := b.opts.TaskHub
			startWorkerProcess(t, hub, "worker-a")
			victim := startWorkerProcess(t, hub, "worker-b")
			deadline := time.Now().Add(2 * time.Minute)
			for o := owners(t, b); o["worker-a"] != 2 || o["worker-b"] != 2; o = owners(t, b) {
				if time.Now().After(deadline) {
					t.Fatalf("partitions not shared after 2 minutes: %v\n%s", o, victim.out)
				}
				time.Sleep(200 * time.Millisecond)
			}
			c := durable.NewClient(b, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var ids []string
			for i := 0; i < 40; i++ {
				id := fmt.Sprintf("kill-%d", i)
				if _, err := c.StartNew(ctx, "SlowCities", nil, durable.WithInstanceID(id)); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			time.Sleep(700 * time.Millisecond) // work in flight on both workers
			victim.kill()
			killed := time.Now()
			if restart {
				startWorkerProcess(t, hub, "worker-b")
			}
			var mu sync.Mutex
			var last time.Duration
			var wg sync.WaitGroup
			for _, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st, err := c.WaitForCompletion(ctx, id, durable.WithoutInput())
					if err != nil || st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != `"Hello Tokyo!Hello Seattle!Hello London!"` {
						t.Errorf("%s: %+v %v", id, st, err)
						return
					}
					mu.Lock()
					last = max(last, time.Since(killed))
					mu.Unlock()
				}()
			}
			wg.Wait()
			t.Logf("%s: the last of %d instances completed %v after the kill", name, len(ids), last.Round(100*time.Millisecond))
			if last > 60*time.Second {
				t.Errorf("the last instance completed %v after the kill, want within 60 s", last)
			}
		})
	}
}
