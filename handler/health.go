package handler

import "net/http"

// health answers the host's readiness probe and health pings. It touches
// no storage, so it is fast even when storage is slow.
func health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}
