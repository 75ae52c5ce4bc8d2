package telemetry

import (
	"io"
	"log/slog"
	"strings"

	"github.com/godurable/functions/internal/telemetry"
)

// NewLogHandler returns a slog handler writing to w at level: JSON lines
// when format is "json" (for log collectors), text otherwise. Records
// logged with a context that carries a span get its "traceId" and
// "spanId", and records logged during a Functions invocation are also
// returned to the host in the invocation's Logs.
func NewLogHandler(w io.Writer, format string, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if strings.EqualFold(strings.TrimSpace(format), "json") {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return telemetry.WrapHandler(h)
}

// WrapHandler adds trace ids and invocation log collection to any slog
// handler.
func WrapHandler(h slog.Handler) slog.Handler { return telemetry.WrapHandler(h) }
