package telemetry

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
)

var propagator = propagation.TraceContext{}

// ExtractHTTP is middleware that makes an incoming request's W3C
// traceparent and tracestate headers the parent of the spans its handler
// starts (the create_orchestration span of an HTTP start, for instance).
func ExtractHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("traceparent") != "" {
			r = r.WithContext(propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
		}
		next.ServeHTTP(w, r)
	})
}

// WithTraceParent returns ctx with the remote parent a traceparent (and
// tracestate) value names; ctx unchanged when it is not a valid one.
func WithTraceParent(ctx context.Context, traceparent, tracestate string) context.Context {
	var state *string
	if tracestate != "" {
		state = &tracestate
	}
	sc, ok := ParseTraceParent(traceparent, state)
	if !ok {
		return ctx
	}
	return parentCtx(ctx, sc)
}
