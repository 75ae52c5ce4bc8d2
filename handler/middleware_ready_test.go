package handler

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDurableRoutesWaitForReadiness(t *testing.T) {
	ready := make(chan struct{})
	h := newTestRouter(nil, func(c *Config) { c.Ready = ready })
	req := httptest.NewRequest("GET", "/api/durabletask/nothing", nil)
	ctx, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	if rec.Body.Len() != 0 || rec.Code != 200 { // nothing written: the request was held until its context ended
		t.Fatalf("a request before readiness must wait, got %d %s", rec.Code, rec.Body)
	}
	close(ready)
	if rec := serve(h, "GET", "/api/durabletask/nothing", ""); rec.Code != 404 {
		t.Fatalf("after readiness: %d", rec.Code)
	}
}
