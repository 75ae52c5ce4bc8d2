package durable

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// entityDriver runs an entity's batches through Worker.runEntityEpisode as
// a backend would: each batch reads the history the previous one wrote.
type entityDriver struct {
	t    *testing.T
	w    *Worker
	now  time.Time
	id   string
	hist []*history.Event
	sent []backend.OutboundMessage
}

func newEntityDriver(t *testing.T, id string) *entityDriver {
	r := NewRegistry()
	var d *entityDriver
	counter := func(ctx *EntityContext) (any, error) {
		n, err := EntityState[int](ctx)
		if err != nil {
			return nil, err
		}
		switch ctx.Operation() {
		case "add":
			d, err := EntityInput[int](ctx)
			if err != nil {
				return nil, err
			}
			return nil, ctx.SetState(n + d)
		case "get":
			return n, nil
		case "fanout": // signals every target of the input, in order
			targets, err := EntityInput[[]string](ctx)
			if err != nil {
				return nil, err
			}
			for _, k := range targets {
				if err := ctx.SignalEntity(NewEntityID("Counter", k), "add", 1); err != nil {
					return nil, err
				}
			}
			return nil, ctx.SetState(n)
		case "later": // signals counter "x" the input's number of days later
			days, err := EntityInput[int](ctx)
			if err != nil {
				return nil, err
			}
			return nil, ctx.SignalEntity(NewEntityID("Counter", "x"), "add", 1, SignalAt(d.now.Add(time.Duration(days)*24*time.Hour)))
		}
		return nil, fmt.Errorf("%w: %s", ErrUnknownOperation, ctx.Operation())
	}
	if err := r.AddEntity("Counter", counter); err != nil {
		t.Fatal(err)
	}
	w := NewWorker(nil, r, WorkerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	d = &entityDriver{t: t, w: w, now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), id: id}
	w.clock = func() time.Time { return d.now }
	n := 0
	w.newID = func() string { n++; return fmt.Sprintf("exec%d", n) }
	return d
}

// batch runs one batch of request events and returns what it sent.
func (d *entityDriver) batch(events ...*history.Event) []backend.OutboundMessage {
	d.t.Helper()
	cp := d.w.runEntityEpisode(&backend.OrchestrationWorkItem{InstanceID: d.id, History: d.hist, NewEvents: events}, d.w.log)
	if !cp.ContinuedAsNew || len(cp.NewEvents) != 3 {
		d.t.Fatalf("entity checkpoint: %+v", cp)
	}
	d.hist = cp.NewEvents
	d.sent = append(d.sent, cp.Outbound...)
	return cp.Outbound
}

func (d *entityDriver) state() schedulerState {
	d.t.Helper()
	var st schedulerState
	if err := json.Unmarshal([]byte(*findStarted(d.hist).Input), &st); err != nil {
		d.t.Fatal(err)
	}
	return st
}

func (d *entityDriver) value() int {
	d.t.Helper()
	st := d.state()
	if st.State == nil {
		return 0
	}
	var n int
	if err := json.Unmarshal([]byte(*st.State), &n); err != nil {
		d.t.Fatal(err)
	}
	return n
}

// opEvent is the EventRaised a sender enqueues for req.
func opEvent(name string, req entityRequest) *history.Event {
	b, _ := json.Marshal(req)
	s := string(b)
	return &history.Event{Type: history.EventRaised, EventID: -1, Name: name, Input: &s}
}

func clientSignal(op string, amount int) entityRequest {
	in := fmt.Sprint(amount)
	return entityRequest{Op: &op, Signal: true, Input: &in, ID: newGUIDString(), Timestamp: minDotNetTime, Predecessor: minDotNetTime}
}

