package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// A smoke run of the benchmark (tiny sizes, no speed assertions: the
// figures are for `make bench`): every workload completes and reports
// its rate and storage operations.
func TestBenchSmokeRun(t *testing.T) {
	var out bytes.Buffer
	cfg := config{partitions: 2, sizes: sizes{5, 5, 10, 5, 2, 10}, memTotal: 6, memWave: 3,
		idleSettle: 500 * time.Millisecond, idle: time.Second, maxPoll: 500 * time.Millisecond, format: "json", opsByKind: true}
	if err := run(cfg, &out); err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	rs := rep.Workloads
	if len(rs) != 6 {
		t.Fatalf("%d workloads reported", len(rs))
	}
	for _, r := range rs {
		if r.Rate <= 0 || r.StorageOps <= 0 || r.OpsPerOrch <= 0 || r.PeakRSSMiB <= 0 {
			t.Errorf("%s: %+v", r.Workload, r)
		}
	}
	if rep.Memory == nil || len(rep.Memory.Waves) != 2 || rep.Memory.Waves[1].Orchestrations != 6 || rep.Memory.Waves[0].HeapMiB <= 0 {
		t.Errorf("memory curve: %+v", rep.Memory)
	}
	if rep.Idle == nil || rep.Idle.Seconds != 1 {
		t.Errorf("idle traffic: %+v", rep.Idle)
	}
}
