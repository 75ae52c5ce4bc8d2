package handler

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// bodyLimit caps request bodies; readBody reports an oversized one as 413.
func bodyLimit(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				writeError(w, http.StatusRequestEntityTooLarge, "Request body too large",
					fmt.Sprintf("the body has %d bytes; the limit is %d", r.ContentLength, limit))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}

// readBody reads the whole body, answering 413 itself when it is too
// large; ok is false when an answer was written.
func readBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "Request body too large", fmt.Sprintf("the limit is %d bytes", mbe.Limit))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "Could not read the request body", err.Error())
		return nil, false
	}
	return b, true
}
