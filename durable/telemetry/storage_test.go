package telemetry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/godurable/functions/durable/backend"
)

func TestClassifyStorageRequests(t *testing.T) {
	for _, c := range []struct {
		method, url string
		header      map[string]string
		service, op string
	}{
		{"GET", "https://acct.queue.core.windows.net/hub-control-00/messages?numofmessages=32", nil, "queue", "dequeue"},
		{"GET", "http://127.0.0.1:10001/devstoreaccount1/hub-workitems/messages?peekonly=true", nil, "queue", "peek"},
		{"POST", "http://127.0.0.1:10001/devstoreaccount1/hub-workitems/messages", nil, "queue", "enqueue"},
		{"DELETE", "http://127.0.0.1:10001/devstoreaccount1/hub-workitems/messages/1?popreceipt=x", nil, "queue", "delete"},
		{"POST", "http://127.0.0.1:10002/devstoreaccount1/$batch", map[string]string{"DataServiceVersion": "3.0"}, "table", "batch"},
		{"GET", "http://127.0.0.1:10002/devstoreaccount1/HubHistory()", map[string]string{"Accept": "application/json;odata=minimalmetadata"}, "table", "GET"},
		{"PUT", "https://acct.blob.core.windows.net/hub-leases/p0?comp=lease", map[string]string{"x-ms-lease-action": "renew"}, "blob", "PUT lease"},
		{"PUT", "http://127.0.0.1:10000/devstoreaccount1/hub-largemessages?restype=container", nil, "blob", "PUT"},
	} {
		r, _ := http.NewRequest(c.method, c.url, nil)
		for k, v := range c.header {
			r.Header.Set(k, v)
		}
		if s, op := classify(r); s != c.service || op != c.op {
			t.Errorf("%s %s: %s %q, want %s %q", c.method, c.url, s, op, c.service, c.op)
		}
	}
}

// manualMetrics sets telemetry up with a manual metric reader (shut down
// when the test ends).
func manualMetrics(t *testing.T) *sdkmetric.ManualReader {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	tel, err := Setup(context.Background(), Options{Getenv: func(string) string { return "" }, MetricReader: reader})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return reader
}

// promText collects the reader's metrics in the Prometheus text format.
func promText(t *testing.T, reader *sdkmetric.ManualReader) string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeProm(w, &rm)
	_ = w.Flush()
	return buf.String()
}

type fakeTransport struct {
	status int
	err    error
}

func (f fakeTransport) Do(r *http.Request) (*http.Response, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &http.Response{StatusCode: f.status, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// The policy counts each try with its status; failures the runtime does
// not expect count as errors, a 404 does not.
func TestStoragePolicyRecordsTries(t *testing.T) {
	reader := manualMetrics(t)
	send := func(tr policy.Transporter) {
		pl := runtime.NewPipeline("test", "v1", runtime.PipelineOptions{}, &policy.ClientOptions{
			Transport: tr, PerRetryPolicies: []policy.Policy{StoragePolicy()},
			Retry: policy.RetryOptions{MaxRetries: 1, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}})
		req, _ := runtime.NewRequest(context.Background(), http.MethodGet, "http://127.0.0.1:10001/devstoreaccount1/q/messages")
		resp, _ := pl.Do(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
	}
	send(fakeTransport{status: http.StatusNotFound})           // one try, not an error
	send(fakeTransport{status: http.StatusServiceUnavailable}) // retried: two tries, two errors
	send(fakeTransport{err: errors.New("connection refused")}) // two tries, two errors
	out := promText(t, reader)
	for _, want := range []string{
		`durable_storage_requests_total{operation="dequeue",service="queue",status_code="404"} 1`,
		`durable_storage_requests_total{operation="dequeue",service="queue",status_code="503"} 2`,
		`durable_storage_requests_total{operation="dequeue",service="queue",status_code="0"} 2`,
		`durable_storage_errors_total{operation="dequeue",service="queue",status_code="503"} 2`,
		`durable_storage_errors_total{operation="dequeue",service="queue",status_code="0"} 2`,
		`durable_storage_request_duration_seconds_count{operation="dequeue",service="queue"} 5`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("want %s in:\n%s", want, out)
		}
	}
	if strings.Contains(out, `durable_storage_errors_total{operation="dequeue",service="queue",status_code="404"}`) {
		t.Error("a 404 counted as an error")
	}
}

type fakeHub struct{ info *backend.HubInfo }

func (f fakeHub) InspectHub(context.Context, backend.HubInspectOptions) (*backend.HubInfo, error) {
	return f.info, nil
}

// The hub gauges report each control queue's depth and oldest message.
func TestObserveHub(t *testing.T) {
	reader := manualMetrics(t)
	old := time.Now().Add(-time.Minute)
	unregister, err := ObserveHub(fakeHub{&backend.HubInfo{Queues: []backend.QueueInfo{
		{Name: "hub-control-00", Kind: "control", Exists: true, ApproximateMessages: 3, OldestMessage: old},
		{Name: "hub-control-01", Kind: "control", Exists: true},
		{Name: "hub-workitems", Kind: "workitems", Exists: true, ApproximateMessages: 7, OldestMessage: old},
		{Name: "hub-poison", Kind: "poison", Exists: true, ApproximateMessages: 2},
	}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unregister() }()
	out := promText(t, reader)
	for _, want := range []string{
		"# TYPE durable_controlqueue_depth gauge\n",
		`durable_controlqueue_depth{partition="hub-control-00"} 3` + "\n",
		`durable_controlqueue_depth{partition="hub-control-01"} 0` + "\n",
		`durable_controlqueue_oldest_message_age_seconds{partition="hub-control-01"} 0` + "\n",
		"durable_workitems_backlog 7\n",
		"durable_poisonqueue_depth 2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	if !strings.Contains(out, `durable_controlqueue_oldest_message_age_seconds{partition="hub-control-00"} 6`) {
		t.Errorf("the oldest message's age is not about a minute:\n%s", out)
	}
}
