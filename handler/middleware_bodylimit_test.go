package handler

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/godurable/functions/bindings"
)

func TestBodyLimit(t *testing.T) {
	h := newTestRouter(map[string]InvocationFunc{
		"F": func(context.Context, *bindings.InvokeRequest) (*bindings.InvokeResponse, error) { return nil, nil },
	}) // MaxBodyBytes: 1024
	// Declared too large: refused before reading.
	wantJSONError(t, serve(h, "POST", "/F", strings.Repeat(" ", 1025)), 413, "the limit is 1024")
	// Not declared (chunked): cut off while reading.
	req := httptest.NewRequest("POST", "/F", io.MultiReader(strings.NewReader("{}"), strings.NewReader(strings.Repeat(" ", 2000))))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	wantJSONError(t, rec, 413, "the limit is 1024")
	// At the limit: fine.
	if rec := serve(h, "POST", "/F", "{}"+strings.Repeat(" ", 1022)); rec.Code != 200 {
		t.Fatalf("at the limit: %d %s", rec.Code, rec.Body)
	}
	// The default limit is 8 MiB.
	if got := (Config{}).withDefaults().MaxBodyBytes; got != 8<<20 {
		t.Fatalf("default limit %d", got)
	}
}
