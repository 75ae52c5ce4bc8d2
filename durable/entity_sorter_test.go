package durable

import (
	"testing"
	"time"
)

func TestSorterDeliversInOrderAndDropsDuplicates(t *testing.T) {
	parent, exec := "orch", "e1"
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	req := func(i int) entityRequest {
		r := entityRequest{ID: string(rune('a' + i)), Parent: &parent, ParentExecution: &exec,
			Timestamp: dotNetTime(base.Add(time.Duration(i) * time.Second)), Predecessor: minDotNetTime}
		if i > 0 {
			r.Predecessor = dotNetTime(base.Add(time.Duration(i-1) * time.Second))
		}
		return r
	}
	var s sorterState
	ids := func(rs []entityRequest) string {
		out := ""
		for _, r := range rs {
			out += r.ID
		}
		return out
	}
	if got := ids(s.receive(req(0))); got != "a" {
		t.Fatalf("first: %q", got)
	}
	if got := ids(s.receive(req(2))); got != "" {
		t.Fatalf("ahead of its predecessor, c must wait: %q", got)
	}
	if got := ids(s.receive(req(1))); got != "bc" {
		t.Fatalf("b releases c: %q", got)
	}
	if got := ids(s.receive(req(1))); got != "" {
		t.Fatalf("a re-sent b is a duplicate: %q", got)
	}
	other := "e2" // a new execution of the sender starts a new sequence
	r := req(0)
	r.ParentExecution = &other
	if got := ids(s.receive(r)); got != "a" {
		t.Fatalf("new execution: %q", got)
	}
	if got := ids(s.receive(entityRequest{ID: "z", Timestamp: minDotNetTime, Predecessor: minDotNetTime})); got != "z" {
		t.Fatalf("client signals are not sorted: %q", got)
	}
}
