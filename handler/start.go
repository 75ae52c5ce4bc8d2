package handler

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/godurable/functions/durable"
)

// start is the HttpStart function: POST /api/orchestrators/{functionName}[/{instanceId}].
func (s *server) start(w http.ResponseWriter, r *http.Request) {
	s.startOrchestration(w, r, chi.URLParam(r, "functionName"), chi.URLParam(r, "instanceId"))
}

// startOrchestration starts an instance with the request body as input
// and answers with the check-status payload, or, given both timeout and
// pollingInterval, waits for completion first.
func (s *server) startOrchestration(w http.ResponseWriter, r *http.Request, name, id string) {
	timeout, hasTimeout, err := querySeconds(r, "timeout")
	if err != nil {
		writeError(w, http.StatusBadRequest, "One or more of the arguments submitted is incorrect", err.Error())
		return
	}
	interval, hasInterval, err := querySeconds(r, "pollingInterval")
	if err != nil {
		writeError(w, http.StatusBadRequest, "One or more of the arguments submitted is incorrect", err.Error())
		return
	}
	if hasTimeout && hasInterval && interval > timeout {
		writeError(w, http.StatusBadRequest, "One or more of the arguments submitted is incorrect",
			"pollingInterval must not be greater than timeout")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var input any
	if len(body) > 0 {
		if !json.Valid(body) {
			writeError(w, http.StatusBadRequest, "Invalid JSON content", "the request body is not valid JSON")
			return
		}
		input = json.RawMessage(body)
	}
	var opts []durable.StartOption
	if id != "" {
		opts = append(opts, durable.WithInstanceID(id))
	}
	requested := id
	id, err = s.cfg.Durable.StartNew(r.Context(), name, input, opts...)
	switch {
	case errors.Is(err, durable.ErrUnknownFunction):
		writeError(w, http.StatusBadRequest, "The function '"+name+"' doesn't exist, is disabled, or is not an orchestrator function. Additional info: the function must be registered as an orchestrator in this app.", err.Error())
		return
	case errors.Is(err, durable.ErrInstanceExists):
		writeError(w, http.StatusConflict, "An instance with ID '"+requested+"' already exists and is not in a terminal state.", err.Error())
		return
	case errors.Is(err, durable.ErrInvalidInput):
		writeError(w, http.StatusBadRequest, "One or more of the arguments submitted is incorrect", err.Error())
		return
	case err != nil:
		s.log.Error("starting orchestration failed", "orchestrator", name, "error", err)
		writeError(w, http.StatusInternalServerError, "Something went wrong while processing your request", err.Error())
		return
	}
	if hasTimeout && hasInterval {
		s.waitOrCheckStatus(w, r, id, timeout, interval)
		return
	}
	s.writeCheckStatus(w, r, id)
}

// waitOrCheckStatus polls the instance until it finishes or timeout
// passes: Completed answers 200 with the output, other terminal statuses
// with the status payload, and an unfinished instance with the 202
// check-status payload.
func (s *server) waitOrCheckStatus(w http.ResponseWriter, r *http.Request, id string, timeout, interval time.Duration) {
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	if interval <= 0 {
		interval = time.Second
	}
	for {
		st, err := s.cfg.Durable.GetStatus(ctx, id)
		if err == nil && st.IsTerminal() {
			if st.RuntimeStatus == durable.StatusCompleted {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(jsonValue(st.Output))
				return
			}
			writeJSON(w, http.StatusOK, newStatusPayload(st, false, historyOptions{showInput: true}))
			return
		}
		select {
		case <-ctx.Done():
			s.writeCheckStatus(w, r, id)
			return
		case <-time.After(interval):
		}
	}
}
