package azstorage

import (
	"container/list"
	"sync"
	"time"

	"github.com/godurable/functions/durable/history"
)

// historyCache keeps the history of recently run instances in memory while
// this worker owns their partition (Durable Task's "extended sessions"
// idea), so the next episode needs no History table query. The sentinel
// ETag travels with it: if another writer changed the history, the next
// checkpoint fails its ETag check, the entry is dropped and the episode is
// replayed from storage. At most max entries are kept; the least recently
// used goes first.
type historyCache struct {
	mu      sync.Mutex
	max     int
	idle    time.Duration            // entries unused this long are dropped (0: never)
	now     func() time.Time         // the clock (tests replace it)
	entries map[string]*list.Element // of *cachedHistory
	lru     *list.List               // front: most recently used
}

type cachedHistory struct {
	instanceID string
	partition  int
	h          storedHistory
	used       time.Time
}

func newHistoryCache(max int, idle time.Duration) *historyCache {
	return &historyCache{max: max, idle: idle, now: time.Now, entries: map[string]*list.Element{}, lru: list.New()}
}

// expireLocked drops the entries unused for longer than the idle timeout
// (Durable Task's extended-session idle timeout). The LRU list's back is
// the least recently used, so it stops at the first fresh entry.
func (c *historyCache) expireLocked() {
	if c.idle <= 0 {
		return
	}
	cutoff := c.now().Add(-c.idle)
	for el := c.lru.Back(); el != nil; el = c.lru.Back() {
		e := el.Value.(*cachedHistory)
		if e.used.After(cutoff) {
			return
		}
		c.lru.Remove(el)
		delete(c.entries, e.instanceID)
	}
}

// has reports whether an instance's history is cached.
func (c *historyCache) has(instanceID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	_, ok := c.entries[instanceID]
	return ok
}

// get returns a copy of the cached history, if any, and marks it used.
func (c *historyCache) get(instanceID string) (*storedHistory, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	el, ok := c.entries[instanceID]
	if !ok {
		return nil, false
	}
	el.Value.(*cachedHistory).used = c.now()
	c.lru.MoveToFront(el)
	h := el.Value.(*cachedHistory).h
	h.events = append([]*history.Event(nil), h.events...)
	return &h, true
}

// put records an instance's history after a committed checkpoint,
// evicting the least recently used entries beyond the bound.
func (c *historyCache) put(instanceID string, partition int, h storedHistory) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked()
	e := &cachedHistory{instanceID: instanceID, partition: partition, h: h, used: c.now()}
	if el, ok := c.entries[instanceID]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
	} else {
		c.entries[instanceID] = c.lru.PushFront(e)
	}
	for c.lru.Len() > c.max {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cachedHistory).instanceID)
	}
}

// drop forgets one instance.
func (c *historyCache) drop(instanceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[instanceID]; ok {
		c.lru.Remove(el)
		delete(c.entries, instanceID)
	}
}

// dropPartition forgets every instance of a partition this worker no
// longer owns.
func (c *historyCache) dropPartition(partition int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, el := range c.entries {
		if el.Value.(*cachedHistory).partition == partition {
			c.lru.Remove(el)
			delete(c.entries, id)
		}
	}
}
