package handler

import (
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/godurable/functions/durable"
)

func TestErrorWriters(t *testing.T) {
	rec := httptest.NewRecorder()
	writeError(rec, 409, "Conflict <here>", "a & b")
	if rec.Code != 409 || rec.Body.String() != `{"Message":"Conflict <here>","ExceptionMessage":"a & b"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	writeError(rec, 404, "Not found", "")
	if rec.Body.String() != `{"Message":"Not found"}` {
		t.Fatalf("no detail: %s", rec.Body)
	}
	rec = httptest.NewRecorder()
	badArguments(rec, "top is bad")
	if rec.Code != 400 || rec.Body.String() != `{"Message":"One or more of the arguments submitted is incorrect","ExceptionMessage":"top is bad"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	// A 500 names the operation; the error (which can name sockets) is
	// only logged.
	serverError(rec, quietLogger(), "x failed", errors.New("read tcp 127.0.0.1:42212->127.0.0.1:10001: connection reset by peer"))
	if rec.Code != 500 || rec.Body.String() != `{"Message":"Something went wrong while processing your request","ExceptionMessage":"x failed; the details are in the log"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// Storage that failed without changing anything is a 503 with
	// Retry-After.
	rec = httptest.NewRecorder()
	serverError(rec, quietLogger(), "x failed", fmt.Errorf("enqueue: %w: read tcp 127.0.0.1:1->127.0.0.1:2: reset", durable.ErrUnavailable))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), "127.0.0.1") ||
		!strings.Contains(rec.Body.String(), "x failed") {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	// A value that cannot be encoded is a 500, still in the error shape.
	rec = httptest.NewRecorder()
	writeJSON(rec, 200, math.NaN())
	wantJSONError(t, rec, 500, "does not encode as JSON")
}
