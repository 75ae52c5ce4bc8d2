// Package telemetry configures the runtime's observability: OpenTelemetry
// traces and metrics exported over OTLP as the standard OTEL_* environment
// variables say, an opt-in Prometheus text endpoint, a storage-request
// policy for the Azure SDK clients, hub gauges (control-queue depth and
// age, work-item backlog) and a slog handler that puts trace ids on log
// lines.
//
// The runtime creates its spans (with DurableTask.Core's names, kinds and
// durabletask.* attributes) and metrics on the global OpenTelemetry
// providers; Setup installs them. An app that installs its own tracer
// provider gives it IDGenerator(), so that an orchestration's span keeps
// the id its children already name as parent.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/godurable/functions/internal/telemetry"
)

// Options configure Setup beyond the environment.
type Options struct {
	// Getenv reads settings; os.Getenv when nil.
	Getenv func(string) string
	// ServiceName is the service.name resource attribute unless
	// OTEL_SERVICE_NAME sets one.
	ServiceName string
	// Prometheus enables Telemetry.MetricsHandler, the metrics in
	// Prometheus' text format.
	Prometheus bool
	// SpanExporter and MetricReader, when set, are used in addition to
	// what the environment configures (tests, custom exporters).
	SpanExporter sdktrace.SpanExporter
	MetricReader sdkmetric.Reader
}

// Telemetry is the installed providers.
type Telemetry struct {
	tracing  *sdktrace.TracerProvider
	metering *sdkmetric.MeterProvider
	prom     *sdkmetric.ManualReader
}

// TracingEnabled reports whether spans are exported.
func (t *Telemetry) TracingEnabled() bool { return t != nil && t.tracing != nil }

// MetricsEnabled reports whether metrics are collected.
func (t *Telemetry) MetricsEnabled() bool { return t != nil && t.metering != nil }

// IDGenerator returns the span id generator the runtime's spans need: it
// gives an orchestration's span, and the client spans of its activities
// and sub-orchestrations, the ids stored in history for them.
func IDGenerator() sdktrace.IDGenerator { return telemetry.IDGenerator{} }

// Setup installs global tracer and meter providers as the environment
// says and returns them for Shutdown:
//
//   - traces are exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT or
//     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (or OTEL_TRACES_EXPORTER
//     is "otlp"), with OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL "grpc" or
//     "http/protobuf" (the default); OTEL_TRACES_EXPORTER=none turns them
//     off;
//   - metrics likewise, with the _METRICS_ variables and
//     OTEL_METRICS_EXPORTER; and collected for MetricsHandler when
//     Options.Prometheus is set;
//   - OTEL_SDK_DISABLED=true turns everything off.
//
// The exporters read the other OTEL_EXPORTER_OTLP_* variables (headers,
// timeout, certificates), the tracer provider OTEL_TRACES_SAMPLER[_ARG]
// and OTEL_BSP_*, the resource OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. With nothing configured Setup installs
// nothing, and the runtime's telemetry costs next to nothing.
func Setup(ctx context.Context, o Options) (*Telemetry, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	t := &Telemetry{}
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return t, nil
	}
	res, err := newResource(ctx, o.ServiceName, getenv)
	if err != nil {
		return nil, err
	}
	var spanExp []sdktrace.SpanExporter
	if o.SpanExporter != nil {
		spanExp = append(spanExp, o.SpanExporter)
	}
	if enabled(getenv, "TRACES") {
		exp, err := traceExporter(ctx, protocol(getenv, "TRACES"))
		if err != nil {
			return nil, err
		}
		spanExp = append(spanExp, exp)
	}
	if len(spanExp) > 0 {
		opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithIDGenerator(IDGenerator())}
		for _, e := range spanExp {
			opts = append(opts, sdktrace.WithBatcher(e))
		}
		t.tracing = sdktrace.NewTracerProvider(opts...)
		otel.SetTracerProvider(t.tracing)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	}
	var readers []sdkmetric.Reader
	if o.MetricReader != nil {
		readers = append(readers, o.MetricReader)
	}
	if enabled(getenv, "METRICS") {
		exp, err := metricExporter(ctx, protocol(getenv, "METRICS"))
		if err != nil {
			return nil, errors.Join(err, t.Shutdown(ctx))
		}
		readers = append(readers, sdkmetric.NewPeriodicReader(exp))
	}
	if o.Prometheus {
		t.prom = sdkmetric.NewManualReader()
		readers = append(readers, t.prom)
	}
	if len(readers) > 0 {
		opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
		for _, r := range readers {
			opts = append(opts, sdkmetric.WithReader(r))
		}
		t.metering = sdkmetric.NewMeterProvider(opts...)
		otel.SetMeterProvider(t.metering)
	}
	return t, nil
}

// Shutdown flushes and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.tracing != nil {
		errs = append(errs, t.tracing.Shutdown(ctx))
	}
	if t.metering != nil {
		errs = append(errs, t.metering.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// ForceFlush exports the spans and metrics not exported yet.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.tracing != nil {
		errs = append(errs, t.tracing.ForceFlush(ctx))
	}
	if t.metering != nil {
		errs = append(errs, t.metering.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// MetricsHandler serves the metrics in Prometheus' text exposition
// format; nil unless Options.Prometheus was set.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t == nil || t.prom == nil {
		return nil
	}
	return &promHandler{reader: t.prom}
}

func newResource(ctx context.Context, service string, getenv func(string) string) (*resource.Resource, error) {
	var opts []resource.Option
	if service != "" && getenv("OTEL_SERVICE_NAME") == "" {
		opts = append(opts, resource.WithAttributes(serviceName(service)))
	}
	opts = append(opts, resource.WithFromEnv(), resource.WithTelemetrySDK())
	r, err := resource.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return resource.Merge(resource.Default(), r)
}

// enabled reports whether OTLP export of a signal ("TRACES", "METRICS")
// is configured.
func enabled(getenv func(string) string, signal string) bool {
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_" + signal + "_EXPORTER"))) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != ""
}

func protocol(getenv func(string) string, signal string) string {
	if p := getenv("OTEL_EXPORTER_OTLP_" + signal + "_PROTOCOL"); p != "" {
		return p
	}
	if p := getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" {
		return p
	}
	return "http/protobuf"
}

func traceExporter(ctx context.Context, proto string) (sdktrace.SpanExporter, error) {
	switch proto {
	case "grpc":
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP/gRPC trace exporter: %w", err)
		}
		return exp, nil
	case "http/protobuf":
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP/HTTP trace exporter: %w", err)
		}
		return exp, nil
	}
	return nil, fmt.Errorf("telemetry: OTLP protocol %q is not supported (use grpc or http/protobuf)", proto)
}

func metricExporter(ctx context.Context, proto string) (sdkmetric.Exporter, error) {
	switch proto {
	case "grpc":
		exp, err := otlpmetricgrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP/gRPC metric exporter: %w", err)
		}
		return exp, nil
	case "http/protobuf":
		exp, err := otlpmetrichttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP/HTTP metric exporter: %w", err)
		}
		return exp, nil
	}
	return nil, fmt.Errorf("telemetry: OTLP protocol %q is not supported (use grpc or http/protobuf)", proto)
}

func serviceName(s string) attribute.KeyValue { return attribute.String("service.name", s) }
