package durable

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// runEntityEpisode processes a batch of entity messages the way Durable
// Task stores entities on Azure Storage: operations run one at a time in
// arrival order (a lock holder's first), each failing operation rolls back
// only its own state change, and the batch ends in a continue-as-new whose
// history is exactly OrchestratorStarted, ExecutionStarted(input = the
// scheduler state), OrchestratorCompleted.
func (w *Worker) runEntityEpisode(wi *backend.OrchestrationWorkItem, log *slog.Logger) *backend.Checkpoint {
	id, err := ParseEntityID(wi.InstanceID)
	now := w.clock()
	var st schedulerState
	if err == nil {
		if started := findStarted(wi.History); started != nil && started.Input != nil {
			if jerr := json.Unmarshal([]byte(*started.Input), &st); jerr != nil {
				log.Error("entity scheduler state does not decode; starting empty", "error", jerr)
				st = schedulerState{}
			}
		}
	}
	window := w.opts.EntityMessageReorderWindow
	ep := &entityEpisode{w: w, id: id, self: wi.InstanceID, now: now, st: &st, log: log,
		sorter: decodeSorter(st.Sorter), window: window}
	recent := decodeRecent(st.Recent)
	for _, e := range wi.NewEvents {
		if e.Type != history.EventRaised {
			continue
		}
		switch {
		case e.Name == "op" || strings.HasPrefix(e.Name, "op@"):
			var req entityRequest
			if err := json.Unmarshal([]byte(history.Deref(e.Input)), &req); err != nil {
				log.Error("entity request does not decode; dropped", "error", err)
				continue
			}
			traceEntityRequest(wi.InstanceID, id, &req, e, now)
			var deliver []entityRequest
			if req.Due != nil {
				due, derr := history.ParseTime(*req.Due)
				if derr == nil && due.Sub(now) > 100*time.Millisecond {
					// Delivered early (the queue delays a message at most
					// days): sent to itself again for its due time.
					ep.send(wi.InstanceID, "", "op@"+dotNetTime(due), req)
					continue
				}
				deliver = []entityRequest{req} // scheduled signals are not sorted
			} else {
				deliver = ep.sorter.receive(req, window)
			}
			for _, r := range deliver {
				if byID(r, window) && !recent.accept(r.ID, now) {
					log.Info("duplicate entity request dropped", "requestId", r.ID, "operation", history.Deref(r.Op))
					continue
				}
				st.Queue = append(st.Queue, r)
			}
		case e.Name == "release":
			var rel entityRelease
			if err := json.Unmarshal([]byte(history.Deref(e.Input)), &rel); err == nil && rel.Parent == st.LockedBy {
				st.LockedBy = ""
			}
		default:
			log.Warn("entity got an event it does not know; dropped", "event", e.Name)
		}
		ep.drain()
	}
	st.Exists = st.State != nil
	st.Sorter = ep.sorter.encode()
	st.Recent = recent.encode(now, window)
	input, _ := json.Marshal(&st)
	in := string(input)
	status, _ := json.Marshal(entityStatus{EntityExists: st.Exists, QueueSize: len(st.Queue), LockedBy: st.LockedBy})
	cs := string(status)
	start := &history.Event{Type: history.ExecutionStarted, EventID: -1, Timestamp: now, IsPlayed: true,
		Instance: &history.OrchestrationInstance{InstanceID: wi.InstanceID, ExecutionID: w.newID()},
		Name:     wi.InstanceID, Input: &in}
	return &backend.Checkpoint{
		ContinuedAsNew: true,
		NewEvents: []*history.Event{
			{Type: history.OrchestratorStarted, EventID: -1, Timestamp: now},
			start,
			{Type: history.OrchestratorCompleted, EventID: -1, Timestamp: now, IsPlayed: true},
		},
		Outbound: ep.out,
		State:    backend.InstanceUpdate{RuntimeStatus: history.StatusRunning, CustomStatus: &cs},
	}
}

type entityEpisode struct {
	w    *Worker
	id   EntityID
	self string
	now  time.Time
	st   *schedulerState
	out  []backend.OutboundMessage
	log  *slog.Logger
	// sorter labels the requests the entity sends; window is the reorder
	// window.
	sorter *messageSorter
	window time.Duration
}

// drain runs queued requests while the lock allows: any request when the
// entity is free, only the lock holder's while it is locked.
func (ep *entityEpisode) drain() {
	for {
		i := -1
		for j, r := range ep.st.Queue {
			if ep.st.LockedBy == "" || (r.Parent != nil && *r.Parent == ep.st.LockedBy) {
				i = j
				break
			}
		}
		if i < 0 {
			return
		}
		req := ep.st.Queue[i]
		ep.st.Queue = append(ep.st.Queue[:i:i], ep.st.Queue[i+1:]...)
		if req.IsLockRequest || (req.Op == nil && len(req.Lockset) > 0) {
			ep.lock(req)
		} else {
			ep.operate(req)
		}
	}
}

// lock takes the lock for the request's orchestration and passes the
// request on to the next entity of the lock set, or grants it.
func (ep *entityEpisode) lock(req entityRequest) {
	if req.Parent == nil {
		return
	}
	ep.st.LockedBy = *req.Parent
	if req.Pos+1 < len(req.Lockset) {
		next := req
		next.Pos++
		target := NewEntityID(req.Lockset[next.Pos].Name, req.Lockset[next.Pos].Key).String()
		ep.sorter.label(&next, target, ep.now, ep.window)
		ep.send(target, "", "op", next)
		return
	}
	granted := lockGranted
	ep.respond(req, entityResponse{Result: &granted})
}

