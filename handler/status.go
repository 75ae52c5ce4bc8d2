package handler

import (
	"errors"
	"net/http"

	"github.com/godurable/functions/durable"
)

// getStatus is GET {base}/instances/{instanceId}?showHistory=&
// showHistoryOutput=&showInput=&returnInternalServerErrorOnFailure=.
// It answers 404 with an empty body for an unknown instance; 202 with
// Location (this request's URL) and Retry-After: 5 while the instance is
// Running, Pending, ContinuedAsNew or Suspended; 200 once it is Completed,
// Terminated, Canceled or Failed (500 for Failed when
// returnInternalServerErrorOnFailure=true). The body is the status
// payload; an invalid boolean parameter is a 400 naming it.
func (s *server) getStatus(w http.ResponseWriter, r *http.Request, id string) {
	q, err := parseStatusQuery(r)
	if err != nil {
		badArguments(w, err.Error())
		return
	}
	s.answerStatus(w, r, id, q)
}

// answerStatus reads instance id and answers with its status as getStatus
// describes.
func (s *server) answerStatus(w http.ResponseWriter, r *http.Request, id string, q statusQuery) {
	var opts []durable.StatusOption
	if q.showHistory {
		opts = append(opts, durable.WithHistory())
	}
	if !q.history.showInput {
		opts = append(opts, durable.WithoutInput())
	}
	st, err := s.cfg.Durable.GetStatus(r.Context(), id, opts...)
	if errors.Is(err, durable.ErrInstanceNotFound) {
		notFound(w)
		return
	}
	if err != nil {
		serverError(w, s.log, "reading instance status failed", err, "instanceId", id)
		return
	}
	p := newStatusPayload(st, q.showHistory, q.history)
	switch st.RuntimeStatus {
	case durable.StatusRunning, durable.StatusPending, durable.StatusContinuedAsNew, durable.StatusSuspended:
		w.Header().Set("Location", s.origin(r)+r.URL.RequestURI())
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusAccepted, p)
	case durable.StatusFailed:
		code := http.StatusOK
		if q.fail500 {
			code = http.StatusInternalServerError
		}
		writeJSON(w, code, p)
	case durable.StatusCompleted, durable.StatusTerminated, durable.StatusCanceled:
		writeJSON(w, http.StatusOK, p)
	default:
		s.log.Error("unknown runtime status", "instanceId", id, "runtimeStatus", st.RuntimeStatus.String())
		writeJSON(w, http.StatusInternalServerError, p)
	}
}
