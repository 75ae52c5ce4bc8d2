package handler

import (
	"crypto/subtle"
	"net/http"
)

// requireKey enforces a configured key on the durable routes, as the
// Functions host enforces function keys: the key comes in the
// x-functions-key header or the code query parameter. Without a key the
// routes are open, as they are under `func start`.
func requireKey(key string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if key == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got := r.Header.Get("x-functions-key")
			if got == "" {
				got = r.URL.Query().Get("code")
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(key)) != 1 {
				writeError(w, http.StatusUnauthorized, "Unauthorized: a valid key is required (x-functions-key header or code query parameter)", "")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
