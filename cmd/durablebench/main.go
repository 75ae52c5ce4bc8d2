// Command durablebench measures the durable engine on Azure Storage (a
// local Azurite it starts on loopback, or any account given with -conn):
// the workloads of Durable Functions' published Azure Storage targets, run
// through the same engine and storage code as production.
//
//	go run ./cmd/durablebench               # the full sizes
//	go run ./cmd/durablebench -quick        # a small smoke run
//	go run ./cmd/durablebench -format json  # or csv
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/internal/testazurite"
)

type sizes struct {
	w1Orchestrations int // HelloCities5 instances
	w2Steps          int // sequential activities in one orchestration
	w3FanOut         int // activities fanned out by one orchestration
	w4Events         int // external events to one orchestration
	w5Children       int // sub-orchestrations of 5 activities each
	w6Signals        int // signals to one counter entity
}

// config is what a run measures and how.
type config struct {
	conn       string // "" starts Azurite
	azurite    string // split or single (see the -azurite flag)
	partitions int
	sizes      sizes
	only       string // comma-separated workload names; "" runs all
	memTotal   int    // orchestrations of the memory curve (0 skips it)
	memWave    int
	idleSettle time.Duration // wait before counting idle traffic
	idle       time.Duration // how long idle traffic is counted (0 skips)
	maxPoll    time.Duration // the pollers' longest idle delay
	format     string
	opsByKind  bool
	isolate    bool // each workload on a fresh task hub (and Azurite), after a small untimed run

	compare, compareClients int // peer comparison size and clients (compare.go)

	latencies            []time.Duration // latency mode (latency.go)
	latencyW1, latencyW2 int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-serve-app" {
		os.Args = os.Args[:1]
		serveApp() // the comparison's server process (compare.go)
		return
	}
	quick := flag.Bool("quick", false, "small sizes (a smoke run)")
	format := flag.String("format", "table", "output: table, csv or json")
	conn := flag.String("conn", "", "storage connection string (default: start Azurite on free loopback ports)")
	partitions := flag.Int("partitions", 4, "partition count")
	w1 := flag.Int("w1", 1000, "W1: HelloCities5 orchestrations")
	w2 := flag.Int("w2", 100, "W2: sequential activities")
	w3 := flag.Int("w3", 1000, "W3: fan-out activities")
	w4 := flag.Int("w4", 500, "W4: external events")
	w5 := flag.Int("w5", 100, "W5: sub-orchestrations")
	w6 := flag.Int("w6", 1000, "W6: entity signals")
	mem := flag.Int("mem", 10000, "memory curve: HelloCities5 orchestrations in all (0 skips it)")
	memWave := flag.Int("mem-wave", 1000, "memory curve: orchestrations per wave (the heap is read after each)")
	idle := flag.Duration("idle", time.Minute, "idle traffic: how long to count storage operations of an idle worker (0 skips it)")
	maxPoll := flag.Duration("max-poll", 30*time.Second, "the pollers' longest idle delay (host.json maxQueuePollingInterval)")
	isolate := flag.Bool("isolate", true, "run each workload on a fresh task hub (and a fresh Azurite when the bench starts it), after a small untimed run of it; false: one after the other on one hub")
	opsDetail := flag.Bool("ops", false, "also print storage operations per kind of request for each workload (to stderr)")
	only := flag.String("only", "", "run only these workloads, e.g. W1,W3")
	azurite := flag.String("azurite", "split", "how to run the local Azurite: split (a process per service) or single (one process, as the tests run it); in memory, except the queues of the memory and idle runs")
	compare := flag.Int("compare", 200, "peer comparison: HelloCities over HTTP against durabletask-go v0.6 on SQLite (0 skips it)")
	compareClients := flag.Int("compare-clients", 40, "peer comparison: concurrent HTTP clients starting instances")
	latency := flag.String("latency", "0,10,20", "latency mode: milliseconds added to every storage request, W1 and W2 at each (\"\" skips it)")
	latencyW1 := flag.Int("latency-w1", 200, "latency mode: HelloCities5 orchestrations of W1")
	latencyW2 := flag.Int("latency-w2", 50, "latency mode: sequential activities of W2")
	flag.Parse()
	lats, err := parseLatencies(*latency)
	if err != nil {
		fmt.Fprintln(os.Stderr, "durablebench:", err)
		os.Exit(2)
	}
	cfg := config{compare: *compare, compareClients: *compareClients, latencies: lats, latencyW1: *latencyW1, latencyW2: *latencyW2, conn: *conn, azurite: *azurite, partitions: *partitions,
		sizes: sizes{*w1, *w2, *w3, *w4, *w5, *w6}, only: *only, memTotal: *mem, memWave: *memWave,
		idleSettle: 2 * *maxPoll, idle: *idle, maxPoll: *maxPoll, format: *format, opsByKind: *opsDetail, isolate: *isolate}
	if *quick {
		cfg.sizes = sizes{50, 20, 100, 50, 10, 100}
		cfg.memTotal, cfg.memWave = 200, 100
		cfg.idle, cfg.maxPoll, cfg.idleSettle = 2*time.Second, time.Second, 2*time.Second
		cfg.compare = min(cfg.compare, 40)
		cfg.latencyW1, cfg.latencyW2 = min(cfg.latencyW1, 20), min(cfg.latencyW2, 10)
	}
	if *azurite != "split" && *azurite != "single" {
		fmt.Fprintf(os.Stderr, "durablebench: -azurite is %q; use split or single\n", *azurite)
		os.Exit(2)
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "durablebench:", err)
		os.Exit(2)
	}
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "durablebench:", err)
		os.Exit(1)
	}
}

