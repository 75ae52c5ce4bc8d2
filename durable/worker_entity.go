package durable

import (
	"context"
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
	ep := &entityEpisode{w: w, id: id, self: wi.InstanceID, now: now, st: &st, log: log}
	sorter := st.sorter()
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
			st.Queue = append(st.Queue, sorter.receive(req)...)
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
	for parent, rec := range sorter.ReceivedFromInstance {
		// Forget senders quiet for longer than the reorder window (30 min).
		if len(rec.Buffered) == 0 && parseSorterTime(rec.Last).Before(now.Add(-30*time.Minute)) {
			delete(sorter.ReceivedFromInstance, parent)
		}
	}
	st.Sorter, _ = json.Marshal(sorter)
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
		target := NewEntityID(req.Lockset[next.Pos].Name, req.Lockset[next.Pos].Key)
		ep.send(target.String(), "", "op", next)
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
	ctx := &EntityContext{Context: context.Background(), id: ep.id, op: op, input: req.Input, state: ep.st.State}
	var result any
	var err error
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
	for _, s := range ctx.signal {
		ep.send(s.target.String(), "", "op", entityRequest{Op: &s.op, Signal: true, Input: s.input, ID: NewInstanceID(),
			Parent: &ep.self, Timestamp: dotNetTime(ep.now), Predecessor: minDotNetTime})
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

// sortedLockset orders entities by (name, key) so that two orchestrations
// locking the same entities always ask in the same order and never deadlock.
func sortedLockset(ids []EntityID) []entityRef {
	refs := make([]entityRef, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		r := entityRef{Name: strings.ToLower(id.Name), Key: id.Key}
		if !seen[r.Name+"@"+r.Key] {
			seen[r.Name+"@"+r.Key] = true
			refs = append(refs, r)
		}
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].Name != refs[j].Name {
			return refs[i].Name < refs[j].Name
		}
		return refs[i].Key < refs[j].Key
	})
	return refs
}
