package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/godurable/functions/durable"
)

// errorBody is the one error shape of this handler: Durable Functions'
// (ASP.NET Web API's HttpError), a Message saying what kind of problem it
// is plus ExceptionMessage naming exactly what went wrong.
type errorBody struct {
	Message          string `json:"Message"`
	ExceptionMessage string `json:"ExceptionMessage,omitempty"`
}

// The generic messages Durable Functions' HTTP API answers with.
const (
	msgBadArguments = "One or more of the arguments submitted is incorrect"
	msgServerError  = "Something went wrong while processing your request"
)

// writeError answers status with a JSON error body.
func writeError(w http.ResponseWriter, status int, message, detail string) {
	writeJSON(w, status, errorBody{Message: message, ExceptionMessage: detail})
}

// badArguments is Durable Functions' 400 for an invalid argument.
func badArguments(w http.ResponseWriter, detail string) {
	writeError(w, http.StatusBadRequest, msgBadArguments, detail)
}

// msgUnavailable is the Message of a 503: storage failed transiently and
// nothing was changed.
const msgUnavailable = "The storage service is temporarily unavailable; nothing was changed. Try again later."

// retryAfterSeconds is the Retry-After of a 503.
const retryAfterSeconds = "2"

// serverError logs err and answers, naming the operation (what) but not
// the error itself, whose text can name internal addresses:
// 503 with Retry-After when storage failed transiently and nothing was
// changed (durable.ErrUnavailable), else 500, as Durable Functions does for
// an unexpected exception.
func serverError(w http.ResponseWriter, log *slog.Logger, what string, err error, attrs ...any) {
	if errors.Is(err, durable.ErrUnavailable) {
		log.Warn(what+"; storage is unavailable, answered 503", append(attrs, "error", err)...)
		w.Header().Set("Retry-After", retryAfterSeconds)
		writeError(w, http.StatusServiceUnavailable, msgUnavailable, what+": storage is temporarily unavailable")
		return
	}
	log.Error(what, append(attrs, "error", err)...)
	writeError(w, http.StatusInternalServerError, msgServerError, what+"; the details are in the log")
}

// writeJSON answers status with v as compact JSON (no HTML escaping, so
// URLs keep their '&').
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"Message":"` + msgServerError + `","ExceptionMessage":"the response does not encode as JSON"}`)
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON answers status with b, which is already JSON.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
