package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/funcapp"
	"github.com/godurable/functions/internal/storageproxy"
	"github.com/godurable/functions/internal/testazurite"
)

// The peer comparison runs the same HTTP workload against two servers in
// one run: this project's handler (the bench binary itself, started as a
// child process with -serve-app, configured by the repository's host.json
// as `make run` is) on one Azurite process with `make run`'s settings, and
// durabletask-go v0.6 on a SQLite file (the module in ./peer, built here).
// Each server is a child process, so its CPU time is the handler's alone,
// the driver (the HTTP client) excluded.

// serveApp runs the bench's app: funcapp with HelloCities (3 activities)
// and HelloCities5.
func serveApp() {
	funcapp.Main(func(app *funcapp.App) error {
		r := app.Registry()
		hello := func(cities ...string) func(*durable.OrchestrationContext, any) ([]string, error) {
			return func(ctx *durable.OrchestrationContext, _ any) ([]string, error) {
				var out []string
				for _, c := range cities {
					s, err := durable.CallActivity[string](ctx, "SayHello", c).Await()
					if err != nil {
						return nil, err
					}
					out = append(out, s)
				}
				return out, nil
			}
		}
		return errors.Join(
			r.AddActivity("SayHello", durable.Activity(func(_ context.Context, c string) (string, error) { return "Hello " + c + "!", nil })),
			r.AddOrchestrator("HelloCities", durable.Orchestrator(hello("Tokyo", "Seattle", "London"))),
			r.AddOrchestrator("HelloCities5", durable.Orchestrator(hello("Tokyo", "Seattle", "London", "Paris", "Oslo"))),
		)
	})
}

// compareResult is one server's figures for the HTTP workload.
type compareResult struct {
	Server         string  `json:"server"`
	Orchestrations int     `json:"orchestrations"`
	Seconds        float64 `json:"seconds"`
	Rate           float64 `json:"orchestrationsPerSecond"`
	CPUMsPerOrch   float64 `json:"cpuMsPerHelloCities"`
	CPUMsPerOrch5  float64 `json:"cpuMsPerHelloCities5"`
	// When the last start was answered, how long an instance took from its
	// start to the status poll that saw it completed, and how many status
	// polls an instance had (HelloCities).
	StartsSeconds   float64 `json:"startsSeconds"`
	MeanLifeSeconds float64 `json:"meanSecondsToCompletion"`
	PollsPerOrch    float64 `json:"statusPollsPerHelloCities"`
	StartMs         float64 `json:"startRequestMs"`
	PollMs          float64 `json:"statusRequestMs"`
	// The storage emulator's CPU (ours only: the peer's storage is in
	// its own process).
	StorageCPUMsPerOrch  float64 `json:"storageCpuMsPerHelloCities,omitempty"`
	StorageCPUMsPerOrch5 float64 `json:"storageCpuMsPerHelloCities5,omitempty"`
	Rate5                float64 `json:"helloCities5PerSecond"`
	ServerProcessID      int     `json:"-"`
	// Storage requests by kind (-ops only: the app's storage traffic
	// then goes through a counting proxy).
	Kinds, Kinds5 map[string]int64         `json:"-"`
	Spent, Spent5 map[string]time.Duration `json:"-"`
}

// comparison is the peer comparison of a run.
type comparison struct {
	Ours  compareResult `json:"ours"`
	Peer  compareResult `json:"peer"`
	Ratio float64       `json:"ratio"`
}

// child is a server process of the comparison.
type child struct {
	cmd  *exec.Cmd
	base string
}

func (c *child) stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// cpu is the child's CPU time so far (user and system), from /proc.
func (c *child) cpu() (time.Duration, error) { return procCPU(c.cmd.Process.Pid) }

// procCPU is a process's CPU time so far (user and system), from /proc.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read the CPU time of process %d: %w", pid, err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat line")
	}
	u, _ := strconv.ParseInt(fields[11], 10, 64)
	k, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(u+k) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// startOurs starts the bench binary as the app on conn, configured by the
