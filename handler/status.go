package handler

import (
	"errors"
	"net/http"

	"github.com/godurable/functions/durable"
)

// getStatus is GET .../instances/{instanceId}: 404 (empty) for an unknown
// instance, 202 with Location and Retry-After while it runs, 200 once it
// finished (500 for Failed with returnInternalServerErrorOnFailure).
func (s *server) getStatus(w http.ResponseWriter, r *http.Request, id string) {
	var opts historyOptions
	showHistory, err1 := queryBool(r, "showHistory", false)
	var err2, err3, err4 error
	opts.showOutput, err2 = queryBool(r, "showHistoryOutput", false)
	opts.showInput, err3 = queryBool(r, "showInput", true)
	fail500, err4 := queryBool(r, "returnInternalServerErrorOnFailure", false)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		writeError(w, http.StatusBadRequest, "One or more of the arguments submitted is incorrect", err.Error())
		return
	}
	var so []durable.StatusOption
	if showHistory {
		so = append(so, durable.WithHistory())
	}
	st, err := s.cfg.Durable.GetStatus(r.Context(), id, so...)
	if errors.Is(err, durable.ErrInstanceNotFound) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err != nil {
		s.log.Error("reading instance status failed", "instanceId", id, "error", err)
		writeError(w, http.StatusInternalServerError, "Something went wrong while processing your request", err.Error())
		return
	}
	p := newStatusPayload(st, showHistory, opts)
	switch st.RuntimeStatus {
	case durable.StatusRunning, durable.StatusPending, durable.StatusContinuedAsNew, durable.StatusSuspended:
		w.Header().Set("Location", s.origin(r)+r.URL.RequestURI())
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusAccepted, p)
	case durable.StatusFailed:
		code := http.StatusOK
		if fail500 {
			code = http.StatusInternalServerError
		}
		writeJSON(w, code, p)
	default:
		writeJSON(w, http.StatusOK, p)
	}
}
