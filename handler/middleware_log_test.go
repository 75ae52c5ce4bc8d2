package handler

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestLoggerLogsAtDebug(t *testing.T) {
	var logs bytes.Buffer
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	req := httptest.NewRequest("GET", "/api/x", nil)
	req.Header.Set("X-Azure-Functions-InvocationId", "inv-7")

	requestLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))(next).ServeHTTP(httptest.NewRecorder(), req)
	for _, want := range []string{"level=DEBUG", "method=GET", "path=/api/x", "status=418", "invocationId=inv-7", "duration="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}
	logs.Reset()
	requestLogger(slog.New(slog.NewTextHandler(&logs, nil)))(next).ServeHTTP(httptest.NewRecorder(), req)
	if logs.Len() != 0 {
		t.Errorf("logged at info level: %s", logs.String())
	}
}
