package telemetry

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// MeterName is the instrumentation scope of the runtime's metrics.
const MeterName = "github.com/godurable/functions/durable"

// Metric names. Durations are in seconds.
const (
	MetricOrchestrationsStarted   = "durable.orchestrations.started"
	MetricOrchestrationsCompleted = "durable.orchestrations.completed"
	MetricOrchestrationsFailed    = "durable.orchestrations.failed"
	MetricEpisodeDuration         = "durable.orchestration.episode.duration"
	MetricActivityDuration        = "durable.activity.duration"
	MetricControlQueueDepth       = "durable.controlqueue.depth"
	MetricControlQueueAge         = "durable.controlqueue.oldest_message_age"
	MetricWorkItemBacklog         = "durable.workitems.backlog"
	MetricWorkItemAge             = "durable.workitems.oldest_message_age"
	MetricStorageRequests         = "durable.storage.requests"
	MetricStorageErrors           = "durable.storage.errors"
	MetricStorageDuration         = "durable.storage.request.duration"
	MetricPartitionChanges        = "durable.partition.ownership.changes"
	MetricPoisonMessages          = "durable.poison_messages"
)

type instruments struct {
	provider                     metric.MeterProvider
	started, completed, failed   metric.Int64Counter
	episode, activity            metric.Float64Histogram
	storageReq, storageErr       metric.Int64Counter
	storageDur                   metric.Float64Histogram
	partitionChanges, poisonMsgs metric.Int64Counter
}

var (
	instMu sync.Mutex
	inst   *instruments
)

// durationBuckets suit episodes, activities and storage calls alike.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

// meters returns the instruments of the current global meter provider,
// created again when another provider is installed.
func meters() *instruments {
	instMu.Lock()
	defer instMu.Unlock()
	mp := otel.GetMeterProvider()
	if inst != nil && inst.provider == mp {
		return inst
	}
	inst = &instruments{provider: mp}
	m := mp.Meter(MeterName)
	inst.started, _ = m.Int64Counter(MetricOrchestrationsStarted, metric.WithUnit("{instance}"),
		metric.WithDescription("Orchestration executions that ran their first episode, by orchestrator name."))
	inst.completed, _ = m.Int64Counter(MetricOrchestrationsCompleted, metric.WithUnit("{instance}"),
		metric.WithDescription("Orchestration executions that ended (completed, failed or terminated), by name and status."))
	inst.failed, _ = m.Int64Counter(MetricOrchestrationsFailed, metric.WithUnit("{instance}"),
		metric.WithDescription("Orchestration executions that failed, by name."))
	inst.episode, _ = m.Float64Histogram(MetricEpisodeDuration, metric.WithUnit("s"),
		metric.WithDescription("Time to replay and checkpoint one orchestration episode."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	inst.activity, _ = m.Float64Histogram(MetricActivityDuration, metric.WithUnit("s"),
		metric.WithDescription("Time an activity function ran, by name and outcome."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	inst.storageReq, _ = m.Int64Counter(MetricStorageRequests, metric.WithUnit("{request}"),
		metric.WithDescription("Azure Storage requests (each try), by service, operation and status code."))
	inst.storageErr, _ = m.Int64Counter(MetricStorageErrors, metric.WithUnit("{request}"),
		metric.WithDescription("Azure Storage requests that failed (transport errors and 5xx, 429 and unexpected 4xx)."))
	inst.storageDur, _ = m.Float64Histogram(MetricStorageDuration, metric.WithUnit("s"),
		metric.WithDescription("Azure Storage request latency, by service and operation."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	inst.partitionChanges, _ = m.Int64Counter(MetricPartitionChanges, metric.WithUnit("{change}"),
		metric.WithDescription("Control-queue partitions this worker acquired or released, by partition and change."))
	inst.poisonMsgs, _ = m.Int64Counter(MetricPoisonMessages, metric.WithUnit("{message}"),
		metric.WithDescription("Messages moved to the poison queue, by queue kind."))
	return inst
}

// Meter is the runtime's meter, for observable instruments.
func Meter() metric.Meter { return otel.Meter(MeterName) }

var bg = context.Background()

// OrchestrationStarted counts an execution's first episode.
func OrchestrationStarted(name string) {
	meters().started.Add(bg, 1, metric.WithAttributes(attribute.String(AttrName, name)))
}

// OrchestrationEnded counts an execution that ended with status.
func OrchestrationEnded(name, status string) {
	m := meters()
	m.completed.Add(bg, 1, metric.WithAttributes(attribute.String(AttrName, name), attribute.String(AttrStatus, status)))
	if status == "Failed" {
		m.failed.Add(bg, 1, metric.WithAttributes(attribute.String(AttrName, name)))
	}
}

// EpisodeDone records an episode's duration.
func EpisodeDone(name string, d time.Duration) {
	meters().episode.Record(bg, d.Seconds(), metric.WithAttributes(attribute.String(AttrName, name)))
}

// ActivityDone records an activity's duration and outcome ("completed" or
// "failed").
func ActivityDone(name, outcome string, d time.Duration) {
	meters().activity.Record(bg, d.Seconds(), metric.WithAttributes(attribute.String(AttrName, name), attribute.String("outcome", outcome)))
}

// StorageRequest records one storage request try.
func StorageRequest(service, operation string, status int, failed bool, d time.Duration) {
	m := meters()
	attrs := metric.WithAttributes(attribute.String("service", service), attribute.String("operation", operation), attribute.Int("status_code", status))
	m.storageReq.Add(bg, 1, attrs)
	m.storageDur.Record(bg, d.Seconds(), metric.WithAttributes(attribute.String("service", service), attribute.String("operation", operation)))
	if failed {
		m.storageErr.Add(bg, 1, attrs)
	}
}

// PartitionChanged counts a partition this worker acquired ("acquired")
// or gave up ("released").
func PartitionChanged(partition, change string) {
	meters().partitionChanges.Add(bg, 1, metric.WithAttributes(attribute.String("partition", partition), attribute.String("change", change)))
}

// PoisonMessage counts a message moved to the poison queue.
func PoisonMessage(queueKind string) {
	meters().poisonMsgs.Add(bg, 1, metric.WithAttributes(attribute.String("queue", queueKind)))
}
