package handler

import "testing"

// The host's readiness probe must be answered without storage: the router
// here has a client with no backend at all, and a Ready channel that is
// never closed.
func TestHealthAnswersWithoutStorage(t *testing.T) {
	h := newTestRouter(nil, func(c *Config) { c.Ready = make(chan struct{}) })
	rec := serve(h, "GET", "/", "")
	if rec.Code != 200 || rec.Body.String() != `{"status":"ok"}` || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}
