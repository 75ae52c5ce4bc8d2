package replaycheck

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// StoredHistory is one instance's stored history, the unit the replayer
// checks.
type StoredHistory struct {
	InstanceID string           `json:"instanceId"`
	Name       string           `json:"name,omitempty"`
	History    []*history.Event `json:"history"`
	// Approximate is set for a history rebuilt from the status API's
	// historyEvents, which leave out sequence numbers (see ParseStatusJSON).
	Approximate bool `json:"approximate,omitempty"`
}

// WriteHistories writes histories as an export file: JSON Lines, one
// StoredHistory per line, events in the field names of history.Event.
func WriteHistories(w io.Writer, hs []StoredHistory) error {
	enc := json.NewEncoder(w)
	for _, h := range hs {
		if err := enc.Encode(h); err != nil {
			return fmt.Errorf("replaycheck: export %s: %w", h.InstanceID, err)
		}
	}
	return nil
}

// ReadHistories reads an export file written by WriteHistories.
func ReadHistories(r io.Reader) ([]StoredHistory, error) {
	var out []StoredHistory
	dec := json.NewDecoder(bufio.NewReader(r))
	for n := 1; ; n++ {
		var h StoredHistory
		err := dec.Decode(&h)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("replaycheck: export file, record %d: %w", n, err)
		}
		if h.InstanceID == "" {
			return out, fmt.Errorf("replaycheck: export file, record %d: no instanceId", n)
		}
		out = append(out, h)
	}
}

// Selection picks the instances of a task hub to replay. The union of its
// parts is taken; an empty Selection picks nothing.
type Selection struct {
	InstanceIDs []string
	// Running picks every Running, Pending and Suspended instance: the
	// ones a deployment will replay.
	Running bool
	// Query picks the instances it matches (all pages).
	Query *backend.InstanceQuery
}

// LoadHistories reads the histories of the selected instances from a
// task hub (entities are left out: they have no orchestration code).
func LoadHistories(ctx context.Context, be backend.Backend, sel Selection) ([]StoredHistory, error) {
	ids := append([]string(nil), sel.InstanceIDs...)
	names := map[string]string{}
	var queries []backend.InstanceQuery
	if sel.Running {
		queries = append(queries, backend.InstanceQuery{RuntimeStatus: []history.OrchestrationStatus{
			history.StatusRunning, history.StatusPending, history.StatusSuspended}, ExcludeEntities: true})
	}
	if sel.Query != nil {
		q := *sel.Query
		q.ExcludeEntities = true
		queries = append(queries, q)
	}
	for _, q := range queries {
		q.ContinuationToken = ""
		for {
			p, err := be.QueryInstances(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("replaycheck: list instances: %w", err)
			}
			for _, st := range p.Instances {
				ids = append(ids, st.InstanceID)
				names[st.InstanceID] = st.Name
			}
			if p.ContinuationToken == "" {
				break
			}
			q.ContinuationToken = p.ContinuationToken
		}
	}
	seen := map[string]bool{}
	var out []StoredHistory
	for _, id := range ids {
		if seen[id] || durable.IsEntityInstance(id) {
			continue
		}
		seen[id] = true
		h, err := be.GetHistory(ctx, id)
		if err != nil {
			return out, fmt.Errorf("replaycheck: history of %s: %w", id, err)
		}
		if len(h) == 0 {
			if _, err := be.GetInstance(ctx, id, false); errors.Is(err, backend.ErrInstanceNotFound) {
				return out, fmt.Errorf("replaycheck: instance %s: %w", id, err)
			}
		}
		name := names[id]
		for _, e := range h {
			if e.Type == history.ExecutionStarted {
				name = e.Name
			}
		}
		out = append(out, StoredHistory{InstanceID: id, Name: name, History: h})
	}
	return out, nil
}

