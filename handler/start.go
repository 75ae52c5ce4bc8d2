package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/godurable/functions/durable"
)

// startRoutes registers the HttpStart function, route
// orchestrators/{functionName}/{instanceId?} under the host's route prefix.
// The management API's own start route, {base}/orchestrators/..., is
// dispatched by management.
func (s *server) startRoutes(r chi.Router, prefix string) {
	r.Post(prefix+"/orchestrators/{functionName}", s.start)
	r.Post(prefix+"/orchestrators/{functionName}/{instanceId}", s.start)
}

// start is the HttpStart function: POST /api/orchestrators/{functionName}[/{instanceId}].
func (s *server) start(w http.ResponseWriter, r *http.Request) {
	s.startOrchestration(w, r, routeParam(r, "functionName"), routeParam(r, "instanceId"))
}

// routeParam is a chi route parameter, unescaped: chi matches the escaped
// path when the request has one (an id with %2F in it), and then its
// parameters are escaped too.
func routeParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if r.URL.RawPath != "" {
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// minPollingInterval keeps a zero pollingInterval from hammering storage.
const minPollingInterval = 50 * time.Millisecond

// startOrchestration starts orchestrator name (instance id, or a new id
// when id is empty) with the request body as input: no body is no input,
// anything else must be JSON (else 400 "Invalid JSON content"). It
// answers 202 with the check-status payload, or, given both timeout and
// pollingInterval (seconds), waits for the instance first (see
// waitOrCheckStatus). An unknown orchestrator or an invalid instance id
// is a 400, an instance with that id that has not finished a 409.
func (s *server) startOrchestration(w http.ResponseWriter, r *http.Request, name, id string) {
	timeout, hasTimeout, err := querySeconds(r, "timeout")
	if err != nil {
		badArguments(w, err.Error())
		return
	}
	interval, hasInterval, err := querySeconds(r, "pollingInterval")
	if err != nil {
		badArguments(w, err.Error())
		return
	}
	wait := hasTimeout && hasInterval
	var sq statusQuery
	if wait {
		if interval > timeout {
			badArguments(w, fmt.Sprintf("Total timeout %g should be bigger than retry timeout %g", timeout.Seconds(), interval.Seconds()))
			return
		}
		if sq, err = parseStatusQuery(r); err != nil {
			badArguments(w, err.Error())
			return
		}
		sq.fail500 = false // as Durable Functions: a failed instance is a 200 here
	}
	if id != "" {
		if err := durable.ValidateInstanceID(id); err != nil {
			badArguments(w, err.Error())
			return
		}
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var input any
	if body = bytes.TrimSpace(body); len(body) > 0 {
		if err := json.Unmarshal(body, new(json.RawMessage)); err != nil {
			writeError(w, http.StatusBadRequest, "Invalid JSON content", "the request body is not JSON: "+err.Error())
			return
		}
		input = json.RawMessage(body)
	}
	var opts []durable.StartOption
	if id != "" {
		opts = append(opts, durable.WithInstanceID(id))
	}
	started, err := s.cfg.Durable.StartNew(r.Context(), name, input, opts...)
	switch {
	case errors.Is(err, durable.ErrUnknownFunction):
		badArguments(w, "The function '"+name+"' doesn't exist, is disabled, or is not an orchestrator function. "+
			"Additional info: no orchestrator function of that name is registered in this app.")
		return
	case errors.Is(err, durable.ErrInstanceExists):
		writeError(w, http.StatusConflict, "An orchestration instance with ID '"+id+"' already exists and has not finished.", err.Error())
		return
	case errors.Is(err, durable.ErrInvalidInput):
		badArguments(w, err.Error())
		return
	case err != nil:
		serverError(w, s.log, "starting an orchestration failed", err, "orchestrator", name, "instanceId", id)
		return
	}
	s.log.Debug("orchestration started", "orchestrator", name, "instanceId", started)
	if wait {
		s.waitOrCheckStatus(w, r, started, timeout, interval, sq)
		return
	}
	s.writeCheckStatus(w, r, started)
}

// waitOrCheckStatus polls instance id every interval until it finishes or
// timeout has passed, as Durable Functions'
// WaitForCompletionOrCreateCheckStatusResponse does: Completed answers 200
// with the orchestration's output as the body; Failed, Terminated and
// Canceled answer with the status (200 and the status payload, shaped by
// sq); an instance still running at the timeout gets the 202 check-status
// payload.
func (s *server) waitOrCheckStatus(w http.ResponseWriter, r *http.Request, id string, timeout, interval time.Duration, sq statusQuery) {
	interval = max(interval, minPollingInterval)
	deadline := time.Now().Add(timeout)
	for {
		st, err := s.cfg.Durable.GetStatus(r.Context(), id, durable.WithoutInput())
		switch {
		case err == nil && st.RuntimeStatus == durable.StatusCompleted:
			writeRawJSON(w, http.StatusOK, jsonValue(st.Output))
			return
		case err == nil && (st.RuntimeStatus == durable.StatusFailed || st.RuntimeStatus == durable.StatusTerminated ||
			st.RuntimeStatus == durable.StatusCanceled):
			s.answerStatus(w, r, id, sq)
			return
		case err != nil && !errors.Is(err, durable.ErrInstanceNotFound):
			if r.Context().Err() != nil {
				return // the caller went away
			}
			serverError(w, s.log, "reading instance status failed", err, "instanceId", id)
			return
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			s.writeCheckStatus(w, r, id)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(min(remaining, interval)):
		}
	}
}
