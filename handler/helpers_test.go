package handler

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/godurable/functions/durable"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestRouter is the router over a client without storage: enough for
// every route that never reaches the engine (health, invocations,
// middleware, unknown routes).
func newTestRouter(inv map[string]InvocationFunc, mutate ...func(*Config)) http.Handler {
	cfg := Config{Durable: durable.NewClient(nil, nil, durable.WithTaskHubName("TestHub")), Logger: quietLogger(), Invocations: inv, MaxBodyBytes: 1024}
	for _, m := range mutate {
		m(&cfg)
	}
	return New(cfg)
}

// serve sends one request; hdr is name, value, name, value…
func serve(h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// wantJSONError checks an error answer: status, JSON content type, and a
// Message (or ExceptionMessage) containing msg.
func wantJSONError(t *testing.T, rec *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if rec.Code != status || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" || !strings.Contains(rec.Body.String(), msg) {
		t.Errorf("got %d %q %s; want %d with %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body, status, msg)
	}
	if !strings.HasPrefix(rec.Body.String(), `{"Message":"`) {
		t.Errorf("error body %s is not the {\"Message\": …} shape", rec.Body)
	}
}
