package handler

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// errorBody is Durable Functions' error shape (ASP.NET's HttpError): a
// Message, plus what went wrong in ExceptionMessage.
type errorBody struct {
	Message          string `json:"Message"`
	ExceptionMessage string `json:"ExceptionMessage,omitempty"`
}

// writeError answers with a JSON error body.
func writeError(w http.ResponseWriter, status int, message, detail string) {
	writeJSON(w, status, errorBody{Message: message, ExceptionMessage: detail})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // URLs keep their '&'
	err := enc.Encode(v)
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"Message":"Something went wrong while processing your request","ExceptionMessage":"response does not encode as JSON"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
