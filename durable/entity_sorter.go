package durable

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/godurable/functions/durable/history"
)

// The message sorter of Durable Task entities: an orchestration stamps each
// request to an entity with a strictly increasing Timestamp and the
// Timestamp of its previous request to that entity (Predecessor); the
// entity delivers each orchestration execution's requests in that order
// and drops the ones it has seen (a request re-sent after the sender
// crashed between enqueueing it and writing its history).

// sorterState is the "sorter" member of the scheduler state.
type sorterState struct {
	ReceivedFromInstance map[string]*receivedFrom `json:"ReceivedFromInstance,omitempty"`
}

type receivedFrom struct {
	Last        string                   `json:"Last"`
	ExecutionID string                   `json:"ExecutionId,omitempty"`
	Buffered    map[string]entityRequest `json:"Buffered,omitempty"`
}

func parseSorterTime(s string) time.Time {
	t, err := history.ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// stampRequest gives an orchestration's request to target its ordering
// clock: the episode time, nudged to stay after the previous request to
// the same target, and that previous time as Predecessor. It is
// deterministic: replay stamps the same values.
func (c *OrchestrationContext) stampRequest(target string, req *entityRequest) {
	if c.lastSent == nil {
		c.lastSent = map[string]time.Time{}
	}
	ts := c.CurrentUTCDateTime()
	prev, ok := c.lastSent[target]
	if ok && !ts.After(prev) {
		ts = prev.Add(100 * time.Nanosecond) // one .NET tick
	}
	c.lastSent[target] = ts
	req.Timestamp = dotNetTime(ts)
	req.Predecessor = minDotNetTime
	if ok {
		req.Predecessor = dotNetTime(prev)
	}
}

// receive files a request from an orchestration: it returns the requests
// that are now deliverable, in order (none for a duplicate or for one that
// arrived ahead of its predecessor, which is buffered).
func (s *sorterState) receive(req entityRequest) []entityRequest {
	if req.Parent == nil || req.ParentExecution == nil || req.Pos > 0 {
		return []entityRequest{req} // client signals, entity signals and lock forwards are not sorted
	}
	if s.ReceivedFromInstance == nil {
		s.ReceivedFromInstance = map[string]*receivedFrom{}
	}
	rec := s.ReceivedFromInstance[*req.Parent]
	if rec == nil || rec.ExecutionID != *req.ParentExecution {
		rec = &receivedFrom{Last: minDotNetTime, ExecutionID: *req.ParentExecution}
		s.ReceivedFromInstance[*req.Parent] = rec
	}
	last, ts, pred := parseSorterTime(rec.Last), parseSorterTime(req.Timestamp), parseSorterTime(req.Predecessor)
	if !ts.After(last) {
		return nil // seen already
	}
	if pred.After(last) {
		if rec.Buffered == nil {
			rec.Buffered = map[string]entityRequest{}
		}
		rec.Buffered[req.Timestamp] = req // waits for its predecessor
		return nil
	}
	out := []entityRequest{req}
	rec.Last = req.Timestamp
	for {
		next := ""
		keys := make([]string, 0, len(rec.Buffered))
		for k := range rec.Buffered {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return parseSorterTime(keys[i]).Before(parseSorterTime(keys[j])) })
		for _, k := range keys {
			b := rec.Buffered[k]
			if !parseSorterTime(b.Timestamp).After(parseSorterTime(rec.Last)) {
				delete(rec.Buffered, k) // a buffered duplicate
				continue
			}
			if !parseSorterTime(b.Predecessor).After(parseSorterTime(rec.Last)) {
				next = k
				break
			}
		}
		if next == "" {
			break
		}
		out = append(out, rec.Buffered[next])
		rec.Last = rec.Buffered[next].Timestamp
		delete(rec.Buffered, next)
	}
	return out
}

func (st *schedulerState) sorter() *sorterState {
	var s sorterState
	if len(st.Sorter) > 0 {
		_ = json.Unmarshal(st.Sorter, &s)
	}
	return &s
}
