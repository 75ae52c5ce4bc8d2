package handler

import (
	"log/slog"
	"net/http"
	"runtime/debug"
)

// recoverer turns a panic in a handler into a 500 JSON answer and a log
// line with the stack, instead of a dropped connection.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
					writeError(w, http.StatusInternalServerError, "Something went wrong while processing your request", "internal error")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
