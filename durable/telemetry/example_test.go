package telemetry_test

import (
	"context"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/godurable/functions/durable/telemetry"
)

// An app outside funcapp installs the providers from the OTEL_*
// variables, logs JSON with trace ids, and serves its metrics to
// Prometheus.
func ExampleSetup() {
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, telemetry.Options{ServiceName: "orders", Prometheus: true})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(ctx) }()
	slog.SetDefault(slog.New(telemetry.NewLogHandler(os.Stderr, "json", slog.LevelInfo)))
	http.Handle("GET /metrics", tel.MetricsHandler())
}
