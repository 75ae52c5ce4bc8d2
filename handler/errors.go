package handler

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
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

// serverError logs err and answers 500, as Durable Functions does for an
// unexpected exception.
func serverError(w http.ResponseWriter, log *slog.Logger, what string, err error, attrs ...any) {
	log.Error(what, append(attrs, "error", err)...)
	writeError(w, http.StatusInternalServerError, msgServerError, err.Error())
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