// Result is the verdict on one stored history.
type Result struct {
	InstanceID string
	Name       string
	Events     int
	// Skipped says why the history was not replayed (an entity, a
	// history still empty because the instance has not started).
	Skipped  string
	Mismatch *Mismatch
	Err      error
}

// ReplayAll replays every history against the orchestrators in reg.
func CheckAll(reg *durable.Registry, hs []StoredHistory) []Result {
	out := make([]Result, 0, len(hs))
	for _, h := range hs {
		r := Result{InstanceID: h.InstanceID, Name: h.Name, Events: len(h.History)}
		switch {
		case durable.IsEntityInstance(h.InstanceID):
			r.Skipped = "an entity"
		case len(h.History) == 0:
			r.Skipped = "no history yet (not started)"
		default:
			r.Mismatch, r.Err = Check(reg, h.InstanceID, h.History)
			if r.Mismatch != nil && h.Approximate {
				r.Mismatch.Reason += " (history rebuilt from the status API: calls scheduled in the same episode are numbered in the order they finished)"
			}
		}
		out = append(out, r)
	}
	return out
}

// ParseStatusJSON reads the answer of the status API with its history
// (GET …/instances/{id}?showHistory=true&showHistoryOutput=true), one
// status object or an array of them, and rebuilds each instance's
// history for replay.
//
// That answer is Durable Functions' summary of the history, not the
// history: orchestrator episodes and sequence numbers are left out and a
// call's scheduling event is folded into its result (FunctionName,
// ScheduledTime). The rebuilt history numbers calls by when they were
// scheduled, breaking ties by when they finished; it replays exactly
// unless an episode scheduled calls to different functions at once and
// they finished in another order. Without showHistoryOutput the results
// are missing, and code that branches on them may be reported falsely.
// Replaying from the task hub, or from an export file, is exact.
func ParseStatusJSON(data []byte) ([]StoredHistory, error) {
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("replaycheck: status JSON: %w", err)
	}
	var list []statusDoc
	if t := strings.TrimSpace(string(raw)); strings.HasPrefix(t, "[") {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("replaycheck: status JSON: %w", err)
		}
	} else {
		var one statusDoc
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("replaycheck: status JSON: %w", err)
		}
		list = []statusDoc{one}
	}
	var out []StoredHistory
	for i, d := range list {
		if d.HistoryEvents == nil {
			return out, fmt.Errorf("replaycheck: status JSON %d (%s) has no historyEvents: fetch it with ?showHistory=true&showHistoryOutput=true", i, d.InstanceID)
		}
		h, err := rebuildHistory(d)
		if err != nil {
			return out, fmt.Errorf("replaycheck: status JSON %d (%s): %w", i, d.InstanceID, err)
		}
		out = append(out, StoredHistory{InstanceID: d.InstanceID, Name: d.Name, History: h, Approximate: true})
	}
	return out, nil
}

type statusDoc struct {
	Name          string            `json:"name"`
	InstanceID    string            `json:"instanceId"`
	HistoryEvents []json.RawMessage `json:"historyEvents"`
}

// dfEvent is one entry of historyEvents.
type dfEvent struct {
	EventType           string
	Timestamp           string
	FunctionName        string
	ScheduledTime       string
	Name                string
	Input               *string
	Result              json.RawMessage
	Reason              *string
	Details             *string
	FailureDetails      *history.FailureDetails
	OrchestrationStatus string
	FireAt              string
	InstanceID          string `json:"InstanceId"`
	Data                *string
}