// repository's host.json, and waits until it serves.
func startOurs(conn, root string) (*child, error) {
	dir, err := os.MkdirTemp("", "durablebench-app-")
	if err != nil {
		return nil, err
	}
	host, err := os.ReadFile(filepath.Join(root, "host.json"))
	if err != nil {
		return nil, fmt.Errorf("the app's host.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "host.json"), host, 0o644); err != nil {
		return nil, err
	}
	port, err := testazurite.FreePort()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve-app")
	cmd.Env = append(os.Environ(), "FUNCTIONS_APP_ROOT_PATH="+dir, "AzureWebJobsStorage="+conn,
		"FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port), "DURABLE_TASK_HUB=Compare"+time.Now().Format("150405"),
		"LOG_LEVEL=error", "DURABLE_DASHBOARD=false")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		// 404 for an unknown instance once the task hub exists; 503 before.
		resp, err := http.Get(c.base + "/api/durabletask/instances/none")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("the app did not become ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startPeer builds and starts the durabletask-go server on a SQLite file.
func startPeer(root string) (*child, func(), error) {
	dir, err := os.MkdirTemp("", "durablebench-peer-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	bin := filepath.Join(dir, "peer")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join(root, "cmd", "durablebench", "peer")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("build the peer (cmd/durablebench/peer): %w", err)
	}
	cmd := exec.Command(bin, "-db", filepath.Join(dir, "peer.db"), "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cleanup()
		return nil, nil, fmt.Errorf("the peer did not start: %q %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &child{cmd: cmd, base: "http://" + addr}, cleanup, nil
}

// driveStats is what a driveHTTP run saw.
type driveStats struct {
	took        time.Duration // first start to last completion seen
	startsTook  time.Duration // first start to the last start's answer
	meanLife    time.Duration // start to completion seen, on average
	polls       int64         // status requests
	completions int
	startMean   time.Duration // a start request's time, on average
	pollMean    time.Duration // a status request's time, on average
}

// driveHTTP starts n instances of name over HTTP from clients concurrent
// clients (open loop: a client starts its next instance as soon as the
// last start returned) and polls each instance's status every 200 ms
// until it completes.
func driveHTTP(base, name string, n, clients int) (driveStats, error) {
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var st driveStats
	var life, startTime time.Duration
	var pollTime atomic.Int64
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	start := time.Now()
	var starters, pollers sync.WaitGroup
	for range clients {
		starters.Add(1)
		go func() {
			defer starters.Done()
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				uri, err := startOne(hc, base, name)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				startTime += time.Since(t0)
				mu.Unlock()
				pollers.Add(1)
				go func() {
					defer pollers.Done()
					polls, err := awaitOne(hc, name, uri, &pollTime)
					mu.Lock()
					st.polls += int64(polls)
					if err == nil {
						st.completions++
						life += time.Since(t0)
					}
					mu.Unlock()
					if err != nil {
						fail(err)
					}
				}()
			}
		}()
	}
	starters.Wait()
	st.startsTook = time.Since(start)
	pollers.Wait()
	st.took = time.Since(start)
	if st.completions > 0 {
		st.meanLife = life / time.Duration(st.completions)
		st.startMean = startTime / time.Duration(n)
	}
	if st.polls > 0 {
		st.pollMean = time.Duration(pollTime.Load() / st.polls)
	}
	return st, firstErr
}

func startOne(hc *http.Client, base, name string) (string, error) {
	resp, err := hc.Post(base+"/api/orchestrators/"+name, "application/json", strings.NewReader("null"))
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("start %s: %d %s", name, resp.StatusCode, body)
	}
	var started struct {
		StatusQueryGetURI string `json:"statusQueryGetUri"`
	}
	if err := json.Unmarshal(body, &started); err != nil || started.StatusQueryGetURI == "" {
		return "", fmt.Errorf("start %s: no status URI in %s", name, body)
	}
	return started.StatusQueryGetURI, nil
}

// awaitOne polls uri every 200 ms until the instance completes; it
// returns how many status requests it made.
func awaitOne(hc *http.Client, name, uri string, spent *atomic.Int64) (int, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for polls := 1; ; polls++ {
		time.Sleep(200 * time.Millisecond)
		t0 := time.Now()
		resp, err := hc.Get(uri)
		spent.Add(int64(time.Since(t0)))
		if err != nil {
			return polls, err
		}
		var st struct {
			RuntimeStatus string `json:"runtimeStatus"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err == nil && st.RuntimeStatus == "Completed" {
			return polls, nil
		}
		if st.RuntimeStatus == "Failed" || st.RuntimeStatus == "Terminated" || time.Now().After(deadline) {
			return polls, fmt.Errorf("%s ended %q", name, st.RuntimeStatus)
		}
	}
}

// measureServer warms a server up, then runs n HelloCities and n
// HelloCities5 over HTTP, recording its CPU time.
// counter, when not nil, counts the server's storage requests by kind;
// storage, when not nil, are the storage emulator's processes.
func measureServer(label string, c *child, n, clients int, counter *opCounter, storage []int) (compareResult, error) {
	r := compareResult{Server: label, Orchestrations: n}
	if _, err := driveHTTP(c.base, "HelloCities", max(n/4, 20), clients); err != nil {
		return r, fmt.Errorf("%s warm-up: %w", label, err)
	}
	if counter != nil {
		_, _ = counter.takeKinds()
	}
	cpu0, err := c.cpu()
	if err != nil {
		return r, err
	}
	st0 := storageCPU(storage)
	d, err := driveHTTP(c.base, "HelloCities", n, clients)
	if err != nil {
		return r, fmt.Errorf("%s: %w", label, err)
	}
	cpu1, err := c.cpu()
	if err != nil {
		return r, err
	}
	st1 := storageCPU(storage)
	if counter != nil {
		r.Kinds, r.Spent = counter.takeKinds()
	}
	d5, err := driveHTTP(c.base, "HelloCities5", n, clients)
	if err != nil {
		return r, fmt.Errorf("%s: %w", label, err)
	}
	cpu2, err := c.cpu()
	if err != nil {
		return r, err
	}
	st2 := storageCPU(storage)
	if counter != nil {
		r.Kinds5, r.Spent5 = counter.takeKinds()
	}
	took, took5 := d.took, d5.took
	r.Seconds = took.Seconds()
	r.Rate = float64(n) / took.Seconds()
	r.StartsSeconds, r.MeanLifeSeconds, r.PollsPerOrch = d.startsTook.Seconds(), d.meanLife.Seconds(), float64(d.polls)/float64(n)
	r.StartMs, r.PollMs = float64(d.startMean.Microseconds())/1000, float64(d.pollMean.Microseconds())/1000
	r.CPUMsPerOrch = float64((cpu1 - cpu0).Milliseconds()) / float64(n)
	r.Rate5 = float64(n) / took5.Seconds()
	r.CPUMsPerOrch5 = float64((cpu2 - cpu1).Milliseconds()) / float64(n)
	r.StorageCPUMsPerOrch = float64((st1 - st0).Milliseconds()) / float64(n)
	r.StorageCPUMsPerOrch5 = float64((st2 - st1).Milliseconds()) / float64(n)
	return r, nil
}

// storageCPU is the CPU time of the storage emulator's processes so far
// (0 when unknown).
func storageCPU(pids []int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		d, err := procCPU(pid)
		if err != nil {
			return 0
		}
		sum += d
	}
	return sum
}

// comparePeer runs the comparison: ours on a single Azurite process, then
// the peer on a SQLite file. With ops the app's storage requests go
// through a proxy that counts them by kind (which adds a hop to each).
func comparePeer(n, clients int, ops bool) (*comparison, error) {
	root, err := testazurite.RepoRoot()
	if err != nil {
		return nil, err
	}
	az, err := testazurite.Start(testazurite.Options{}) // one process, in memory: make run's Azurite
	if err != nil {
		return nil, err
	}
	defer az.Stop()
	conn := az.ConnectionString()
	var counter *opCounter
	if ops {
		counter = &opCounter{perKind: true, kinds: map[string]int64{}, spent: map[string]time.Duration{}}
		proxy, err := storageproxy.Start(conn, storageproxy.Config{Observe: func(r *http.Request, body []byte) {
			counter.n.Add(1)
			counter.add(opKind(r, body), 0)
		}})
		if err != nil {
			return nil, err
		}
		defer proxy.Close()
		conn = proxy.ConnectionString()
	}
	ours, err := startOurs(conn, root)
	if err != nil {
		return nil, err
	}
	o, err := measureServer("godurable (single Azurite)", ours, n, clients, counter, az.PIDs())
	ours.stop()
	if err != nil {
		return nil, err
	}
	peer, cleanup, err := startPeer(root)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	p, err := measureServer("durabletask-go v0.6 (SQLite file)", peer, n, clients, nil, nil)
	peer.stop()
	if err != nil {
		return nil, err
	}
	return &comparison{Ours: o, Peer: p, Ratio: o.Rate / p.Rate}, nil
}

func printComparison(out io.Writer, c *comparison) {
	fmt.Fprintf(out, "\npeer comparison: %d HelloCities (3 activities) over HTTP, then %d HelloCities5, each server a child process:\n",
		c.Ours.Orchestrations, c.Ours.Orchestrations)
	for _, r := range []compareResult{c.Ours, c.Peer} {
		fmt.Fprintf(out, "  %-36s %6.1f HelloCities/s (%5.1f s)  %5.1f HelloCities5/s  CPU %5.1f ms per HelloCities, %5.1f ms per HelloCities5\n",
			r.Server, r.Rate, r.Seconds, r.Rate5, r.CPUMsPerOrch, r.CPUMsPerOrch5)
	}
	for _, r := range []compareResult{c.Ours, c.Peer} {
		fmt.Fprintf(out, "  %-36s HelloCities: starts answered after %4.1f s (%3.0f ms each), %4.2f s from start to completion seen, %4.1f status polls each (%3.0f ms)\n",
			r.Server, r.StartsSeconds, r.StartMs, r.MeanLifeSeconds, r.PollsPerOrch, r.PollMs)
	}
	if c.Ours.StorageCPUMsPerOrch > 0 {
		fmt.Fprintf(out, "  %-36s CPU %5.1f ms per HelloCities, %5.1f ms per HelloCities5\n", "Azurite (for godurable)",
			c.Ours.StorageCPUMsPerOrch, c.Ours.StorageCPUMsPerOrch5)
	}
	fmt.Fprintf(out, "  ratio (HelloCities/s, ours ÷ peer): %.2f×\n", c.Ratio)
	if c.Ours.Kinds != nil {
		printKinds(out, workload{name: "PEER HelloCities", orchestrations: c.Ours.Orchestrations}, c.Ours.Kinds, c.Ours.Spent)
		printKinds(out, workload{name: "PEER HelloCities5", orchestrations: c.Ours.Orchestrations}, c.Ours.Kinds5, c.Ours.Spent5)
	}
}
