package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/godurable/functions/durable"
)

type policyType = policy.Policy

// opCounter counts storage operations: one per HTTP request (a table
// batch included), counted once per call, not per retry. With kinds set
// it also counts them per kind of request (see opKind).
type opCounter struct {
	n       atomic.Int64
	perKind bool // set before the counter is used; kinds and spent are kept only then
	mu      sync.Mutex
	kinds   map[string]int64 // guarded by mu
	spent   map[string]time.Duration
}

func (c *opCounter) Do(req *policy.Request) (*http.Response, error) {
	c.n.Add(1)
	if !c.perKind {
		return req.Next()
	}
	var body []byte
	if b := req.Body(); b != nil && strings.HasSuffix(req.Raw().URL.Path, "$batch") {
		body, _ = io.ReadAll(b)
		_ = req.RewindBody()
	}
	k := opKind(req.Raw(), body)
	t0 := time.Now()
	resp, err := req.Next()
	c.add(k, time.Since(t0))
	return resp, err
}

// add counts one request of kind k that took d.
func (c *opCounter) add(k string, d time.Duration) {
	c.mu.Lock()
	c.kinds[k]++
	c.spent[k] += d
	c.mu.Unlock()
}

// takeKinds returns the per-kind counts since the last call and resets them.
func (c *opCounter) takeKinds() (map[string]int64, map[string]time.Duration) {
	if !c.perKind {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, sp := c.kinds, c.spent
	c.kinds, c.spent = map[string]int64{}, map[string]time.Duration{}
	return k, sp
}

// opKind names a storage request by service, resource and verb, e.g.
// "queue control enqueue", "table Instances read" (a point read),
// "table Instances query" or "table History batch" (the batch's body
// names the table; without it "table batch").
func opKind(r *http.Request, body []byte) string {
	path := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	if len(parts) > 0 && parts[0] == "devstoreaccount1" { // Azurite's path-style account
		parts = parts[1:]
	}
	res := ""
	if len(parts) > 0 {
		res = parts[0]
	}
	switch {
	case len(parts) >= 2 && parts[1] == "messages":
		q := "work-items"
		if strings.Contains(res, "-control-") {
			q = "control"
		}
		verb := map[string]string{http.MethodPost: "enqueue", http.MethodGet: "dequeue", http.MethodDelete: "delete", http.MethodPut: "update"}[r.Method]
		if r.Method == http.MethodGet && r.URL.Query().Get("peekonly") == "true" {
			verb = "peek"
		}
		return "queue " + q + " " + verb
	case res == "$batch":
		if m := batchTarget.FindSubmatch(body); m != nil {
			return "table " + tableKind(string(m[1])) + " batch"
		}
		return "table batch"
	case strings.HasSuffix(res, "()") && r.Method == http.MethodGet:
		return "table " + tableKind(res) + " query"
	case strings.Contains(res, "(") && r.Method == http.MethodGet:
		return "table " + tableKind(res) + " read"
	case strings.Contains(res, "("):
		return "table " + tableKind(res) + " " + strings.ToLower(r.Method)
	case r.Method == http.MethodGet && r.URL.Query().Get("comp") == "":
		return "table/blob " + tableKind(res) + " get"
	}
	return r.Method + " " + tableKind(res)
}

// batchTarget finds the first operation's URL in a table batch's body.
var batchTarget = regexp.MustCompile(`(?m)^(?:POST|PUT|MERGE|PATCH|DELETE|GET) (\S+) HTTP/1\.1`)

func tableKind(res string) string {
	for _, k := range []string{"History", "Instances", "Partitions", "largemessages", "leases"} {
		if strings.Contains(res, k) {
			return k
		}
	}
	return res
}

// stepClock records when each sequential step ran (W2).
type stepClock struct {
	mu    sync.Mutex
	times []time.Time
}

func (s *stepClock) mark() {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.mu.Unlock()
}

func (s *stepClock) reset() {
	s.mu.Lock()
	s.times = nil
	s.mu.Unlock()
}

func (s *stepClock) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g []time.Duration
	for i := 1; i < len(s.times); i++ {
		g = append(g, s.times[i].Sub(s.times[i-1]))
	}
	sort.Slice(g, func(i, j int) bool { return g[i] < g[j] })
	return g
}

