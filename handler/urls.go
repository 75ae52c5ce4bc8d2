package handler

import (
	"net/http"
	"net/url"
	"strings"
)

// origin is the scheme and host callers reach this app at: the configured
// public base URL if there is one, else the request's own, honouring the
// proxy headers X-Forwarded-Proto / X-Forwarded-Host (first value) over
// the standard Forwarded header (first element) over the connection.
// Header values that are not a plain scheme or host are ignored, so a
// caller cannot point generated links elsewhere with a crafted header.
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
				if validScheme(v) {
					scheme = strings.ToLower(v)
				}
			case "host":
				if validHost(v) {
					host = v
				}
			}
		}
	}
	if p := firstValue(r.Header.Get("X-Forwarded-Proto")); validScheme(p) {
		scheme = strings.ToLower(p)
	}
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
		host = h
	}
	return scheme + "://" + host
}

func firstValue(h string) string {
	v, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(v)
}

func validScheme(s string) bool {
	return strings.EqualFold(s, "http") || strings.EqualFold(s, "https")
}

// validHost accepts host or host:port and nothing that would change the
// URL's meaning (paths, user info, queries).
func validHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "/\\@?# \t") {
		return false
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h
}

// apiBase is the management API's public base for links in an answer to
// r: a request that came in under one of the management bases links to
// that base; anything else (e.g. HttpStart at /api/orchestrators/...)
// links to the first base that the Functions host forwards, i.e. the
// first one that is not /runtime/webhooks/durabletask (by default
// /api/durabletask), because the host never forwards /runtime/... to a
// custom handler.
func (s *server) apiBase(r *http.Request) string {
	if b, ok := s.managementBaseOf(r.URL.Path); ok {
		return s.origin(r) + b
	}
	for _, b := range s.cfg.ManagementPaths {
		if !strings.EqualFold(b, WebhookBasePath) {
			return s.origin(r) + b
		}
	}
	return s.origin(r) + s.cfg.ManagementPaths[0]
}

// managementBaseOf finds the configured management base path p is under.
func (s *server) managementBaseOf(p string) (string, bool) {
	for _, b := range s.cfg.ManagementPaths {
		if len(p) >= len(b) && strings.EqualFold(p[:len(b)], b) && (len(p) == len(b) || p[len(b)] == '/') {
			return b, true
		}
	}
	return "", false
}

// managementQuery is the query every generated management URL carries:
// taskHub and connection, and the key as code when one is configured.
func (s *server) managementQuery() string {
	q := "taskHub=" + url.QueryEscape(s.cfg.Durable.TaskHubName()) + "&connection=" + url.QueryEscape(s.cfg.ConnectionName)
	if s.cfg.APIKey != "" {
		q += "&code=" + url.QueryEscape(s.cfg.APIKey)
	}
	return q
}

// checkStatus is the check-status payload (Durable Functions'
// HttpManagementPayload): the instance id and every management URL for
// it. All nine members are emitted, a superset of the extension's 202
// body (which lacks rewindPostUri).
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

// checkStatusFor builds the check-status payload of instance id for an
// answer to r. The id is path-escaped; {eventName} and {text} are literal
// placeholders for the caller to fill in.
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
// (the status URL) and Retry-After: 10, as Durable Functions' HTTP
// starters do.
func (s *server) writeCheckStatus(w http.ResponseWriter, r *http.Request, id string) {
	p := s.checkStatusFor(r, id)
	w.Header().Set("Location", p.StatusQueryGetURI)
	w.Header().Set("Retry-After", "10")
	writeJSON(w, http.StatusAccepted, p)
}
