package handler

import (
	"net/http"
	"strings"
)

// management serves the Durable Functions HTTP management API below base.
// Like Durable Functions it matches literal segments case-insensitively
// and ignores a trailing slash.
func (s *server) management(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := r.URL.EscapedPath()
		if len(rest) >= len(base) && strings.EqualFold(rest[:len(base)], base) {
			rest = rest[len(base):]
		}
		segs := splitPath(rest)
		if len(segs) == 0 {
			notFound(w)
			return
		}
		switch strings.ToLower(segs[0]) {
		case "orchestrators":
			if r.Method != http.MethodPost || len(segs) < 2 || len(segs) > 3 {
				notFound(w)
				return
			}
			id := ""
			if len(segs) == 3 {
				id = segs[2]
			}
			s.startOrchestration(w, r, segs[1], id)
		case "entities":
			s.entities(w, r, segs[1:])
		case "hub":
			if r.Method != http.MethodGet || len(segs) != 1 {
				notFound(w)
				return
			}
			s.hubInfo(w, r)
		case "instances":
			switch {
			case len(segs) == 1 && r.Method == http.MethodGet:
				s.listInstances(w, r)
			case len(segs) == 1 && r.Method == http.MethodDelete:
				s.purgeInstances(w, r)
			case len(segs) == 2 && r.Method == http.MethodGet:
				s.getStatus(w, r, segs[1])
			case len(segs) == 2 && r.Method == http.MethodDelete:
				s.purgeInstance(w, r, segs[1])
			case len(segs) == 4 && r.Method == http.MethodPost && strings.EqualFold(segs[2], "raiseEvent"):
				s.raiseEvent(w, r, segs[1], segs[3])
			case len(segs) == 3 && r.Method == http.MethodPost:
				s.instanceCommand(w, r, segs[1], strings.ToLower(segs[2]))
			default:
				notFound(w)
			}
		default:
			notFound(w)
		}
	})
}

// notFound is Durable Functions' answer to an unknown API route: 404,
// empty body.
func notFound(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }

// splitPath splits an escaped path into unescaped segments, dropping
// empty ones (so a trailing slash is irrelevant).
func splitPath(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			continue
		}
		if u, err := pathUnescape(seg); err == nil {
			seg = u
		}
		out = append(out, seg)
	}
	return out
}
