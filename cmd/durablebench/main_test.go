package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// A smoke run of the benchmark (tiny sizes, no speed assertions: the
// figures are for `make bench`): every workload completes and reports
// its rate and storage operations.
func TestBenchSmokeRun(t *testing.T) {
	var out bytes.Buffer
	if err := run("", false, 2, sizes{5, 5, 10, 5, 2, 10}, "json", true, "", &out); err != nil {
		t.Fatal(err)
	}
	var rs []result
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rs) != 6 {
		t.Fatalf("%d workloads reported", len(rs))
	}
	for _, r := range rs {
		if r.Rate <= 0 || r.StorageOps <= 0 || r.OpsPerOrch <= 0 || r.PeakRSSMiB <= 0 {
			t.Errorf("%s: %+v", r.Workload, r)
		}
	}
}
