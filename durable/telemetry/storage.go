package telemetry

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/internal/telemetry"
)

// StoragePolicy returns an Azure SDK pipeline policy that records every
// storage request try (put it in the per-retry policies, e.g.
// azstorage.ClientOptions.PerRetry): durable.storage.requests by service
// (blob, queue, table), operation and status code,
// durable.storage.request.duration, and durable.storage.errors for
// transport errors, 5xx, 408, 429 and 403 answers. Expected answers such
// as 404 (a missing row or queue) and 409/412 (a conflict the runtime
// handles) are requests, not errors.
func StoragePolicy() policy.Policy { return storagePolicy{} }

type storagePolicy struct{}

func (storagePolicy) Do(req *policy.Request) (*http.Response, error) {
	began := time.Now()
	resp, err := req.Next()
	service, op := classify(req.Raw())
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	failed := err != nil || status >= 500 || status == http.StatusTooManyRequests ||
		status == http.StatusRequestTimeout || status == http.StatusForbidden
	telemetry.StorageRequest(service, op, status, failed, time.Since(began))
	return resp, err
}

// classify tells a request's storage service and operation from its URL
// and headers (Azurite serves the three services on one host name).
func classify(r *http.Request) (service, op string) {
	host, path, q := strings.ToLower(r.URL.Host), r.URL.Path, r.URL.Query()
	comp := q.Get("comp")
	switch {
	case strings.Contains(host, ".table.") || r.Header.Get("DataServiceVersion") != "" ||
		strings.Contains(r.Header.Get("Accept"), "odata") || strings.HasSuffix(path, "/$batch"):
		service = "table"
	case strings.Contains(host, ".queue.") || strings.Contains(path, "/messages"):
		service = "queue"
	case strings.Contains(host, ".blob.") || q.Get("restype") == "container" || r.Header.Get("x-ms-blob-type") != "" ||
		r.Header.Get("x-ms-lease-action") != "":
		service = "blob"
	default:
		service = "storage"
	}
	op = strings.ToUpper(r.Method)
	switch {
	case strings.HasSuffix(path, "/$batch"):
		op = "batch"
	case service == "queue" && strings.Contains(path, "/messages"):
		switch {
		case q.Get("peekonly") == "true":
			op = "peek"
		case r.Method == http.MethodGet:
			op = "dequeue"
		case r.Method == http.MethodPost:
			op = "enqueue"
		case r.Method == http.MethodPut:
			op = "update"
		case r.Method == http.MethodDelete:
			op = "delete"
		}
	case comp != "":
		op += " " + comp
	}
	return service, op
}

// Hub gauge names.
const (
	MetricControlQueueDepth = telemetry.MetricControlQueueDepth
	MetricControlQueueAge   = telemetry.MetricControlQueueAge
	MetricWorkItemBacklog   = telemetry.MetricWorkItemBacklog
	MetricWorkItemAge       = telemetry.MetricWorkItemAge
	MetricPoisonQueueDepth  = "durable.poisonqueue.depth"
)

// ObserveHub registers gauges read from the task hub whenever metrics are
// collected, at most once per interval (default 15 s): control-queue
// depth and age of the oldest message per partition, the work-item
// queue's backlog and oldest message, and the poison queue's depth. The
// returned function unregisters them.
func ObserveHub(hub backend.HubInspector, interval time.Duration) (func() error, error) {
	if interval <= 0 {
		interval = 15 * time.Second
	}
	m := telemetry.Meter()
	depth, err1 := m.Int64ObservableGauge(MetricControlQueueDepth, metric.WithUnit("{message}"),
		metric.WithDescription("Approximate messages in each control queue (partition)."))
	age, err2 := m.Float64ObservableGauge(MetricControlQueueAge, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest visible message in each control queue."))
	backlog, err3 := m.Int64ObservableGauge(MetricWorkItemBacklog, metric.WithUnit("{message}"),
		metric.WithDescription("Approximate activity work items waiting in the work-item queue."))
	wiAge, err4 := m.Float64ObservableGauge(MetricWorkItemAge, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest visible work item."))
	poison, err5 := m.Int64ObservableGauge(MetricPoisonQueueDepth, metric.WithUnit("{message}"),
		metric.WithDescription("Approximate messages set aside in the poison queue."))
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return nil, err
		}
	}
	var (
		mu   sync.Mutex
		last time.Time
		info *backend.HubInfo
	)
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		mu.Lock()
		defer mu.Unlock()
		if info == nil || time.Since(last) >= interval {
			ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
			fresh, err := hub.InspectHub(ictx, backend.HubInspectOptions{})
			cancel()
			if err != nil {
				return err
			}
			info, last = fresh, time.Now()
		}
		now := time.Now()
		ageOf := func(t time.Time) float64 {
			if t.IsZero() {
				return 0
			}
			return max(0, now.Sub(t).Seconds())
		}
		for _, q := range info.Queues {
			attrs := metric.WithAttributes(attribute.String("partition", q.Name))
			switch q.Kind {
			case "control":
				o.ObserveInt64(depth, int64(q.ApproximateMessages), attrs)
				o.ObserveFloat64(age, ageOf(q.OldestMessage), attrs)
			case "workitems":
				o.ObserveInt64(backlog, int64(q.ApproximateMessages))
				o.ObserveFloat64(wiAge, ageOf(q.OldestMessage))
			case "poison":
				o.ObserveInt64(poison, int64(q.ApproximateMessages))
			}
		}
		return nil
	}, depth, age, backlog, wiAge, poison)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
