package azstorage

import (
	"fmt"
	"testing"
	"time"

	"github.com/godurable/functions/durable/history"
)

func cachedIDs(c *historyCache, ids ...string) string {
	var in []string
	for _, id := range ids {
		if c.has(id) {
			in = append(in, id)
		}
	}
	return fmt.Sprint(in)
}

// The cache keeps at most max entries and evicts the least recently used
// (read or written); entries are copies, and a partition's entries go
// together.
func TestHistoryCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	c := newHistoryCache(2, 0)
	ev := func(n int) storedHistory {
		return storedHistory{events: []*history.Event{{EventID: n}}, executionID: fmt.Sprint("e", n)}
	}
	c.put("a", 0, ev(1))
	c.put("b", 1, ev(2))
	if _, ok := c.get("a"); !ok { // a is now more recent than b
		t.Fatal("a missing")
	}
	c.put("c", 0, ev(3))
	if got := cachedIDs(c, "a", "b", "c"); got != "[a c]" {
		t.Fatalf("after evicting: %s, want [a c]", got)
	}
	c.put("c", 0, ev(4)) // an update is a use, not a new entry
	c.put("d", 1, ev(5))
	if got := cachedIDs(c, "a", "b", "c", "d"); got != "[c d]" {
		t.Fatalf("after the second eviction: %s, want [c d]", got)
	}
	h, _ := c.get("c")
	if h.executionID != "e4" || h.events[0].EventID != 4 {
		t.Fatalf("c = %+v", h)
	}
	h.events[0] = &history.Event{EventID: 99}
	if again, _ := c.get("c"); again.events[0].EventID != 4 {
		t.Fatal("a caller's change reached the cache")
	}
	c.dropPartition(1)
	c.drop("x")
	if got := cachedIDs(c, "a", "b", "c", "d"); got != "[c]" {
		t.Fatalf("after dropping partition 1: %s, want [c]", got)
	}
	c.drop("c")
	if c.lru.Len() != 0 || len(c.entries) != 0 {
		t.Fatalf("%d list entries, %d map entries left", c.lru.Len(), len(c.entries))
	}
}

func TestHistoryCacheDropsIdleEntries(t *testing.T) {
	c := newHistoryCache(10, time.Minute)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	c.put("a", 0, storedHistory{executionID: "x"})
	c.put("b", 0, storedHistory{executionID: "y"})
	now = now.Add(40 * time.Second)
	if _, ok := c.get("a"); !ok { // a is used again
		t.Fatal("a expired early")
	}
	now = now.Add(30 * time.Second) // b unused for 70 s, a for 30 s
	if c.has("b") {
		t.Fatal("b outlived the idle timeout")
	}
	if !c.has("a") {
		t.Fatal("a expired although it was used 30 s ago")
	}
}
