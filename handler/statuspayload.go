package handler

import (
	"encoding/json"
	"time"

	"github.com/godurable/functions/durable"
)

// statusPayload is Durable Functions' StatusResponsePayload, members in
// its order. input, customStatus and output are always present (null when
// there is none); historyEvents only when the history was asked for.
type statusPayload struct {
	Name            string          `json:"name"`
	InstanceID      string          `json:"instanceId"`
	RuntimeStatus   string          `json:"runtimeStatus"`
	Input           json.RawMessage `json:"input"`
	CustomStatus    json.RawMessage `json:"customStatus"`
	Output          json.RawMessage `json:"output"`
	CreatedTime     string          `json:"createdTime"`
	LastUpdatedTime string          `json:"lastUpdatedTime"`
	HistoryEvents   *[]object       `json:"historyEvents,omitempty"` // nil: not asked for; may be empty
}

// apiTime is the status API's time format: UTC, whole seconds
// (.NET's ToString("s") + "Z").
func apiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// newStatusPayload builds the payload of st. The stored input, output and
// custom status are parsed as JSON (text that is not JSON becomes a JSON
// string); input is null without ho.showInput. With withHistory the
// history is transformed by historyEvents, except for a Pending instance,
// which Durable Functions never shows history for.
func newStatusPayload(st *durable.InstanceStatus, withHistory bool, ho historyOptions) statusPayload {
	p := statusPayload{
		Name:            st.Name,
		InstanceID:      st.InstanceID,
		RuntimeStatus:   st.RuntimeStatus.String(),
		Input:           jsonValue(st.Input),
		CustomStatus:    jsonValue(st.CustomStatus),
		Output:          jsonValue(st.Output),
		CreatedTime:     apiTime(st.CreatedTime),
		LastUpdatedTime: apiTime(st.LastUpdatedTime),
	}
	if !ho.showInput {
		p.Input = json.RawMessage("null")
	}
	if withHistory && st.RuntimeStatus != durable.StatusPending {
		h := historyEvents(st.History, ho)
		p.HistoryEvents = &h
	}
	return p
}
