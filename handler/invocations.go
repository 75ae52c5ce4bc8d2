package handler

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/godurable/functions/bindings"
)

// invoke runs a non-HTTP function the host invokes as POST /{FunctionName}.
// A non-2xx answer fails the invocation, so errors are 4xx/5xx with a JSON
// body the host logs.
func (s *server) invoke(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "function")
	var fn InvocationFunc
	for k, f := range s.cfg.Invocations {
		if strings.EqualFold(k, name) {
			fn = f
			break
		}
	}
	if fn == nil {
		writeError(w, http.StatusNotFound, "No function named '"+name+"' is served by this handler", "")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req bindings.InvokeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid invocation request", err.Error())
		return
	}
	resp, err := fn(r.Context(), &req)
	if err != nil {
		s.log.Error("function failed", "function", name, "error", err)
		writeError(w, http.StatusInternalServerError, "Function '"+name+"' failed", err.Error())
		return
	}
	if resp == nil {
		resp = &bindings.InvokeResponse{}
	}
	if resp.Outputs == nil {
		resp.Outputs = map[string]any{}
	}
	if resp.Logs == nil {
		resp.Logs = []string{}
	}
	writeJSON(w, http.StatusOK, resp)
}
