package handler

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecovererAnswers500AndLogsTheStack(t *testing.T) {
	var logs bytes.Buffer
	h := recoverer(slog.New(slog.NewTextHandler(&logs, nil)))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("kaboom")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	wantJSONError(t, rec, 500, "Something went wrong")
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "middleware_recover_test.go") {
		t.Fatalf("log lacks the panic or its stack: %s", logs.String())
	}
}

// http.ErrAbortHandler is net/http's way to abort a response: passed on.
func TestRecovererPassesAbortOn(t *testing.T) {
	h := recoverer(quietLogger())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("recovered %v", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	t.Fatal("no panic")
}
