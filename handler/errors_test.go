package handler

import (
	"errors"
	"math"
	"net/http/httptest"
	"testing"
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
	serverError(rec, quietLogger(), "x failed", errors.New("disk on fire"))
	if rec.Code != 500 || rec.Body.String() != `{"Message":"Something went wrong while processing your request","ExceptionMessage":"disk on fire"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// A value that cannot be encoded is a 500, still in the error shape.
	rec = httptest.NewRecorder()
	writeJSON(rec, 200, math.NaN())
	wantJSONError(t, rec, 500, "does not encode as JSON")
}
