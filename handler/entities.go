package handler

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/godurable/functions/durable"
)

// entities serves .../entities[/{name}[/{key}]]: GET state or list, POST
// a signal (?op=), DELETE (the "delete" operation).
func (s *server) entities(w http.ResponseWriter, r *http.Request, segs []string) {
	switch {
	case len(segs) <= 1 && r.Method == http.MethodGet:
		name := ""
		if len(segs) == 1 {
			name = segs[0]
		}
		s.listEntities(w, r, name)
	case len(segs) == 2:
		key := segs[1]
		if key == "$" {
			key = "" // Durable Functions' spelling of the empty key
		}
		if segs[0] == "" {
			writeError(w, http.StatusBadRequest, "The entity name must not be empty.", "")
			return
		}
		id := durable.NewEntityID(segs[0], key)
		switch r.Method {
		case http.MethodGet:
			s.getEntity(w, r, id)
		case http.MethodPost:
			s.signalEntity(w, r, id, queryValue(r, "op"))
		case http.MethodDelete:
			s.signalEntity(w, r, id, "delete")
		default:
			notFound(w)
		}
	default:
		notFound(w)
	}
}

func (s *server) getEntity(w http.ResponseWriter, r *http.Request, id durable.EntityID) {
	md, err := s.cfg.Durable.GetEntity(r.Context(), id)
	if errors.Is(err, durable.ErrInstanceNotFound) {
		notFound(w)
		return
	}
	if err != nil {
		serverError(w, s.log, "reading the entity failed", err, "entity", id.String())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(jsonValue(md.State))
}

func (s *server) signalEntity(w http.ResponseWriter, r *http.Request, id durable.EntityID, op string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var input any
	if len(body) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
			if !json.Valid(body) {
				writeError(w, http.StatusBadRequest, "Could not parse JSON content: the body is not valid JSON", "")
				return
			}
			input = json.RawMessage(body)
		} else {
			input = string(body) // any other content is the raw text
		}
	}
	if err := s.cfg.Durable.SignalEntity(r.Context(), id, op, input); err != nil {
		if errors.Is(err, durable.ErrInvalidInput) {
			badArguments(w, err.Error())
			return
		}
		serverError(w, s.log, "signaling the entity failed", err, "entity", id.String())
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

type entityStatusPayload struct {
	EntityID struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	} `json:"entityId"`
	LastOperationTime string          `json:"lastOperationTime"`
	State             json.RawMessage `json:"state,omitempty"`
}

func (s *server) listEntities(w http.ResponseWriter, r *http.Request, name string) {
	fetch, err := queryBool(r, "fetchState", false)
	if err != nil {
		badArguments(w, err.Error())
		return
	}
	top := 100
	if v := queryValue(r, "top"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top <= 0 || top > 1000 {
			badArguments(w, "top must be a whole number from 1 to 1000")
			return
		}
	}
	token := r.Header.Get(continuationHeader)
	if token == "null" {
		token = ""
	}
	page, err := s.cfg.Durable.ListEntities(r.Context(), durable.EntityQuery{Name: name, FetchState: fetch, PageSize: top, ContinuationToken: token})
	if err != nil {
		badArguments(w, err.Error())
		return
	}
	out := make([]entityStatusPayload, 0, len(page.Entities))
	for _, e := range page.Entities {
		var p entityStatusPayload
		p.EntityID.Name, p.EntityID.Key = e.ID.Name, e.ID.Key
		p.LastOperationTime = e.LastOperationTime.UTC().Format("2006-01-02T15:04:05.0000000Z")
		if fetch {
			p.State = jsonValue(e.State)
		}
		out = append(out, p)
	}
	w.Header().Set(continuationHeader, page.ContinuationToken)
	writeJSON(w, http.StatusOK, out)
}