// A client signal enqueued twice (a storage retry after the first enqueue
// succeeded but its response was lost) is applied once, whether the copies
// arrive in one batch or in different batches, and so is a batch's
// messages delivered again after its checkpoint committed.
func TestClientSignalsAppliedOnce(t *testing.T) {
	d := newEntityDriver(t, "@counter@dup")
	a, b, c := clientSignal("add", 1), clientSignal("add", 10), clientSignal("add", 100)
	d.batch(opEvent("op", a), opEvent("op", a), opEvent("op", b))
	if v := d.value(); v != 11 {
		t.Fatalf("after a, a, b: %d, want 11", v)
	}
	d.now = d.now.Add(5 * time.Minute) // the invisible first copy reappears
	d.batch(opEvent("op", b), opEvent("op", c))
	if v := d.value(); v != 111 {
		t.Fatalf("after b again and c: %d, want 111", v)
	}
	// The checkpoint of the last batch committed but was reported failed:
	// its messages come again and are read against the committed state.
	d.now = d.now.Add(time.Second)
	d.batch(opEvent("op", b), opEvent("op", c))
	if v := d.value(); v != 111 {
		t.Fatalf("redelivered batch applied again: %d, want 111", v)
	}
	// Ids are forgotten after the reorder window, and the record is
	// bounded.
	d.now = d.now.Add(defaultReorderWindow + time.Minute)
	d.batch(opEvent("op", clientSignal("add", 1000)))
	if v, st := d.value(), d.state(); v != 1111 || len(st.Recent) != 1 {
		t.Fatalf("value %d, recent %+v", v, st.Recent)
	}
	var evs []*history.Event
	for i := 0; i < maxRecentRequests+50; i++ {
		evs = append(evs, opEvent("op", clientSignal("add", 1)))
	}
	d.batch(evs...)
	l := decodeRecent(d.state().Recent)
	if d.value() != 1111+maxRecentRequests+50 || len(l.seen) != maxRecentRequests {
		t.Fatalf("value %d, %d ids recorded, want at most %d", d.value(), len(l.seen), maxRecentRequests)
	}
}

// Forwarded lock requests take no part in the sorting: a duplicate is
// dropped by id and does not lock the entity a second time.
func TestForwardedLockRequestAppliedOnce(t *testing.T) {
	d := newEntityDriver(t, "@counter@b")
	parent, exec := "orch", "e1"
	lock := entityRequest{ID: newGUIDString(), Parent: &parent, ParentExecution: &exec, IsLockRequest: true, Pos: 1,
		Lockset: []entityRef{{"counter", "a"}, {"counter", "b"}}, Timestamp: minDotNetTime, Predecessor: minDotNetTime}
	release, _ := json.Marshal(entityRelease{Parent: parent, ID: lock.ID})
	rel := string(release)
	out := d.batch(opEvent("op", lock), &history.Event{Type: history.EventRaised, EventID: -1, Name: "release", Input: &rel}, opEvent("op", lock))
	if len(out) != 1 || out[0].Event.Name != lock.ID {
		t.Fatalf("want one grant, sent %+v", out)
	}
	if st := d.state(); st.LockedBy != "" {
		t.Fatalf("locked again by a duplicate: %q", st.LockedBy)
	}
}

// A scheduled signal that arrives before its due time (the queue delays a
// message at most 6 days) is sent back to the entity for its due time, not
// run; at its time it runs.
func TestEarlyScheduledSignalRescheduled(t *testing.T) {
	d := newEntityDriver(t, "@counter@later")
	req := clientSignal("add", 7)
	due := d.now.Add(8 * 24 * time.Hour)
	ds := dotNetTime(due)
	req.Due = &ds
	name := "op@" + ds
	out := d.batch(opEvent(name, req))
	if d.value() != 0 || d.state().State != nil {
		t.Fatalf("ran %d days early", 8)
	}
	if len(out) != 1 || out[0].Target.InstanceID != "@counter@later" || out[0].Event.Name != name || *out[0].Event.Input != *opEvent(name, req).Input {
		t.Fatalf("rescheduled as %+v", out)
	}
	d.now = due.Add(-50 * time.Millisecond) // within DurableTask's 100 ms tolerance
	d.batch(out[0].Event, out[0].Event)     // delivered twice: once applied
	if v := d.value(); v != 7 {
		t.Fatalf("at its time: %d, want 7", v)
	}
}

