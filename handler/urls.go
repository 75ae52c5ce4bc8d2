package handler

import (
	"net/http"
	"net/url"
	"strings"
)

// origin is the scheme and host callers reach this app at: the configured
// public base URL, else the request's, honouring X-Forwarded-Proto /
// X-Forwarded-Host and the standard Forwarded header.
func (s *server) origin(r *http.Request) string {
	if s.cfg.PublicBaseURL != "" {
		return strings.TrimRight(s.cfg.PublicBaseURL, "/")
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if f := r.Header.Get("Forwarded"); f != "" {
		first, _, _ := strings.Cut(f, ",")
		for _, kv := range strings.Split(first, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				continue
			}
			v = strings.Trim(v, `"`)
			switch strings.ToLower(k) {
			case "proto":
				scheme = v
			case "host":
				host = v
			}
		}
	}
	if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p != "" {
		scheme = p
	}
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
		host = h
	}
	return scheme + "://" + host
}

func firstValue(h string) string {
	v, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(v)
}

// apiBase is the management API's public base for links in an answer to
// r: requests under /runtime/webhooks/durabletask link there (standalone,
// as Durable Functions does); everything else links to the DurableTaskApi
// function's route, which the Functions host forwards.
func (s *server) apiBase(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(r.URL.Path), webhookBase) {
		return s.origin(r) + webhookBase
	}
	p := "/durabletask"
	if s.cfg.RoutePrefix != "" {
		p = "/" + s.cfg.RoutePrefix + p
	}
	return s.origin(r) + p
}

// managementQuery is the query every generated management URL carries.
func (s *server) managementQuery() string {
	q := "taskHub=" + url.QueryEscape(s.cfg.Durable.TaskHubName()) + "&connection=" + url.QueryEscape(s.cfg.ConnectionName)
	if s.cfg.APIKey != "" {
		q += "&code=" + url.QueryEscape(s.cfg.APIKey)
	}
	return q
}

// checkStatus is the check-status payload (createCheckStatusResponse):
// the instance id and every management URL for it.
type checkStatus struct {
	ID                    string `json:"id"`
	StatusQueryGetURI     string `json:"statusQueryGetUri"`
	SendEventPostURI      string `json:"sendEventPostUri"`
	TerminatePostURI      string `json:"terminatePostUri"`
	RewindPostURI         string `json:"rewindPostUri"`
	PurgeHistoryDeleteURI string `json:"purgeHistoryDeleteUri"`
	RestartPostURI        string `json:"restartPostUri"`
	SuspendPostURI        string `json:"suspendPostUri"`
	ResumePostURI         string `json:"resumePostUri"`
}

func (s *server) checkStatusFor(r *http.Request, id string) checkStatus {
	inst := s.apiBase(r) + "/instances/" + url.PathEscape(id)
	q := s.managementQuery()
	return checkStatus{
		ID:                    id,
		StatusQueryGetURI:     inst + "?" + q,
		SendEventPostURI:      inst + "/raiseEvent/{eventName}?" + q,
		TerminatePostURI:      inst + "/terminate?reason={text}&" + q,
		RewindPostURI:         inst + "/rewind?reason={text}&" + q,
		PurgeHistoryDeleteURI: inst + "?" + q,
		RestartPostURI:        inst + "/restart?" + q,
		SuspendPostURI:        inst + "/suspend?reason={text}&" + q,
		ResumePostURI:         inst + "/resume?reason={text}&" + q,
	}
}

// writeCheckStatus answers 202 with the check-status payload, Location
// and Retry-After, as Durable Functions' HTTP starters do.
func (s *server) writeCheckStatus(w http.ResponseWriter, r *http.Request, id string) {
	p := s.checkStatusFor(r, id)
	w.Header().Set("Location", p.StatusQueryGetURI)
	w.Header().Set("Retry-After", "10")
	writeJSON(w, http.StatusAccepted, p)
}
