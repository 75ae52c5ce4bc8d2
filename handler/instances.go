package handler

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
)

const continuationHeader = "x-ms-continuation-token"

// parseQuery reads the filters shared by listing and purging.
func parseQuery(r *http.Request) (durable.Query, error) {
	var q durable.Query
	v := r.URL.Query()
	var errs []error
	for _, name := range []string{"createdTimeFrom", "createdTimeTo"} {
		s := v.Get(name)
		if s == "" {
			continue
		}
		t, err := parseTime(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("query parameter %s=%q is not an ISO 8601 date and time", name, s))
			continue
		}
		if name == "createdTimeFrom" {
			q.CreatedFrom = t
		} else {
			q.CreatedTo = t
		}
	}
	for _, raw := range v["runtimeStatus"] {
		for _, name := range strings.Split(raw, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			st, err := history.ParseStatus(name, false)
			if err != nil {
				errs = append(errs, fmt.Errorf("query parameter runtimeStatus: %w", err))
				continue
			}
			q.RuntimeStatus = append(q.RuntimeStatus, st)
		}
	}
	q.InstanceIDPrefix = v.Get("instanceIdPrefix")
	if s := v.Get("top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 1000 {
			errs = append(errs, fmt.Errorf("query parameter top=%q is not a whole number from 1 to 1000", s))
		}
		q.PageSize = n
	}
	var err error
	q.ShowInput, err = queryBool(r, "showInput", true)
	errs = append(errs, err)
	return q, errors.Join(errs...)
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// listInstances is GET .../instances: one page of status payloads, with
// x-ms-continuation-token always set (empty on the last page).
func (s *server) listInstances(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r)
	if err != nil {
		badArguments(w, err.Error())
		return
	}
	if tok := r.Header.Get(continuationHeader); tok != "" && tok != "null" {
		q.ContinuationToken = tok
	}
	page, err := s.cfg.Durable.ListInstances(r.Context(), q)
	if err != nil {
		s.log.Error("listing instances failed", "error", err)
		badArguments(w, err.Error())
		return
	}
	out := make([]statusPayload, 0, len(page.Instances))
	for _, st := range page.Instances {
		out = append(out, newStatusPayload(st, false, historyOptions{showInput: q.ShowInput}))
	}
	w.Header().Set(continuationHeader, page.ContinuationToken)
	writeJSON(w, http.StatusOK, out)
}

type purgeResult struct {
	InstancesDeleted int `json:"instancesDeleted"`
}

// purgeInstance is DELETE .../instances/{id}.
func (s *server) purgeInstance(w http.ResponseWriter, r *http.Request, id string) {
	err := s.cfg.Durable.Purge(r.Context(), id)
	switch {
	case errors.Is(err, durable.ErrInstanceNotFound):
		notFound(w)
	case err != nil:
		serverError(w, s.log, "purging the instance failed", err, "instanceId", id)
	default:
		writeJSON(w, http.StatusOK, purgeResult{1})
	}
}

// purgeInstances is DELETE .../instances?createdTimeFrom=…: createdTimeFrom
// is required; 404 when nothing matched.
func (s *server) purgeInstances(w http.ResponseWriter, r *http.Request) {
	if queryValue(r, "createdTimeFrom") == "" {
		writeJSON(w, http.StatusBadRequest, "Please provide value for 'createdTimeFrom' parameter.")
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		badArguments(w, err.Error())
		return
	}
	if q.CreatedTo.IsZero() {
		q.CreatedTo = time.Now().UTC()
	}
	n, err := s.cfg.Durable.PurgeInstances(r.Context(), q)
	if err != nil {
		serverError(w, s.log, "purging instances failed", err)
		return
	}
	if n == 0 {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, purgeResult{n})
}

// rewind is POST .../instances/{id}/rewind: 202, 404 unknown, 412 unless Failed.
func (s *server) rewind(w http.ResponseWriter, r *http.Request, id, reason string) {
	err := s.cfg.Durable.Rewind(r.Context(), id, reason)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusAccepted)
	case errors.Is(err, durable.ErrInstanceNotFound):
		writeError(w, http.StatusNotFound, "No instance with ID '"+id+"' was found.", "")
	case errors.Is(err, durable.ErrNotFailed):
		writeError(w, http.StatusPreconditionFailed, "The instance with ID '"+id+"' is not in the Failed state and cannot be rewound.", err.Error())
	default:
		serverError(w, s.log, "rewinding the instance failed", err, "instanceId", id)
	}
}

// restart is POST .../instances/{id}/restart[?restartWithNewInstanceId=false]:
// the 202 check-status payload of the new instance.
func (s *server) restart(w http.ResponseWriter, r *http.Request, id string) {
	newID, err := queryBool(r, "restartWithNewInstanceId", true)
	if err != nil {
		badArguments(w, err.Error())
		return
	}
	started, err := s.cfg.Durable.Restart(r.Context(), id, !newID)
	switch {
	case errors.Is(err, durable.ErrInstanceNotFound):
		writeError(w, http.StatusBadRequest, "InstanceId does not match a valid orchestration instance.", "")
	case errors.Is(err, durable.ErrInstanceExists):
		writeError(w, http.StatusConflict, "An instance with ID '"+id+"' already exists and is not in a terminal state.", err.Error())
	case errors.Is(err, durable.ErrUnknownFunction):
		writeError(w, http.StatusBadRequest, "The instance's orchestrator is not registered in this app.", err.Error())
	case err != nil:
		serverError(w, s.log, "restarting the instance failed", err, "instanceId", id)
	default:
		s.writeCheckStatus(w, r, started)
	}
}
