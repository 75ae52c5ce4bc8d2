package azstorage

import (
	"testing"
	"time"
)

// A message delivered again while its older copy waits in a session's
// pending list replaces that copy; the older copy's hold must stop, or it
// is renewed for ever and the message never deleted.
func TestRedeliveredCopyStopsTheOlderHold(t *testing.T) {
	b := &Backend{}
	old := &queueMessage{queue: "hub-workitems", id: "m1"}
	b.hold(old, "receipt-1", 5*time.Second, time.Now())
	again := &queueMessage{queue: "hub-workitems", id: "m1"}
	b.hold(again, "receipt-2", 5*time.Second, time.Now())
	other := &queueMessage{queue: "hub-workitems", id: "m2"}
	b.hold(other, "receipt-3", 5*time.Second, time.Now())
	if b.heldCount() != 3 {
		t.Fatalf("held %d, want 3", b.heldCount())
	}
	list, superseded := appendUnique([]*queueMessage{old}, []*queueMessage{again, other})
	if len(list) != 2 || list[0] != again || list[1] != other {
		t.Fatalf("pending after the redelivery: %v", list)
	}
	if len(superseded) != 1 || superseded[0] != old.msgLock {
		t.Fatalf("superseded %v, want the older copy's hold", superseded)
	}
	for _, l := range superseded {
		b.supersede(l)
	}
	if b.heldCount() != 2 || !old.msgLock.lost || !old.msgLock.done {
		t.Fatalf("after superseding: held %d, old lock lost=%v done=%v", b.heldCount(), old.msgLock.lost, old.msgLock.done)
	}
	// The same copy offered twice (one hold) supersedes nothing.
	if _, sup := appendUnique([]*queueMessage{again}, []*queueMessage{again}); len(sup) != 0 {
		t.Fatalf("a copy offered twice superseded %v", sup)
	}
}