func rebuildHistory(d statusDoc) ([]*history.Event, error) {
	type call struct {
		sched    *history.Event
		at       time.Time
		pos      int // where it finished (or stands, if inline)
		complete *history.Event
	}
	var events []*history.Event
	var calls []*call
	timers := map[int64][]*call{} // unfired timers by FireAt
	parseTime := func(s string) time.Time {
		t, _ := history.ParseTime(s)
		return t
	}
	for i, raw := range d.HistoryEvents {
		var de dfEvent
		if err := json.Unmarshal(raw, &de); err != nil {
			return nil, fmt.Errorf("historyEvents[%d]: %w", i, err)
		}
		typ, err := history.ParseEventType(de.EventType)
		if err != nil {
			return nil, fmt.Errorf("historyEvents[%d]: %w", i, err)
		}
		ts := parseTime(de.Timestamp)
		e := &history.Event{Type: typ, EventID: -1, Timestamp: ts, Input: de.Input, Reason: de.Reason, Details: de.Details,
			Failure: de.FailureDetails, Data: de.Data}
		if len(de.Result) > 0 && string(de.Result) != "null" {
			s := string(de.Result)
			e.Result = &s
		}
		switch typ {
		case history.ExecutionStarted:
			e.Name = de.FunctionName
			e.Instance = &history.OrchestrationInstance{InstanceID: d.InstanceID, ExecutionID: "rebuilt-execution"}
			events = append(events, &history.Event{Type: history.OrchestratorStarted, EventID: -1, Timestamp: ts})
		case history.ExecutionCompleted, history.ContinueAsNew:
			if s, err := history.ParseStatus(de.OrchestrationStatus, true); err == nil {
				e.OrchestrationStatus = s
			}
		case history.TaskCompleted, history.TaskFailed, history.SubOrchestrationInstanceCompleted, history.SubOrchestrationInstanceFailed:
			st := history.TaskScheduled
			if typ == history.SubOrchestrationInstanceCompleted || typ == history.SubOrchestrationInstanceFailed {
				st = history.SubOrchestrationInstanceCreated
			}
			sched := &history.Event{Type: st, Timestamp: parseTime(de.ScheduledTime), Name: de.FunctionName}
			e.Input = nil
			calls = append(calls, &call{sched: sched, at: sched.Timestamp, pos: len(events), complete: e})
			events = append(events, nil, e) // the scheduling event goes in the hole
			continue
		case history.TaskScheduled, history.SubOrchestrationInstanceCreated, history.EventSent:
			e.Name, e.InstanceID = de.Name, de.InstanceID
			calls = append(calls, &call{sched: e, at: ts, pos: len(events)})
		case history.TimerCreated:
			e.FireAt = parseTime(de.FireAt)
			c := &call{sched: e, at: ts, pos: len(events)}
			calls = append(calls, c)
			timers[e.FireAt.UnixNano()] = append(timers[e.FireAt.UnixNano()], c)
		case history.TimerFired:
			e.FireAt = parseTime(de.FireAt)
			if q := timers[e.FireAt.UnixNano()]; len(q) > 0 {
				q[0].complete = e
				timers[e.FireAt.UnixNano()] = q[1:]
			}
		case history.EventRaised:
			e.Name = de.Name
		}
		events = append(events, e)
	}
	// Sequence numbers in scheduling order: by scheduling time, then by
	// position (where the call finished, for folded calls).
	sort.SliceStable(calls, func(i, j int) bool {
		if !calls[i].at.Equal(calls[j].at) {
			return calls[i].at.Before(calls[j].at)
		}
		return calls[i].pos < calls[j].pos
	})
	for id, c := range calls {
		c.sched.EventID = id
		if c.complete != nil {
			if c.complete.Type == history.TimerFired {
				c.complete.TimerID = id
			} else {
				c.complete.TaskScheduledID = id
			}
		}
	}
	out := make([]*history.Event, 0, len(events))
	for i, e := range events {
		if e != nil {
			out = append(out, e)
			continue
		}
		// The hole before a folded result: its scheduling event, placed
		// as late as possible (just before its result, in the episode that
		// result starts, which is when the code has scheduled it for sure).
		res := events[i+1]
		for _, c := range calls {
			if c.complete == res {
				out = append(out, &history.Event{Type: history.OrchestratorStarted, EventID: -1, Timestamp: res.Timestamp}, c.sched)
			}
		}
	}
	return out, nil
}
