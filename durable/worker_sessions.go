package durable

import (
	"sync"
	"time"

	"github.com/godurable/functions/durable/replay"
)

// Extended sessions: with WorkerOptions.ExtendedSessions the worker keeps
// an orchestration's executor (its coroutine, blocked where the code
// awaits) in memory after an episode whose checkpoint committed. The next
// episode of the same execution continues it with the new events only,
// without replaying history: IsReplaying stays false and the code between
// awaits runs once. The executor is used again only when the work item's
// history is exactly the one it produced (same execution, same length);
// anything else (a commit that failed, a rewind, history read after
// another worker ran the instance) falls back to a full replay. Sessions
// idle for ExtendedSessionIdleTimeout are closed.

// maxSessions bounds how many orchestrators are kept in memory.
const maxSessions = 1000

type orchSession struct {
	x          *replay.Executor
	aborted    *bool // the adapter's abort flag for this executor
	execID     string
	historyLen int // the length of the history the executor has applied
	used       time.Time
}

type sessionCache struct {
	mu     sync.Mutex
	idle   time.Duration
	cached map[string]*orchSession // by instance id
	staged map[string]*orchSession // produced by an episode not yet committed
}

func newSessionCache(idle time.Duration) *sessionCache {
	return &sessionCache{idle: idle, cached: map[string]*orchSession{}, staged: map[string]*orchSession{}}
}

// take removes and returns the instance's cached executor if it continues
// exactly the given history; a cached executor that does not is closed.
func (c *sessionCache) take(instanceID, execID string, historyLen int) *orchSession {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(time.Now())
	s, ok := c.cached[instanceID]
	if !ok {
		return nil
	}
	delete(c.cached, instanceID)
	if s.execID != execID || s.historyLen != historyLen {
		s.x.Close()
		return nil
	}
	return s
}

// stage records the executor an episode leaves behind until the episode's
// checkpoint commits.
func (c *sessionCache) stage(instanceID string, s *orchSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.staged[instanceID]; ok && old.x != s.x {
		old.x.Close()
	}
	c.staged[instanceID] = s
}

// settle keeps the staged executor after a committed checkpoint, or
// closes it when the checkpoint did not commit.
func (c *sessionCache) settle(instanceID string, committed bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.staged[instanceID]
	if !ok {
		return
	}
	delete(c.staged, instanceID)
	if !committed {
		s.x.Close()
		return
	}
	s.used = time.Now()
	c.cached[instanceID] = s
	for len(c.cached) > maxSessions {
		c.evictOldestLocked()
	}
}

func (c *sessionCache) expireLocked(now time.Time) {
	if c.idle <= 0 {
		return
	}
	for id, s := range c.cached {
		if now.Sub(s.used) > c.idle {
			s.x.Close()
			delete(c.cached, id)
		}
	}
}

func (c *sessionCache) evictOldestLocked() {
	var oldest string
	var at time.Time
	for id, s := range c.cached {
		if oldest == "" || s.used.Before(at) {
			oldest, at = id, s.used
		}
	}
	if s, ok := c.cached[oldest]; ok {
		s.x.Close()
		delete(c.cached, oldest)
	}
}

// sweep closes idle sessions; the worker calls it now and then.
func (c *sessionCache) sweep() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(time.Now())
}

// closeAll closes every session (the worker is stopping).
func (c *sessionCache) closeAll() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, s := range c.cached {
		s.x.Close()
		delete(c.cached, id)
	}
	for id, s := range c.staged {
		s.x.Close()
		delete(c.staged, id)
	}
}

// hasSession reports whether an instance's orchestrator is kept in memory.
func (w *Worker) hasSession(instanceID string) bool {
	if w.sessions == nil {
		return false
	}
	w.sessions.mu.Lock()
	defer w.sessions.mu.Unlock()
	_, ok := w.sessions.cached[instanceID]
	return ok
}