// An entity's signals are labelled as DurableTask.Core's message sorter
// expects: per target a strictly increasing Timestamp and the previous
// one as Predecessor, continued across batches, and the sender's clock is
// kept in the scheduler state; the receiving entity applies each once, in
// order, and drops a re-sent one.
func TestEntitySignalsLabelledAndSorted(t *testing.T) {
	src := newEntityDriver(t, "@counter@src")
	fan := func(keys ...string) *history.Event {
		op := "fanout"
		b, _ := json.Marshal(keys)
		r := clientSignal(op, 0)
		in := string(b)
		r.Input = &in
		return opEvent("op", r)
	}
	first := src.batch(fan("x", "x", "y"))
	src.now = src.now.Add(time.Second)
	second := src.batch(fan("x"))
	var toX []entityRequest
	for _, m := range append(first, second...) {
		var r entityRequest
		if err := json.Unmarshal([]byte(*m.Event.Input), &r); err != nil {
			t.Fatal(err)
		}
		if r.Parent == nil || *r.Parent != "@counter@src" || r.ParentExecution != nil || len(r.ID) != 36 {
			t.Fatalf("signal %s", *m.Event.Input)
		}
		if m.Target.InstanceID == "@counter@x" {
			toX = append(toX, r)
		}
	}
	if len(toX) != 3 {
		t.Fatalf("%d signals to x", len(toX))
	}
	prev := minDotNetTime
	for i, r := range toX {
		if r.Predecessor != prev || !parseSorterTime(r.Timestamp).After(parseSorterTime(prev)) {
			t.Fatalf("signal %d to x: Timestamp %s Predecessor %s, previous %s", i, r.Timestamp, r.Predecessor, prev)
		}
		prev = r.Timestamp
	}
	var sj sorterJSON
	if err := json.Unmarshal(src.state().Sorter, &sj); err != nil || sj.LastSentToInstance["@counter@x"] != prev ||
		sj.LastSentToInstance["@counter@y"] == "" || sj.SendHorizon == "" {
		t.Fatalf("sorter state %s (%v)", src.state().Sorter, err)
	}
	// The receiver gets the third before the second, and the first twice.
	x := newEntityDriver(t, "@counter@x")
	x.batch(opEvent("op", toX[0]), opEvent("op", toX[2]))
	if v := x.value(); v != 1 {
		t.Fatalf("x applied %d, want 1 (the third waits for the second)", v)
	}
	x.batch(opEvent("op", toX[0]), opEvent("op", toX[1]))
	if v := x.value(); v != 3 {
		t.Fatalf("x = %d, want 3", v)
	}
	var xj sorterJSON
	if err := json.Unmarshal(x.state().Sorter, &xj); err != nil || xj.ReceivedFromInstance["@counter@src"] == nil ||
		xj.ReceivedFromInstance["@counter@src"].Last != toX[2].Timestamp || xj.ReceiveHorizon == "" {
		t.Fatalf("receiver sorter state %s (%v)", x.state().Sorter, err)
	}
}

// An entity's scheduled signal carries its due time and goes unsorted;
// its event name holds the time it is to become visible, at most 6 days
// ahead, as .NET names it.
func TestEntityScheduledSignal(t *testing.T) {
	d := newEntityDriver(t, "@counter@s")
	for _, days := range []int{1, 8} {
		out := d.batch(opEvent("op", clientSignal("later", days)))
		if len(out) != 1 {
			t.Fatalf("sent %+v", out)
		}
		var r entityRequest
		_ = json.Unmarshal([]byte(*out[0].Event.Input), &r)
		want, visible := dotNetTime(d.now.Add(time.Duration(days)*24*time.Hour)), dotNetTime(d.now.Add(time.Duration(min(days, 6))*24*time.Hour))
		if r.Due == nil || *r.Due != want || out[0].Event.Name != "op@"+visible || r.Timestamp != minDotNetTime {
			t.Fatalf("%d days: scheduled signal %s named %s", days, *out[0].Event.Input, out[0].Event.Name)
		}
	}
}

// The sorter's stored form round-trips every member DurableTask.Core keeps.
func TestSorterStateRoundTrip(t *testing.T) {
	raw := `{"LastSentToInstance":{"@counter@a":"2024-05-01T12:00:00.0000001Z"},` +
		`"ReceivedFromInstance":{"orch":{"Last":"2024-05-01T12:00:01.0000000Z","ExecutionId":"e1","Buffered":{"2024-05-01T12:00:03.0000000Z":` +
		`{"op":"add","id":"00000000-0000-0000-0000-000000000001","parent":"orch","parentExecution":"e1","Timestamp":"2024-05-01T12:00:03.0000000Z","Predecessor":"2024-05-01T12:00:02.0000000Z","IsLockRequest":false,"createTrace":false}}}},` +
		`"ReceiveHorizon":"2024-05-01T11:30:01.0000000Z","SendHorizon":"2024-05-01T11:30:00.0000000Z"}`
	got := string(decodeSorter(json.RawMessage(raw)).encode())
	if got != raw {
		t.Fatalf("got  %s\nwant %s", got, raw)
	}
	// .NET writes the fraction trimmed; it reads the same.
	s := decodeSorter(json.RawMessage(`{"SendHorizon":"2024-05-01T11:30:00.5Z","ReceivedFromInstance":{"o":{"Last":"0001-01-01T00:00:00"}}}`))
	if !s.sendHorizon.Equal(time.Date(2024, 5, 1, 11, 30, 0, 5e8, time.UTC)) || s.received["o"] == nil || !s.received["o"].last.IsZero() {
		t.Fatalf("%+v", s)
	}
}

