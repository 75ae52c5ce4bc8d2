package handler

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/godurable/functions/durable"
)

// HubInspector is optionally implemented by Config.Durable
// (*durable.Client does): a read-only view of the task hub for the
// dashboard's hub page.
type HubInspector interface {
	InspectHub(ctx context.Context, poisonMessages int) (*durable.HubInfo, error)
}

// hubInfo is GET {base}/hub[?poison=N] (not a Durable Functions route): the
// task hub's partitions and owners, queue depths and up to N (default 10,
// at most 32) poison messages. 501 when the engine has no hub view.
func (s *server) hubInfo(w http.ResponseWriter, r *http.Request) {
	hi, ok := s.cfg.Durable.(HubInspector)
	if !ok {
		writeError(w, http.StatusNotImplemented, "This task hub cannot be inspected.", "")
		return
	}
	n := 10
	if v := queryValue(r, "poison"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 32 {
			badArguments(w, "query parameter poison="+strconv.Quote(v)+" is not a whole number from 0 to 32")
			return
		}
		n = p
	}
	info, err := hi.InspectHub(r.Context(), n)
	switch {
	case errors.Is(err, durable.ErrHubInspectionUnsupported):
		writeError(w, http.StatusNotImplemented, "This task hub cannot be inspected.", "")
	case err != nil:
		s.log.Error("inspecting the task hub failed", "error", err)
		writeError(w, http.StatusInternalServerError, msgServerError, "reading the task hub's partitions and queues failed")
	default:
		writeJSON(w, http.StatusOK, info)
	}
}
