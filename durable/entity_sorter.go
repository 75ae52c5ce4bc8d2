package durable

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"sort"
	"time"

	"github.com/godurable/functions/durable/history"
)

// The message sorter of Durable Task entities (the "sorter" member of the
// scheduler state). A sender stamps each request to a target with a
// strictly increasing Timestamp and the Timestamp of its previous request
// to that target (Predecessor); the receiving entity delivers each
// sender's requests in that order and drops the ones it has seen (a
// request re-sent after the sender's checkpoint was retried, or a queue
// message delivered twice). Orchestrations and entities both send
// labelled requests; an entity's sending clock (LastSentToInstance)
// survives its batches. Clocks and receive buffers older than the reorder
// window are forgotten, tracked by the send and receive horizons.
//
// Client signals, forwarded lock requests and scheduled signals take no
// part in the sorting; the entity deduplicates those, and requests from
// entities, by request id (see recentLog).

// defaultReorderWindow is Durable Functions' entityMessageReorderWindowInMinutes.
const defaultReorderWindow = 30 * time.Minute

// sorterCollectInterval is the least time between two collections of
// expired clocks or buffers, as DurableTask.Core keeps it.
const sorterCollectInterval = 10 * time.Second

// dotNetTick is the resolution of .NET's DateTime.
const dotNetTick = 100 * time.Nanosecond

// messageSorter is the sorter state in memory; zero times are .NET's
// DateTime.MinValue.
type messageSorter struct {
	lastSent       map[string]time.Time
	received       map[string]*receiveBuffer
	receiveHorizon time.Time
	sendHorizon    time.Time
}

type receiveBuffer struct {
	last        time.Time
	executionID string // "" for a sender without executions (an entity)
	buffered    map[time.Time]entityRequest
}

// sorterJSON is the sorter's stored form (DurableTask.Core's MessageSorter:
// member order and omitted defaults as Newtonsoft writes them).
type sorterJSON struct {
	LastSentToInstance   map[string]string             `json:"LastSentToInstance,omitempty"`
	ReceivedFromInstance map[string]*receiveBufferJSON `json:"ReceivedFromInstance,omitempty"`
	ReceiveHorizon       string                        `json:"ReceiveHorizon,omitempty"`
	SendHorizon          string                        `json:"SendHorizon,omitempty"`
}

type receiveBufferJSON struct {
	Last        string                   `json:"Last"`
	ExecutionID string                   `json:"ExecutionId,omitempty"`
	Buffered    map[string]entityRequest `json:"Buffered,omitempty"`
}

func parseSorterTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := history.ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t.Truncate(dotNetTick)
}

// sorterTime writes a DateTime; the zero time is DateTime.MinValue.
func sorterTime(t time.Time) string {
	if t.IsZero() {
		return minDotNetTime
	}
	return dotNetTime(t)
}

func optionalSorterTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return dotNetTime(t)
}

// decodeSorter reads the stored sorter; what does not decode starts empty.
func decodeSorter(raw json.RawMessage) *messageSorter {
	s := &messageSorter{}
	var j sorterJSON
	if len(raw) == 0 || json.Unmarshal(raw, &j) != nil {
		return s
	}
	s.receiveHorizon = parseSorterTime(j.ReceiveHorizon)
	s.sendHorizon = parseSorterTime(j.SendHorizon)
	if len(j.LastSentToInstance) > 0 {
		s.lastSent = make(map[string]time.Time, len(j.LastSentToInstance))
		for k, v := range j.LastSentToInstance {
			s.lastSent[k] = parseSorterTime(v)
		}
	}
	if len(j.ReceivedFromInstance) > 0 {
		s.received = make(map[string]*receiveBuffer, len(j.ReceivedFromInstance))
		for k, v := range j.ReceivedFromInstance {
			if v == nil {
				continue
			}
			b := &receiveBuffer{last: parseSorterTime(v.Last), executionID: v.ExecutionID}
			for _, r := range v.Buffered {
				if b.buffered == nil {
					b.buffered = map[time.Time]entityRequest{}
				}
				b.buffered[parseSorterTime(r.Timestamp)] = r
			}
			s.received[k] = b
		}
	}
	return s
}

// encode writes the sorter in its stored form.
func (s *messageSorter) encode() json.RawMessage {
	j := sorterJSON{ReceiveHorizon: optionalSorterTime(s.receiveHorizon), SendHorizon: optionalSorterTime(s.sendHorizon)}
	if len(s.lastSent) > 0 {
		j.LastSentToInstance = make(map[string]string, len(s.lastSent))
		for k, v := range s.lastSent {
			j.LastSentToInstance[k] = sorterTime(v)
		}
	}
	if len(s.received) > 0 {
		j.ReceivedFromInstance = make(map[string]*receiveBufferJSON, len(s.received))
		for k, b := range s.received {
			bj := &receiveBufferJSON{Last: sorterTime(b.last), ExecutionID: b.executionID}
			if len(b.buffered) > 0 {
				bj.Buffered = make(map[string]entityRequest, len(b.buffered))
				for ts, r := range b.buffered {
					bj.Buffered[sorterTime(ts)] = r
				}
			}
			j.ReceivedFromInstance[k] = bj
		}
	}
	raw, _ := json.Marshal(&j)
	return raw
}