// validate reports a size or duration flag out of range.
func (cfg config) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"w1", cfg.sizes.w1Orchestrations}, {"w2", cfg.sizes.w2Steps}, {"w3", cfg.sizes.w3FanOut},
		{"w4", cfg.sizes.w4Events}, {"w5", cfg.sizes.w5Children}, {"w6", cfg.sizes.w6Signals}, {"mem-wave", cfg.memWave}} {
		if f.v < 1 {
			return fmt.Errorf("-%s is %d; it must be at least 1", f.name, f.v)
		}
	}
	if cfg.memTotal < 0 || cfg.idle < 0 || cfg.maxPoll <= 0 || cfg.partitions < 1 || cfg.partitions > 16 {
		return fmt.Errorf("-mem and -idle must not be negative, -max-poll must be positive and -partitions 1..16")
	}
	return nil
}

// report is everything a run measured.
type report struct {
	Workloads []result        `json:"workloads"`
	Memory    *memoryResult   `json:"memory,omitempty"`
	Compare   *comparison     `json:"peerComparison,omitempty"`
	Latency   []latencyResult `json:"latency,omitempty"`
	Idle      *idleResult     `json:"idle,omitempty"`
}

// engine is a worker and a client on a fresh task hub, with the storage
// operations they make counted.
type engine struct {
	client  *durable.Client
	be      *azstorage.Backend
	clients *azstorage.Clients
	counter *opCounter
	steps   *stepClock
	close   func()
}

// startEngine starts Azurite unless conn is given (queuesOnDisk: the
// queue service keeps its data in a temporary folder), then a worker and
// a client on a new task hub.
func startEngine(cfg config, conn string, queuesOnDisk bool) (*engine, error) {
	var cleanups []func()
	closeAll := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*engine, error) { closeAll(); return nil, err }
	if conn == "" {
		opts := testazurite.Options{Split: cfg.azurite != "single"}
		if queuesOnDisk && opts.Split {
			dir, err := os.MkdirTemp("", "durablebench-queues-")
			if err != nil {
				return fail(err)
			}
			cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
			opts.QueueDataDir = dir
		}
		srv, err := testazurite.Start(opts)
		if err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, func() { _ = srv.Stop() })
		conn = srv.ConnectionString()
	}
	acct, err := azstorage.ParseConnectionString("-conn", conn)
	if err != nil {
		return fail(err)
	}
	e := &engine{counter: &opCounter{}, steps: &stepClock{}}
	if cfg.opsByKind {
		e.counter.perKind = true
		e.counter.kinds, e.counter.spent = map[string]int64{}, map[string]time.Duration{}
	}
	if e.clients, err = azstorage.NewClients(acct, azstorage.ClientOptions{PerCall: []policyType{e.counter}}); err != nil {
		return fail(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.be, err = azstorage.New(e.clients, azstorage.Options{TaskHub: "Bench" + time.Now().Format("150405"), PartitionCount: cfg.partitions,
		MaxPollingInterval: cfg.maxPoll, Logger: log})
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	if err := e.be.CreateTaskHub(ctx); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() { _ = e.be.DeleteTaskHub(context.Background()) })
	reg := durable.NewRegistry()
	if err := registerWorkloads(reg, e.steps); err != nil {
		return fail(err)
	}
	wctx, stop := context.WithCancel(ctx)
	w := durable.NewWorker(e.be, reg, durable.WorkerOptions{Logger: log, MaxConcurrentOrchestrations: 100, MaxConcurrentActivities: 100})
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	cleanups = append(cleanups, func() { stop(); <-done })
	e.client = durable.NewClient(e.be, reg)
	e.close = closeAll
	time.Sleep(time.Second) // partitions claimed
	return e, nil
}

