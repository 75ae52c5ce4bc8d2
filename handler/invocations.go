package handler

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/internal/telemetry"
)

// invoke runs a non-HTTP function the host invokes as POST /{FunctionName}
// with a {Data, Metadata} body, and answers 200 with the function's
// {Outputs, Logs, ReturnValue}. Function names match case-insensitively.
// Any other answer fails the invocation (the host retries or poisons a
// queue message), so problems get a status and a JSON body the host logs:
// 404 for a function this handler does not serve, 400 for a body that is
// not an invocation request, 500 when the function returns an error.
func (s *server) invoke(w http.ResponseWriter, r *http.Request) {
	name := routeParam(r, "function")
	fn := s.invocation(name)
	if fn == nil {
		writeError(w, http.StatusNotFound, "Unknown function", "no function named '"+name+"' is served by this handler")
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
	ctx, logs := telemetry.CollectLogs(r.Context())
	resp, err := fn(ctx, &req)
	if err != nil {
		s.log.Error("function failed", "function", name, "invocationId", r.Header.Get("X-Azure-Functions-InvocationId"), "error", err)
		writeError(w, http.StatusInternalServerError, "Function '"+name+"' failed", err.Error())
		return
	}
	if resp == nil {
		resp = &bindings.InvokeResponse{}
	}
	if resp.Outputs == nil {
		resp.Outputs = map[string]any{}
	}
	resp.Logs = append(resp.Logs, logs()...)
	if resp.Logs == nil {
		resp.Logs = []string{}
	}
	writeJSON(w, http.StatusOK, resp)
}

// invocation finds the function called name: exactly, else ignoring case.
func (s *server) invocation(name string) InvocationFunc {
	if fn, ok := s.cfg.Invocations[name]; ok {
		return fn
	}
	for k, fn := range s.cfg.Invocations {
		if strings.EqualFold(k, name) {
			return fn
		}
	}
	return nil
}
