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
	// variants are the other numberings a rebuilt history may have had.
	variants [][]*history.Event
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
			for _, v := range h.variants {
				if r.Mismatch == nil || r.Err != nil {
					break
				}
				if m, err := Check(reg, h.InstanceID, v); err == nil && m == nil {
					r.Mismatch = nil // another numbering of simultaneous calls replays
				}
			}
			if r.Mismatch != nil && h.Approximate {
				r.Mismatch.Reason += " (history rebuilt from the status API)"
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
// scheduled; calls scheduled at the same time are numbered in the order
// they finished, and CheckAll also tries their other orders by function
// (up to 32), so calls started together may finish in any order. What this
// source cannot check is the order of calls started together. Without
// showHistoryOutput the results are missing, and code that branches on
// them may be reported falsely. Replaying from the task hub, or from an
// export file, is exact.
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
		h, variants, err := rebuildHistory(d)
		if err != nil {
			return out, fmt.Errorf("replaycheck: status JSON %d (%s): %w", i, d.InstanceID, err)
		}
		out = append(out, StoredHistory{InstanceID: d.InstanceID, Name: d.Name, History: h, Approximate: true, variants: variants})
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

func rebuildHistory(d statusDoc) ([]*history.Event, [][]*history.Event, error) {
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
			return nil, nil, fmt.Errorf("historyEvents[%d]: %w", i, err)
		}
		typ, err := history.ParseEventType(de.EventType)
		if err != nil {
			return nil, nil, fmt.Errorf("historyEvents[%d]: %w", i, err)
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
	byComplete := map[*history.Event]*call{}
	bySched := map[*history.Event]*call{}
	for _, c := range calls {
		if c.complete != nil {
			byComplete[c.complete] = c
		}
		bySched[c.sched] = c
	}
	// build lays the history out with sequence numbers in the given order
	// of the calls.
	build := func(order []*call) []*history.Event {
		ids := make(map[*call]int, len(order))
		for id, c := range order {
			ids[c] = id
		}
		numbered := func(e *history.Event, id int) *history.Event {
			c := e.Clone()
			switch {
			case c.Type == history.TimerFired:
				c.TimerID = id
			case c.EventID == -1 && c.Type != history.TimerFired:
				c.TaskScheduledID = id
			}
			return c
		}
		out := make([]*history.Event, 0, len(events)+len(calls))
		for i, e := range events {
			switch c := byComplete[e]; {
			case e == nil:
				// The hole before a folded result: its scheduling event,
				// placed as late as possible (just before its result, in the
				// episode that result starts, when the code has scheduled it
				// for sure).
				res := events[i+1]
				sched := byComplete[res].sched.Clone()
				sched.EventID = ids[byComplete[res]]
				out = append(out, &history.Event{Type: history.OrchestratorStarted, EventID: -1, Timestamp: res.Timestamp}, sched)
			case c != nil:
				out = append(out, numbered(e, ids[c]))
			case bySched[e] != nil:
				sched := e.Clone()
				sched.EventID = ids[bySched[e]]
				out = append(out, sched)
			default:
				out = append(out, e.Clone())
			}
		}
		return out
	}
	first := build(calls)
	var variants [][]*history.Event
	for _, order := range tieOrders(calls, func(c *call) time.Time { return c.at },
		func(c *call) string { return c.sched.Type.String() + " " + strings.ToLower(c.sched.Name) }, maxVariants) {
		variants = append(variants, build(order))
	}
	return first, variants, nil
}

// maxVariants bounds the other numberings tried for a rebuilt history.
const maxVariants = 32

// tieOrders returns other orders of items (sorted by time) that differ
// only inside groups of equal time, by the kind and name of their items:
// the numberings a rebuilt history may have had. At most limit orders.
func tieOrders[T any](items []T, at func(T) time.Time, key func(T) string, limit int) [][]T {
	type group struct{ from, to int }
	var groups []group
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && at(items[j]).Equal(at(items[i])) {
			j++
		}
		if j-i > 1 {
			groups = append(groups, group{i, j})
		}
		i = j
	}
	orders := [][]T{items}
	for _, g := range groups {
		var next [][]T
		for _, base := range orders {
			for _, perm := range keyPermutations(base[g.from:g.to], key, limit) {
				o := append(append(append([]T(nil), base[:g.from]...), perm...), base[g.to:]...)
				next = append(next, o)
				if len(next) > limit {
					break
				}
			}
		}
		orders = next
	}
	if len(orders) > limit+1 {
		orders = orders[:limit+1]
	}
	return orders[1:] // the first is items itself
}

// keyPermutations lists the distinct orders of items by key (items with
// the same key keep their relative order), the given order first.
func keyPermutations[T any](items []T, key func(T) string, limit int) [][]T {
	queues := map[string][]T{}
	var keys []string
	var seq []string
	for _, it := range items {
		k := key(it)
		if _, ok := queues[k]; !ok {
			keys = append(keys, k)
		}
		queues[k] = append(queues[k], it)
		seq = append(seq, k)
	}
	counts := map[string]int{}
	for _, k := range seq {
		counts[k]++
	}
	var out [][]string
	var cur []string
	var rec func()
	rec = func() {
		if len(out) > limit {
			return
		}
		if len(cur) == len(seq) {
			out = append(out, append([]string(nil), cur...))
			return
		}
		for _, k := range keys {
			if counts[k] > 0 {
				counts[k]--
				cur = append(cur, k)
				rec()
				cur = cur[:len(cur)-1]
				counts[k]++
			}
		}
	}
	rec()
	res := [][]T{items}
	for _, ks := range out {
		if strings.Join(ks, "\x00") == strings.Join(seq, "\x00") {
			continue
		}
		taken := map[string]int{}
		perm := make([]T, 0, len(items))
		for _, k := range ks {
			perm = append(perm, queues[k][taken[k]])
			taken[k]++
		}
		res = append(res, perm)
	}
	return res
}