func registerWorkloads(r *durable.Registry, steps *stepClock) error {
	return errors.Join(
		r.AddActivity("Hello", durable.Activity(func(ctx context.Context, s string) (string, error) { return "Hello " + s + "!", nil })),
		r.AddActivity("Step", durable.Activity(func(ctx context.Context, i int) (int, error) { steps.mark(); return i + 1, nil })),
		r.AddActivity("Square", durable.Activity(func(ctx context.Context, i int) (int, error) { return i * i, nil })),
		r.AddEntity("Counter", func(ctx *durable.EntityContext) (any, error) {
			n, err := durable.EntityState[int](ctx)
			if err != nil {
				return nil, err
			}
			d, err := durable.EntityInput[int](ctx)
			if err != nil {
				return nil, err
			}
			return nil, ctx.SetState(n + d)
		}),
		r.AddOrchestrator("HelloCities5", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
			n := 0
			for _, c := range []string{"Tokyo", "Seattle", "London", "Paris", "Oslo"} {
				s, err := durable.CallActivity[string](ctx, "Hello", c).Await()
				if err != nil {
					return 0, err
				}
				n += len(s)
			}
			return n, nil
		})),
		r.AddOrchestrator("Sequence", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
			v := 0
			for i := 0; i < n; i++ {
				var err error
				if v, err = durable.CallActivity[int](ctx, "Step", v).Await(); err != nil {
					return 0, err
				}
			}
			return v, nil
		})),
		r.AddOrchestrator("FanOut", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
			ts := make([]*durable.Task[int], n)
			for i := range ts {
				ts[i] = durable.CallActivity[int](ctx, "Square", i)
			}
			vs, err := durable.WhenAllOf(ctx, ts...)
			return len(vs), err
		})),
		r.AddOrchestrator("Events", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
			sum := 0
			for i := 0; i < n; i++ {
				v, err := durable.WaitForExternalEvent[int](ctx, "e").Await()
				if err != nil {
					return 0, err
				}
				sum += v
			}
			return sum, nil
		})),
		r.AddOrchestrator("Parent", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
			ts := make([]*durable.Task[int], n)
			for i := range ts {
				ts[i] = durable.CallSubOrchestrator[int](ctx, "HelloCities5", nil)
			}
			vs, err := durable.WhenAllOf(ctx, ts...)
			return len(vs), err
		})),
	)
}

type workload struct {
	name, desc, unit string
	units            int // what the rate counts
	orchestrations   int // for ops per orchestration
	run              func(ctx context.Context, c *durable.Client) error
}

func workloads(sz sizes) []workload {
	return []workload{
		{"W1", fmt.Sprintf("%d x HelloCities5", sz.w1Orchestrations), "orch/s", sz.w1Orchestrations, sz.w1Orchestrations,
			func(ctx context.Context, c *durable.Client) error {
				return startAndWait(ctx, c, "HelloCities5", nil, sz.w1Orchestrations)
			}},
		{"W2", fmt.Sprintf("%d sequential activities", sz.w2Steps), "act/s", sz.w2Steps, 1,
			func(ctx context.Context, c *durable.Client) error {
				return startAndWait(ctx, c, "Sequence", sz.w2Steps, 1)
			}},
		{"W3", fmt.Sprintf("fan-out/fan-in of %d", sz.w3FanOut), "act/s", sz.w3FanOut, 1,
			func(ctx context.Context, c *durable.Client) error {
				return startAndWait(ctx, c, "FanOut", sz.w3FanOut, 1)
			}},
		{"W4", fmt.Sprintf("%d external events", sz.w4Events), "events/s", sz.w4Events, 1,
			func(ctx context.Context, c *durable.Client) error {
				id, err := c.StartNew(ctx, "Events", sz.w4Events)
				if err != nil {
					return err
				}
				err = concurrently(sz.w4Events, func(int) error {
					if err := c.RaiseEvent(ctx, id, "e", 1); err != nil && !errors.Is(err, durable.ErrInstanceNotFound) {
						return err
					}
					return nil
				})
				if err != nil {
					return err
				}
				return wait(ctx, c, id, 25*time.Millisecond)
			}},
		{"W5", fmt.Sprintf("%d sub-orchestrations x 5 activities", sz.w5Children), "orch/s", sz.w5Children + 1, sz.w5Children + 1,
			func(ctx context.Context, c *durable.Client) error {
				return startAndWait(ctx, c, "Parent", sz.w5Children, 1)
			}},
		{"W6", fmt.Sprintf("%d signals to one entity", sz.w6Signals), "ops/s", sz.w6Signals, 1,
			func(ctx context.Context, c *durable.Client) error { return signalAndWait(ctx, c, sz.w6Signals) }},
	}
}

