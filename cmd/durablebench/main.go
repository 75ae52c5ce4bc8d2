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

func main() {
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
	opsDetail := flag.Bool("ops", false, "also print storage operations per kind of request for each workload (to stderr)")
	only := flag.String("only", "", "run only these workloads, e.g. W1,W3")
	azurite := flag.String("azurite", "split", "how to run the local Azurite: split (one process per service) or single (one process)")
	flag.Parse()
	sz := sizes{*w1, *w2, *w3, *w4, *w5, *w6}
	if *quick {
		sz = sizes{50, 20, 100, 50, 10, 100}
	}
	if *azurite != "split" && *azurite != "single" {
		fmt.Fprintf(os.Stderr, "durablebench: -azurite is %q; use split or single\n", *azurite)
		os.Exit(2)
	}
	if err := run(*conn, *azurite == "split", *partitions, sz, *format, *opsDetail, *only, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "durablebench:", err)
		os.Exit(1)
	}
}

func run(conn string, split bool, partitions int, sz sizes, format string, opsDetail bool, only string, out io.Writer) error {
	if conn == "" {
		srv, err := testazurite.Start(testazurite.Options{Split: split})
		if err != nil {
			return err
		}
		defer srv.Stop()
		conn = srv.ConnectionString()
	}
	acct, err := azstorage.ParseConnectionString("-conn", conn)
	if err != nil {
		return err
	}
	counter := &opCounter{}
	if opsDetail {
		counter.kinds, counter.spent = map[string]int64{}, map[string]time.Duration{}
	}
	clients, err := azstorage.NewClients(acct, azstorage.ClientOptions{PerCall: []policyType{counter}})
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	be, err := azstorage.New(clients, azstorage.Options{TaskHub: "Bench" + time.Now().Format("150405"), PartitionCount: partitions,
		MaxPollingInterval: time.Second, Logger: log})
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := be.CreateTaskHub(ctx); err != nil {
		return err
	}
	defer func() { _ = be.DeleteTaskHub(context.Background()) }()
	reg := durable.NewRegistry()
	steps := &stepClock{}
	if err := registerWorkloads(reg, steps); err != nil {
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	w := durable.NewWorker(be, reg, durable.WorkerOptions{Logger: log, MaxConcurrentOrchestrations: 100, MaxConcurrentActivities: 100})
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()
	c := durable.NewClient(be, reg, "bench")
	time.Sleep(time.Second) // partitions claimed

	var results []result
	for _, wl := range workloads(sz) {
		if only != "" && !strings.Contains(","+strings.ToUpper(only)+",", ","+wl.name+",") {
			continue
		}
		_, _ = counter.takeKinds()
		r, err := measure(ctx, c, counter, steps, wl)
		if err != nil {
			return fmt.Errorf("%s: %w", wl.name, err)
		}
		results = append(results, r)
		if kinds, spent := counter.takeKinds(); kinds != nil {
			printKinds(os.Stderr, wl, kinds, spent)
		}
	}
	return print(out, format, results)
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

func print(out io.Writer, format string, rs []result) error {
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	case "csv":
		w := csv.NewWriter(out)
		_ = w.Write([]string{"workload", "description", "seconds", "rate", "unit", "storage_ops_per_orchestration", "p50_step_ms", "p95_step_ms", "cpu_seconds", "peak_rss_mib"})
		for _, r := range rs {
			_ = w.Write([]string{r.Workload, r.Description, f(r.Seconds), f(r.Rate), r.RateUnit, f(r.OpsPerOrch), f(r.P50StepMillis), f(r.P95StepMillis), f(r.CPUSeconds), f(r.PeakRSSMiB)})
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
	return tw.Flush()
}

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

func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