// Senders quiet for longer than the window are forgotten, their buffered
// requests delivered; clocks of targets not written to are forgotten too.
func TestSorterHorizons(t *testing.T) {
	var s messageSorter
	w := time.Minute
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	p := "orch"
	mk := func(id string, ts, pred time.Time) entityRequest {
		return entityRequest{ID: id, Parent: &p, Timestamp: sorterTime(ts), Predecessor: sorterTime(pred)}
	}
	ids := func(rs []entityRequest) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids(s.receive(mk("a", base, time.Time{}), w)); got != "a" {
		t.Fatal(got)
	}
	// c waits for a b that never comes.
	if got := ids(s.receive(mk("c", base.Add(2*time.Second), base.Add(time.Second)), w)); got != "" {
		t.Fatal(got)
	}
	// Much later, a request from another sender moves the horizon: c is
	// delivered and the quiet sender forgotten.
	q := "other"
	late := mk("d", base.Add(5*time.Minute), time.Time{})
	late.Parent = &q
	if got := ids(s.receive(late, w)); got != "c,d" {
		t.Fatalf("got %q, want c,d", got)
	}
	if s.received["orch"] != nil {
		t.Fatalf("quiet sender kept: %+v", s.received["orch"])
	}
	var out entityRequest
	s.label(&out, "t1", base, w)
	s.label(&out, "t2", base.Add(5*time.Minute), w)
	if _, kept := s.lastSent["t1"]; kept || out.Predecessor != minDotNetTime {
		t.Fatalf("clock of t1 kept: %+v", s.lastSent)
	}
}

// Lock sets are ordered as .NET orders entity ids (linguistic comparison:
// lowercase before uppercase of the same letter, letters case-insensitive
// first, punctuation before digits before letters), not by bytes.
func TestLocksetOrderedAsDotNet(t *testing.T) {
	var ids []EntityID
	for _, k := range []string{"b", "B", "a", "A", "10", "9", "a b", "ab", "_x", "é", "e", "f", "a"} {
		ids = append(ids, NewEntityID("Counter", k))
	}
	ids = append(ids, NewEntityID("Account", "z"))
	var got []string
	for _, r := range sortedLockset(ids) {
		got = append(got, r.Name+"/"+r.Key)
	}
	want := "account/z counter/_x counter/10 counter/9 counter/a counter/A counter/a b counter/ab counter/b counter/B counter/e counter/é counter/f"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// An entity batch whose checkpoint failed after its signals were sent is
// run again from the same state and sends them again, later; the receiver
// applies each signal once, whichever copy comes first.
func TestRetriedEntityBatchSignalsAppliedOnce(t *testing.T) {
	src := newEntityDriver(t, "@counter@src2")
	fan := func(keys ...string) *history.Event {
		b, _ := json.Marshal(keys)
		r := clientSignal("fanout", 0)
		in := string(b)
		r.Input = &in
		return opEvent("op", r)
	}
	first := src.batch(fan("x"))
	batch := []*history.Event{opEvent("op", clientSignal("add", 1)), fan("x", "x")}
	attempt := func() []*history.Event {
		cp := src.w.runEntityEpisode(&backend.OrchestrationWorkItem{InstanceID: src.id, History: src.hist, NewEvents: batch}, src.w.log)
		var evs []*history.Event
		for _, m := range cp.Outbound {
			evs = append(evs, m.Event)
		}
		return evs
	}
	failed := attempt() // sent, but the checkpoint failed
	src.now = src.now.Add(2 * time.Second)
	retried := attempt()
	if len(failed) != 2 || len(retried) != 2 || *failed[0].Input == *retried[0].Input {
		t.Fatalf("sent %d then %d signals", len(failed), len(retried))
	}
	for name, order := range map[string][][]*history.Event{
		"failed first":  {{first[0].Event}, failed, retried},
		"retried first": {{first[0].Event}, retried, failed},
	} {
		x := newEntityDriver(t, "@counter@x")
		for _, evs := range order {
			x.batch(evs...)
		}
		if v := x.value(); v != 3 {
			t.Errorf("%s: x = %d, want 3", name, v)
		}
	}
}