// label stamps a request this entity sends to dest: its send time, kept
// strictly after the previous request to dest, which becomes the
// Predecessor. Clocks of targets not written to within the window are
// forgotten (at most every sorterCollectInterval).
func (s *messageSorter) label(req *entityRequest, dest string, now time.Time, window time.Duration) {
	req.Timestamp, req.Predecessor = minDotNetTime, minDotNetTime
	if window <= 0 {
		return
	}
	now = now.UTC().Truncate(dotNetTick)
	ts := now
	if s.sendHorizon.Add(window + sorterCollectInterval).Before(now) {
		s.sendHorizon = now.Add(-window)
		for k, v := range s.lastSent {
			if v.Before(s.sendHorizon) {
				delete(s.lastSent, k)
			}
		}
	}
	if s.lastSent == nil {
		s.lastSent = map[string]time.Time{}
	} else if last, ok := s.lastSent[dest]; ok {
		req.Predecessor = sorterTime(last)
		if !ts.After(last) {
			ts = last.Add(dotNetTick)
		}
	}
	req.Timestamp = sorterTime(ts)
	s.lastSent[dest] = ts
}

// byID reports whether the entity deduplicates req by its id: the requests
// the sorter does not order (client signals, forwarded lock requests,
// scheduled signals), and those from entities, whose ids a retried batch
// sends again.
func byID(req entityRequest, window time.Duration) bool {
	return req.Due != nil || !sorted(req, window) || IsEntityInstance(*req.Parent)
}

// sorted reports whether the sorter orders and deduplicates req: requests
// from orchestrations and entities, except forwarded lock requests.
func sorted(req entityRequest, window time.Duration) bool {
	return window > 0 && req.Parent != nil && req.Pos == 0
}

// receive files a request and returns the requests now deliverable, in
// order: none for a duplicate or for one that arrived ahead of its
// predecessor (it is buffered); several when it releases buffered ones.
func (s *messageSorter) receive(req entityRequest, window time.Duration) []entityRequest {
	if !sorted(req, window) {
		return []entityRequest{req}
	}
	ts, pred := parseSorterTime(req.Timestamp), parseSorterTime(req.Predecessor)
	var out []entityRequest
	if s.receiveHorizon.Add(window + sorterCollectInterval).Before(ts) {
		// Senders quiet for longer than the window start over: their
		// buffered requests are delivered and their clocks forgotten.
		s.receiveHorizon = ts.Add(-window)
		for _, parent := range sortedKeys(s.received) {
			b := s.received[parent]
			if b.last.Before(s.receiveHorizon) {
				b.last = time.Time{}
			}
			out = append(out, s.deliverBuffered(b)...)
			if b.last.IsZero() && len(b.buffered) == 0 {
				delete(s.received, parent)
			}
		}
	}
	if ts.Before(s.receiveHorizon) {
		return append(out, req) // older than the window: not sorted
	}
	if s.received == nil {
		s.received = map[string]*receiveBuffer{}
	}
	exec := ""
	if req.ParentExecution != nil {
		exec = *req.ParentExecution
	}
	b := s.received[*req.Parent]
	if b == nil {
		b = &receiveBuffer{executionID: exec}
		s.received[*req.Parent] = b
	} else if b.executionID != exec {
		// A new execution of the sender starts a new sequence; what the
		// old one left buffered is delivered.
		for _, k := range sortedTimes(b.buffered) {
			out = append(out, b.buffered[k])
		}
		b.buffered, b.last, b.executionID = nil, time.Time{}, exec
	}
	if !ts.After(b.last) {
		return out // delivered already: a duplicate
	}
	if pred.After(b.last) && !pred.Before(s.receiveHorizon) {
		if b.buffered == nil {
			b.buffered = map[time.Time]entityRequest{}
		}
		b.buffered[ts] = req // waits for its predecessor
		return out
	}
	out = append(out, req)
	b.last = s.delivered(ts)
	return append(out, s.deliverBuffered(b)...)
}

// delivered is the receive clock after delivering a request stamped ts.
func (s *messageSorter) delivered(ts time.Time) time.Time {
	if ts.Before(s.receiveHorizon) {
		return time.Time{}
	}
	return ts
}