func run(cfg config, out io.Writer) error {
	ctx := context.Background()
	var rep report
	var shared *engine
	defer func() {
		if shared != nil {
			shared.close()
		}
	}()
	warm := workloads(sizes{100, 10, 50, 50, 3, 50})
	for i, wl := range workloads(cfg.sizes) {
		if cfg.only != "" && !strings.Contains(","+strings.ToUpper(cfg.only)+",", ","+wl.name+",") {
			continue
		}
		e := shared
		if e == nil || cfg.isolate {
			var err error
			if e, err = startEngine(cfg, cfg.conn, false); err != nil {
				return err
			}
			if cfg.isolate {
				// Warm up the emulator's JIT (a fresh Node.js process is
				// several times slower for its first few thousand
				// requests), the connections and the worker: a hundred
				// HelloCities5 and a small run of this workload, untimed.
				for _, w := range []workload{warm[0], warm[i]} {
					if err := w.run(ctx, e.client); err != nil {
						e.close()
						return fmt.Errorf("%s warm-up: %w", wl.name, err)
					}
				}
			} else {
				shared = e
			}
		}
		_, _ = e.counter.takeKinds()
		r, err := measure(ctx, e.client, e.counter, e.steps, wl)
		if err != nil {
			if cfg.isolate {
				e.close()
			}
			return fmt.Errorf("%s: %w", wl.name, err)
		}
		rep.Workloads = append(rep.Workloads, r)
		if kinds, spent := e.counter.takeKinds(); kinds != nil {
			printKinds(os.Stderr, wl, kinds, spent)
			printQueues(ctx, os.Stderr, e.clients, e.be.Names())
		}
		if cfg.isolate {
			e.close()
		}
	}
	if shared != nil {
		shared.close()
		shared = nil
	}
	if (cfg.memTotal > 0 || cfg.idle > 0) && cfg.only == "" {
		// A long run gets an Azurite of its own whose queues are on disk:
		// in memory, Azurite's sweep of deleted messages stalls its queue
		// service for minutes once tens of thousands have gone through.
		long, err := startEngine(cfg, cfg.conn, true)
		if err != nil {
			return err
		}
		defer long.close()
		if cfg.memTotal > 0 {
			if rep.Memory, err = memoryCurve(ctx, long.client, cfg.memTotal, cfg.memWave); err != nil {
				return fmt.Errorf("memory curve: %w", err)
			}
		}
		if cfg.idle > 0 {
			if rep.Idle, err = idleTraffic(ctx, long.counter, cfg.idleSettle, cfg.idle); err != nil {
				return fmt.Errorf("idle traffic: %w", err)
			}
		}
	}
	if len(cfg.latencies) > 0 && cfg.conn == "" && (cfg.only == "" || strings.Contains(","+strings.ToUpper(cfg.only)+",", ",LATENCY,")) {
		rs, err := latencyMode(cfg, cfg.latencies, max(cfg.latencyW1, 1), max(cfg.latencyW2, 2))
		if err != nil {
			return fmt.Errorf("latency mode: %w", err)
		}
		rep.Latency = rs
	}
	if cfg.compare > 0 && cfg.conn == "" && (cfg.only == "" || strings.Contains(","+strings.ToUpper(cfg.only)+",", ",PEER,")) {
		c, err := comparePeer(cfg.compare, max(cfg.compareClients, 1), cfg.opsByKind)
		if err != nil {
			return fmt.Errorf("peer comparison: %w", err)
		}
		rep.Compare = c
	}
	return print(out, cfg.format, rep)
}

type result struct {
	Workload       string  `json:"workload"`
	Description    string  `json:"description"`
	Seconds        float64 `json:"seconds"`
	Rate           float64 `json:"rate"`
	RateUnit       string  `json:"rateUnit"`
	OpsPerOrch     float64 `json:"storageOpsPerOrchestration"`
	StorageOps     int64   `json:"storageOps"`
	P50StepMillis  float64 `json:"p50StepMs,omitempty"`
	P95StepMillis  float64 `json:"p95StepMs,omitempty"`
	CPUSeconds     float64 `json:"cpuSeconds"`
	PeakRSSMiB     float64 `json:"peakRssMiB"`
	Orchestrations int     `json:"orchestrations"`
}