// operate runs one operation against the state.
func (ep *entityEpisode) operate(req entityRequest) {
	op := ""
	if req.Op != nil {
		op = *req.Op
	}
	fn, ok := ep.w.reg.entity(ep.id.Name)
	traced := ep.startEntityOperation(req, op)
	ctx := &EntityContext{Context: traced.Context(), id: ep.id, op: op, input: req.Input, state: ep.st.State}
	var result any
	var err error
	defer func() { traced.End(err) }()
	if !ok {
		err = fmt.Errorf("no entity named %q is registered in this app", ep.id.Name)
	} else {
		result, err = runEntityOperation(fn, ctx)
	}
	if errors.Is(err, ErrUnknownOperation) && strings.EqualFold(op, "delete") {
		ctx.state, result, err = nil, nil, nil
	}
	if err != nil {
		ep.log.Debug("entity operation failed", "entity", ep.self, "operation", op, "error", err)
		if !req.Signal {
			f := failureOf(err)
			ep.respond(req, entityResponse{ExceptionType: f.ErrorType, FailureDetails: toFailureJSON(f)})
		}
		return // the state change of a failed operation is rolled back
	}
	ep.st.State = ctx.state
	for k, s := range ctx.signal {
		target := s.target.String()
		// The id is derived from the request that sends it: a batch retried
		// after its checkpoint failed sends the same ids again, and the
		// receiver drops what it already has.
		out := entityRequest{Op: &s.op, Signal: true, Input: s.input, ID: uuidV5(guidNamespace, fmt.Sprintf("%s_%s_%d", ep.self, req.ID, k)), Parent: &ep.self}
		if !s.at.IsZero() {
			// Scheduled signals are not sorted; the receiver holds them
			// until due.
			due := dotNetTime(s.at)
			out.Due = &due
			out.Timestamp, out.Predecessor = minDotNetTime, minDotNetTime
			ep.send(target, "", scheduledSignalName(ep.now, s.at), out)
			continue
		}
		ep.sorter.label(&out, target, ep.now, ep.window)
		ep.send(target, "", "op", out)
	}
	if req.Signal {
		return
	}
	res, merr := marshalPayload(result)
	if merr != nil {
		f := &history.FailureDetails{ErrorType: "OutputError", ErrorMessage: merr.Error()}
		ep.respond(req, entityResponse{ExceptionType: f.ErrorType, FailureDetails: toFailureJSON(f)})
		return
	}
	if res == nil {
		n := "null"
		res = &n
	}
	ep.respond(req, entityResponse{Result: res})
}

func runEntityOperation(fn EntityFunc, ctx *EntityContext) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: string(debug.Stack())}
		}
	}()
	return fn(ctx)
}

func (ep *entityEpisode) respond(req entityRequest, resp entityResponse) {
	if req.Parent == nil {
		return
	}
	exec := ""
	if req.ParentExecution != nil {
		exec = *req.ParentExecution
	}
	ep.send(*req.Parent, exec, req.ID, resp)
}

// send raises an event on another instance.
func (ep *entityEpisode) send(instanceID, executionID, name string, payload any) {
	b, _ := json.Marshal(payload)
	s := string(b)
	e := &history.Event{Type: history.EventRaised, EventID: -1, Timestamp: ep.now, Name: name, Input: &s}
	ep.out = append(ep.out, backend.OutboundMessage{Event: e, Target: history.OrchestrationInstance{InstanceID: instanceID, ExecutionID: executionID}})
}

func toFailureJSON(f *history.FailureDetails) *failureJSON {
	if f == nil {
		return nil
	}
	return &failureJSON{ErrorType: f.ErrorType, ErrorMessage: f.ErrorMessage, StackTrace: f.StackTrace,
		InnerFailure: toFailureJSON(f.InnerFailure), IsNonRetriable: f.IsNonRetriable}
}

func fromFailureJSON(f *failureJSON) *history.FailureDetails {
	if f == nil {
		return nil
	}
	return &history.FailureDetails{ErrorType: f.ErrorType, ErrorMessage: f.ErrorMessage, StackTrace: f.StackTrace,
		InnerFailure: fromFailureJSON(f.InnerFailure), IsNonRetriable: f.IsNonRetriable}
}

// sortedLockset orders a lock set as DurableTask.Core does before it
// sends a lock request: by entity name, then key, each compared
// linguistically (EntityId.CompareTo compares the (Name, Key) pair with
// the current culture's string comparison), so that orchestrations of both
// runtimes locking the same entities ask in the same order and never
// deadlock. The comparison is the Unicode root collation (CLDR), which is
// what .NET uses on Linux with ICU (the invariant culture and English):
// case is a tertiary difference with lowercase first ("a" < "A" < "b"),
// and punctuation sorts before digits and letters. Strings the collation
// holds equal are ordered by their bytes. Windows' NLS comparison differs
// for some punctuation (it ignores hyphens and apostrophes): keep keys
// that orchestrations on both platforms lock together to letters, digits
// and the same case to be safe.
func sortedLockset(ids []EntityID) []entityRef {
	refs := make([]entityRef, 0, len(ids))
	seen := map[entityRef]bool{}
	for _, id := range ids {
		r := entityRef{Name: strings.ToLower(id.Name), Key: id.Key}
		if !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	c := collate.New(language.Und)
	cmp := func(a, b string) int {
		if n := c.CompareString(a, b); n != 0 {
			return n
		}
		return strings.Compare(a, b)
	}
	sort.SliceStable(refs, func(i, j int) bool {
		if n := cmp(refs[i].Name, refs[j].Name); n != 0 {
			return n < 0
		}
		return cmp(refs[i].Key, refs[j].Key) < 0
	})
	return refs
}
