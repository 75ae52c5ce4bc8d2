package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// Storage requests are named by kind: a point read apart from a query,
// and a table batch by the table its body names.
func TestOpKinds(t *testing.T) {
	batch := []byte("--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n--changeset_1\r\n" +
		"Content-Type: application/http\r\n\r\nPOST http://127.0.0.1:10002/devstoreaccount1/HubHistory HTTP/1.1\r\n\r\n{}\r\n--changeset_1--\r\n")
	cases := []struct {
		method, url string
		body        []byte
		want        string
	}{
		{http.MethodGet, "/devstoreaccount1/HubInstances(PartitionKey='a',RowKey='')", nil, "table Instances read"},
		{http.MethodGet, "/devstoreaccount1/HubInstances()?$filter=x", nil, "table Instances query"},
		{"PATCH", "/devstoreaccount1/HubInstances(PartitionKey='a',RowKey='')", nil, "table Instances patch"},
		{http.MethodPost, "/devstoreaccount1/$batch", batch, "table History batch"},
		{http.MethodPost, "/devstoreaccount1/$batch", nil, "table batch"},
		{http.MethodPost, "/devstoreaccount1/hub-control-01/messages", nil, "queue control enqueue"},
		{http.MethodDelete, "/devstoreaccount1/hub-workitems/messages/id?popreceipt=x", nil, "queue work-items delete"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, "http://127.0.0.1"+c.url, nil)
		if got := opKind(r, c.body); got != c.want {
			t.Errorf("opKind(%s %s) = %q, want %q", c.method, c.url, got, c.want)
		}
	}
}
