package handler

import (
	"net/http"
	"time"
)

// readyWait is how long a request waits for storage to become ready
// before it is answered 503.
const readyWait = 30 * time.Second

// waitReady holds requests until ready is closed (the task hub exists),
// so the first requests after a start don't fail while the host's
// readiness probe, which is not held, has already been answered.
func waitReady(ready <-chan struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ready != nil {
				select {
				case <-ready:
				case <-r.Context().Done():
					return
				case <-time.After(readyWait):
					w.Header().Set("Retry-After", "5")
					writeError(w, http.StatusServiceUnavailable, "The durable task hub is not ready yet", "storage could not be prepared; see the handler's log")
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
