package handler

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/godurable/functions/durable"
)

// raiseEvent is POST .../instances/{id}/raiseEvent/{event}: 202 when sent,
// 404 for an unknown instance, 410 for a finished one, 400 for a body that
// is not application/json.
func (s *server) raiseEvent(w http.ResponseWriter, r *http.Request, id, event string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var data any
	if len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" {
			writeError(w, http.StatusBadRequest, "Only application/json request content is supported", "Content-Type is "+r.Header.Get("Content-Type"))
			return
		}
		if !json.Valid(body) {
			writeError(w, http.StatusBadRequest, "Invalid JSON content", "the request body is not valid JSON")
			return
		}
		data = json.RawMessage(body)
	}
	s.commandResult(w, id, s.cfg.Durable.RaiseEvent(r.Context(), id, event, data))
}

// instanceCommand is POST .../instances/{id}/{terminate|suspend|resume}?reason=.
func (s *server) instanceCommand(w http.ResponseWriter, r *http.Request, id, op string) {
	reason := queryValue(r, "reason")
	var err error
	switch op {
	case "terminate":
		err = s.cfg.Durable.Terminate(r.Context(), id, reason)
	case "suspend":
		err = s.cfg.Durable.Suspend(r.Context(), id, reason)
	case "resume":
		err = s.cfg.Durable.Resume(r.Context(), id, reason)
	case "rewind":
		s.rewind(w, r, id, reason)
		return
	case "restart":
		s.restart(w, r, id)
		return
	default:
		notFound(w)
		return
	}
	s.commandResult(w, id, err)
}

// commandResult maps a command's outcome to Durable Functions' codes.
func (s *server) commandResult(w http.ResponseWriter, id string, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusAccepted)
	case errors.Is(err, durable.ErrInstanceNotFound):
		writeError(w, http.StatusNotFound, "No instance with ID '"+id+"' was found.", "")
	case errors.Is(err, durable.ErrInstanceFinished):
		writeError(w, http.StatusGone, "The instance with ID '"+id+"' has already finished.", err.Error())
	case errors.Is(err, durable.ErrInvalidInput):
		badArguments(w, err.Error())
	default:
		serverError(w, s.log, "the instance command failed", err, "instanceId", id)
	}
}
