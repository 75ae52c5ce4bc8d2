package azstorage

import (
	"encoding/json"
	"strings"

	"github.com/godurable/functions/durable/history"
)

// isEntityResponse reports an entity's response to an orchestration: an
// EventRaised sent by an entity ("@…" sender) to an instance that is not
// an entity. Its name is the id of the request it answers.
func isEntityResponse(m *queueMessage, instanceID string) bool {
	e := m.data.TaskMessage.Event
	return e.Type == history.EventRaised && m.data.Sender != nil &&
		strings.HasPrefix(m.data.Sender.InstanceID, "@") && !strings.HasPrefix(instanceID, "@")
}

// hasEventSentFor reports whether the history holds the EventSent request
// whose "id" is requestID: a response that arrives before it (its
// request's checkpoint has not landed yet, as Durable Task's
// OrchestrationSession.IsOutOfOrderMessage puts it) waits.
func hasEventSentFor(events []*history.Event, requestID string) bool {
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.Type == history.EventSent && e.Input != nil && strings.EqualFold(requestIDOf(*e.Input), requestID) {
			return true
		}
	}
	return false
}

// requestIDOf reads the "id" member of an entity request's JSON ("" if
// none).
func requestIDOf(input string) string {
	var req struct {
		ID string `json:"id"`
	}
	if json.Unmarshal([]byte(input), &req) != nil {
		return ""
	}
	return req.ID
}