func print(out io.Writer, format string, rep report) error {
	rs := rep.Workloads
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		w := csv.NewWriter(out)
		_ = w.Write([]string{"workload", "description", "seconds", "rate", "unit", "storage_ops_per_orchestration", "p50_step_ms", "p95_step_ms", "cpu_seconds", "peak_rss_mib"})
		for _, r := range rs {
			_ = w.Write([]string{r.Workload, r.Description, f(r.Seconds), f(r.Rate), r.RateUnit, f(r.OpsPerOrch), f(r.P50StepMillis), f(r.P95StepMillis), f(r.CPUSeconds), f(r.PeakRSSMiB)})
		}
		if m := rep.Memory; m != nil {
			for _, wv := range m.Waves {
				_ = w.Write([]string{"memory", fmt.Sprintf("heap after %d orchestrations", wv.Orchestrations), "", f(wv.HeapMiB), "MiB", "", "", "", "", ""})
			}
		}
		if i := rep.Idle; i != nil {
			_ = w.Write([]string{"idle", fmt.Sprintf("idle worker for %.0f s", i.Seconds), f(i.Seconds), f(i.OpsPerSecond), "ops/s", "", "", "", "", ""})
		}
		w.Flush()
		return w.Error()
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tdescription\tseconds\trate\t\tops/orch\tp50 step\tp95 step\tCPU s\tpeak RSS\t")
	for _, r := range rs {
		step50, step95 := "", ""
		if r.P50StepMillis > 0 {
			step50, step95 = f(r.P50StepMillis)+" ms", f(r.P95StepMillis)+" ms"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%s\t%.1f\t%s\t%s\t%.1f\t%.0f MiB\t\n", r.Workload, r.Description, r.Seconds, r.Rate, r.RateUnit,
			r.OpsPerOrch, step50, step95, r.CPUSeconds, r.PeakRSSMiB)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if m := rep.Memory; m != nil && len(m.Waves) > 0 {
		fmt.Fprintf(out, "\nmemory: live heap after each wave of HelloCities5 (GC'd; waves purged):\n")
		for _, wv := range m.Waves {
			fmt.Fprintf(out, "  %6d orchestrations  %6.1f MiB  %4d goroutines\n", wv.Orchestrations, wv.HeapMiB, wv.Goroutines)
		}
		fmt.Fprintf(out, "  growth from the first wave to the last: %+.1f MiB\n", m.GrowthMiB)
	}
	if len(rep.Latency) > 0 {
		printLatency(out, rep.Latency, rep.Latency[0].w1, rep.Latency[0].w2)
	}
	if c := rep.Compare; c != nil {
		printComparison(out, c)
	}
	if i := rep.Idle; i != nil {
		fmt.Fprintf(out, "\nidle: %d storage operations in %.0f s (%.2f per second) once the pollers had backed off\n", i.StorageOps, i.Seconds, i.OpsPerSecond)
	}
	return nil
}

// printQueues prints how many messages each of the hub's queues holds,
// invisible ones included (a message left behind shows up here).
func printQueues(ctx context.Context, out io.Writer, clients *azstorage.Clients, names azstorage.Names) {
	for _, q := range append(names.ControlQueues(), names.WorkItemQueue()) {
		props, err := clients.Queue.NewQueueClient(q).GetProperties(ctx, nil)
		if err != nil || props.ApproximateMessagesCount == nil {
			fmt.Fprintf(out, "  queue %s: %v\n", q, err)
			continue
		}
		fmt.Fprintf(out, "  queue %-28s %6d messages\n", q, *props.ApproximateMessagesCount)
	}
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// printKinds prints a workload's storage operations per kind of request,
// most frequent first, with the count per orchestration and the mean time
// a request took.
func printKinds(out io.Writer, wl workload, kinds map[string]int64, spent map[string]time.Duration) {
	type kc struct {
		k string
		n int64
	}
	var all []kc
	for k, n := range kinds {
		all = append(all, kc{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	fmt.Fprintf(out, "%s storage operations by kind:\n", wl.name)
	for _, e := range all {
		fmt.Fprintf(out, "  %-34s %8d  %8.2f / orchestration  %6.1f ms mean latency\n", e.k, e.n, float64(e.n)/float64(wl.orchestrations),
			float64(spent[e.k].Microseconds())/1000/float64(e.n))
	}
}
