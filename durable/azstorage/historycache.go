package azstorage

import (
	"sync"

	"github.com/godurable/functions/durable/history"
)

// historyCache keeps the history of recently run instances in memory while
// this worker owns their partition (Durable Task's "extended sessions"
// idea), so the next episode needs no History table query. The sentinel
// ETag travels with it: if another writer changed the history, the next
// checkpoint fails its ETag check, the entry is dropped and the episode is
// replayed from storage.
type historyCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*cachedHistory
	order   []string // insertion order, for eviction
}

type cachedHistory struct {
	partition int
	h         storedHistory
}

func newHistoryCache(max int) *historyCache {
	return &historyCache{max: max, entries: map[string]*cachedHistory{}}
}

// has reports whether an instance's history is cached.
func (c *historyCache) has(instanceID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[instanceID]
	return ok
}

// get returns a copy of the cached history, if any.
func (c *historyCache) get(instanceID string) (*storedHistory, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[instanceID]
	if !ok {
		return nil, false
	}
	h := e.h
	h.events = append([]*history.Event(nil), e.h.events...)
	return &h, true
}

// put records an instance's history after a committed checkpoint.
func (c *historyCache) put(instanceID string, partition int, h storedHistory) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[instanceID]; !ok {
		c.order = append(c.order, instanceID)
	}
	c.entries[instanceID] = &cachedHistory{partition: partition, h: h}
	for len(c.entries) > c.max && len(c.order) > 0 {
		oldest := c.order[0]
		c.order = c.order[1:]
		delete(c.entries, oldest)
	}
	if len(c.order) > 2*c.max { // compact ids deleted meanwhile
		kept := c.order[:0]
		for _, id := range c.order {
			if _, ok := c.entries[id]; ok {
				kept = append(kept, id)
			}
		}
		c.order = kept
	}
}

// drop forgets one instance.
func (c *historyCache) drop(instanceID string) {
	c.mu.Lock()
	delete(c.entries, instanceID)
	c.mu.Unlock()
}

// dropPartition forgets every instance of a partition this worker no
// longer owns.
func (c *historyCache) dropPartition(partition int) {
	c.mu.Lock()
	for id, e := range c.entries {
		if e.partition == partition {
			delete(c.entries, id)
		}
	}
	c.mu.Unlock()
}