// startAndWait starts n instances from the concurrent clients and waits
// for all of them.
func startAndWait(ctx context.Context, c *durable.Client, name string, input any, n int) error {
	ids, err := startAll(ctx, c, name, input, n)
	if err != nil {
		return err
	}
	// Many instances: poll less often (each poll is a storage read, counted
	// in the operations per orchestration); one: closely.
	every := 25 * time.Millisecond
	if n > 1 {
		every = 100 * time.Millisecond
	}
	for _, id := range ids {
		if err := wait(ctx, c, id, every); err != nil {
			return err
		}
	}
	return nil
}

// wait polls an instance's status every so often until it finishes; the
// measured time overshoots the real completion by at most that much.
func wait(ctx context.Context, c *durable.Client, id string, every time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	var st *durable.InstanceStatus
	for {
		var err error
		st, err = c.GetStatus(ctx, id, durable.WithoutInput())
		if err != nil && ctx.Err() != nil {
			return err
		}
		// Other errors are storage being slow or busy: keep polling.
		if err == nil && st.IsTerminal() {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("instance %s: %w", id, ctx.Err())
		case <-time.After(every):
		}
	}
	if st.RuntimeStatus != durable.StatusCompleted {
		return fmt.Errorf("instance %s ended %s: %v", id, st.RuntimeStatus, st.Output)
	}
	return nil
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // Linux reports KiB
}

func measure(ctx context.Context, c *durable.Client, counter *opCounter, steps *stepClock, wl workload) (result, error) {
	steps.reset()
	ops0, cpu0 := counter.n.Load(), cpuSeconds()
	start := time.Now()
	if err := wl.run(ctx, c); err != nil {
		return result{}, err
	}
	secs := time.Since(start).Seconds()
	ops := counter.n.Load() - ops0
	r := result{Workload: wl.name, Description: wl.desc, Seconds: secs, Rate: float64(wl.units) / secs, RateUnit: wl.unit,
		StorageOps: ops, OpsPerOrch: float64(ops) / float64(wl.orchestrations), CPUSeconds: cpuSeconds() - cpu0,
		PeakRSSMiB: peakRSSMiB(), Orchestrations: wl.orchestrations}
	if g := steps.gaps(); len(g) > 0 {
		r.P50StepMillis = float64(g[len(g)/2].Microseconds()) / 1000
		r.P95StepMillis = float64(g[len(g)*95/100].Microseconds()) / 1000
	}
	return r, nil
}

// signalAndWait sends n signals to one counter from the concurrent clients
// and waits until the counter has counted them all.
func signalAndWait(ctx context.Context, c *durable.Client, n int) error {
	id := durable.NewEntityID("Counter", fmt.Sprintf("bench-%d", time.Now().UnixNano()))
	if err := concurrently(n, func(int) error { return c.SignalEntity(ctx, id, "add", 1) }); err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		md, err := c.GetEntity(ctx, id)
		if err == nil && md.State != nil && *md.State == strconv.Itoa(n) {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("entity %s did not reach %d", id, n)
}