// deliverBuffered delivers buffered requests while the earliest one's
// predecessor has been delivered (or is older than the window).
func (s *messageSorter) deliverBuffered(b *receiveBuffer) []entityRequest {
	var out []entityRequest
	for len(b.buffered) > 0 {
		first := sortedTimes(b.buffered)[0]
		r := b.buffered[first]
		pred := parseSorterTime(r.Predecessor)
		if pred.After(b.last) && !pred.Before(s.receiveHorizon) {
			break
		}
		out = append(out, r)
		b.last = s.delivered(first)
		delete(b.buffered, first)
	}
	if len(b.buffered) == 0 {
		b.buffered = nil
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedTimes(m map[time.Time]entityRequest) []time.Time {
	keys := make([]time.Time, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Before(keys[j]) })
	return keys
}

// stampRequest gives an orchestration's request to target its ordering
// clock: the episode time, nudged to stay after the previous request to
// the same target, and that previous time as Predecessor. It is
// deterministic: replay stamps the same values.
func (c *OrchestrationContext) stampRequest(target string, req *entityRequest) {
	if c.lastSent == nil {
		c.lastSent = map[string]time.Time{}
	}
	ts := c.CurrentUTCDateTime().Truncate(dotNetTick)
	prev, ok := c.lastSent[target]
	if ok && !ts.After(prev) {
		ts = prev.Add(dotNetTick)
	}
	c.lastSent[target] = ts
	req.Timestamp = dotNetTime(ts)
	req.Predecessor = minDotNetTime
	if ok {
		req.Predecessor = dotNetTime(prev)
	}
}

// Client signals, forwarded lock requests and scheduled signals are not
// sorted, and an entity batch retried after its checkpoint failed sends its
// signals again with new timestamps (but the same ids), so the entity
// deduplicates those requests by id: it keeps the ids it accepted within
// the reorder window (at most maxRecentRequests), grouped by the minute
// that accepted them, in the scheduler state member "recentRequests". A
// signal enqueued twice (a storage retry after a response was lost) or
// delivered again after a checkpoint that committed but was reported
// failed is then dropped, not applied again. .NET ignores the member and
// drops it when it rewrites the state.

// maxRecentRequests bounds the recorded ids of one entity (16 bytes each).
const maxRecentRequests = 10000

// recentGrouping is the time span whose accepted ids are stored together.
const recentGrouping = time.Minute

// recentGroup is the stored form of the ids accepted in one minute: its
// start and the ids' 16-byte keys (a GUID's bytes in text order, else the
// first 16 bytes of the id's SHA-256), concatenated, in base64.
type recentGroup struct {
	Time string `json:"t"`
	IDs  string `json:"ids"`
}

type requestKey [16]byte

type recentLog struct {
	groups []recentBatch // oldest first
	seen   map[requestKey]bool
}

type recentBatch struct {
	at   time.Time
	keys []requestKey
}

func keyOf(id string) requestKey {
	var k requestKey
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		hexDigits := id[0:8] + id[9:13] + id[14:18] + id[19:23] + id[24:36]
		if b, err := hex.DecodeString(hexDigits); err == nil {
			copy(k[:], b)
			return k
		}
	}
	sum := sha256.Sum256([]byte(id))
	copy(k[:], sum[:16])
	return k
}

func decodeRecent(groups []recentGroup) *recentLog {
	l := &recentLog{seen: map[requestKey]bool{}}
	for _, g := range groups {
		raw, err := base64.StdEncoding.DecodeString(g.IDs)
		if err != nil {
			continue
		}
		b := recentBatch{at: parseSorterTime(g.Time)}
		for i := 0; i+16 <= len(raw); i += 16 {
			var k requestKey
			copy(k[:], raw[i:i+16])
			b.keys = append(b.keys, k)
			l.seen[k] = true
		}
		l.groups = append(l.groups, b)
	}
	return l
}

// accept records id as accepted at now; it reports false for an id
// accepted before (a duplicate).
func (l *recentLog) accept(id string, now time.Time) bool {
	k := keyOf(id)
	if l.seen[k] {
		return false
	}
	l.seen[k] = true
	at := now.Truncate(recentGrouping)
	if n := len(l.groups); n == 0 || !l.groups[n-1].at.Equal(at) {
		l.groups = append(l.groups, recentBatch{at: at})
	}
	last := &l.groups[len(l.groups)-1]
	last.keys = append(last.keys, k)
	return true
}

// encode forgets ids older than the window, and the oldest beyond
// maxRecentRequests, and returns the stored form.
func (l *recentLog) encode(now time.Time, window time.Duration) []recentGroup {
	total := 0
	for _, g := range l.groups {
		total += len(g.keys)
	}
	var out []recentGroup
	for _, g := range l.groups {
		keys := g.keys
		if g.at.Add(recentGrouping).Before(now.Add(-window)) {
			total -= len(keys)
			continue
		}
		if total > maxRecentRequests {
			drop := min(total-maxRecentRequests, len(keys))
			keys, total = keys[drop:], total-drop
		}
		if len(keys) == 0 {
			continue
		}
		raw := make([]byte, 0, 16*len(keys))
		for _, k := range keys {
			raw = append(raw, k[:]...)
		}
		out = append(out, recentGroup{Time: dotNetTime(g.at), IDs: base64.StdEncoding.EncodeToString(raw)})
	}
	return out
}
