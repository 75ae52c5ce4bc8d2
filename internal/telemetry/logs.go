package telemetry

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/godurable/functions/durable/history"
)

// Log attribute keys for trace ids.
const (
	LogTraceID = "traceId"
	LogSpanID  = "spanId"
)

// Handler wraps a slog handler: records logged with a context that carries
// a span get its trace and span ids (unless they name them already), and
// records logged within a Functions invocation are also kept for the
// invocation's response (see CollectLogs).
type Handler struct {
	inner slog.Handler
}

// WrapHandler returns h with trace ids and invocation log collection.
func WrapHandler(h slog.Handler) slog.Handler {
	if w, ok := h.(*Handler); ok {
		return w
	}
	return &Handler{inner: h}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			has := false
			r.Attrs(func(a slog.Attr) bool { has = has || a.Key == LogTraceID; return !has })
			if !has {
				r = r.Clone()
				r.AddAttrs(slog.String(LogTraceID, sc.TraceID().String()), slog.String(LogSpanID, sc.SpanID().String()))
			}
		}
		if c, ok := ctx.Value(collectorKey{}).(*collector); ok {
			c.add(r)
		}
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{inner: h.inner.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{inner: h.inner.WithGroup(name)}
}

type collectorKey struct{}

type collector struct {
	mu    sync.Mutex
	lines []string
}

func (c *collector) add(r slog.Record) {
	var b strings.Builder
	b.WriteString(r.Level.String())
	b.WriteByte(' ')
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteByte(' ')
		b.WriteString(a.Key)
		b.WriteByte('=')
		b.WriteString(a.Value.String())
		return true
	})
	c.mu.Lock()
	c.lines = append(c.lines, b.String())
	c.mu.Unlock()
}

// CollectLogs returns a context whose log records (logged through a
// Handler with that context) are kept, and the function that returns
// them: the Logs of a Functions invocation response, which the host
// writes to its own logs.
func CollectLogs(ctx context.Context) (context.Context, func() []string) {
	c := &collector{}
	return context.WithValue(ctx, collectorKey{}, c), func() []string {
		c.mu.Lock()
		defer c.mu.Unlock()
		return append([]string(nil), c.lines...)
	}
}

// InstanceAttrs are the log attributes of an orchestration execution:
// its instance id, execution id, name and, when it is traced, the trace
// and span ids of its orchestration span.
func InstanceAttrs(started *history.Event) []any {
	if started == nil {
		return nil
	}
	var out []any
	if started.Instance != nil {
		out = append(out, "instanceId", started.Instance.InstanceID, "executionId", started.Instance.ExecutionID)
	}
	out = append(out, "name", started.Name)
	tc := started.ParentTraceContext
	if sc, ok := contextOf(tc); ok {
		out = append(out, LogTraceID, sc.TraceID().String())
		if tc.SpanID != nil {
			out = append(out, LogSpanID, *tc.SpanID)
		}
	}
	return out
}
