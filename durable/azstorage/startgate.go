package azstorage

import (
	"context"
	"sync"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// Orchestration work items wait for a dispatcher in one line, first come
// first served. A burst of client starts (hundreds of instances started
// at once) would fill that line, and every instance's next episode (an
// activity result, an event) would wait behind all of them: each
// instance would take about as long as the whole burst, and be polled
// for its status all that time. So a client start's work item is built
// only while fewer than startGateLimit work items wait for a dispatcher,
// or while no other start waits among them (so that starts are never
// held back for ever by instances that keep running): instances already
// running go first, and a start reads its Instances row (the start
// dedupe) just before it runs rather than long before. The work items in
// line are counted from when they are built (or a start is let through
// to be built) until a dispatcher fetches them.
const startGateLimit = 8

// readyLine counts the work items built and not yet fetched.
type readyLine struct {
	mu     sync.Mutex
	n      int                                     // work items in line
	starts map[*backend.OrchestrationWorkItem]bool // the starts among them (nil key: let through, being built)
	admit  int                                     // starts let through and not yet built
	freed  chan struct{}                           // closed when the line moves, then replaced
}

// enter waits until fewer than limit work items are in line, or none of
// them is a start, then counts one more start. It fails only when ctx
// ends.
func (r *readyLine) enter(ctx context.Context, limit int) error {
	for {
		r.mu.Lock()
		if r.n < limit || r.admit+len(r.starts) == 0 {
			r.n++
			r.admit++
			r.mu.Unlock()
			return nil
		}
		if r.freed == nil {
			r.freed = make(chan struct{})
		}
		freed := r.freed
		r.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// built records what became of a start let through by enter: its work
// item, now in line, or nil (nothing to run: it leaves the line).
func (r *readyLine) built(wi *backend.OrchestrationWorkItem) {
	r.mu.Lock()
	r.admit--
	if wi != nil {
		if r.starts == nil {
			r.starts = map[*backend.OrchestrationWorkItem]bool{}
		}
		r.starts[wi] = true
	} else {
		r.n--
		r.moved()
	}
	r.mu.Unlock()
}

// add counts a work item that joined the line without waiting.
func (r *readyLine) add() {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
}

// leave counts a fetched work item out of the line.
func (r *readyLine) leave(wi *backend.OrchestrationWorkItem) {
	r.mu.Lock()
	if r.n > 0 {
		r.n--
	}
	delete(r.starts, wi)
	r.moved()
	r.mu.Unlock()
}

// moved wakes the starts waiting at the gate; r.mu is held.
func (r *readyLine) moved() {
	if r.freed != nil {
		close(r.freed)
		r.freed = nil
	}
}

// reset forgets the line (a new run of the backend: work items of an
// earlier run that were never fetched are gone).
func (r *readyLine) reset() {
	r.mu.Lock()
	r.n, r.admit, r.starts = 0, 0, nil
	r.moved()
	r.mu.Unlock()
}

// buildWorkItem builds the next work item for a session, client starts
// waiting at the gate (see startGateLimit).
func (b *Backend) buildWorkItem(ctx context.Context, s *session, msgs []*queueMessage) (*backend.OrchestrationWorkItem, error) {
	gated := isClientStartOnly(msgs) && !b.cache.has(s.instanceID)
	if gated {
		if err := b.ready.enter(ctx, startGateLimit); err != nil {
			// Stopping: the messages go back at once, as those of a
			// work item no dispatcher took do (runSession).
			b.letGo(ctx, msgs)
			return nil, nil
		}
	}
	wi, err := b.buildEpisode(ctx, s, msgs)
	switch {
	case gated:
		b.ready.built(wi)
	case wi != nil:
		b.ready.add()
	}
	return wi, err
}

// isClientStartOnly reports a batch that only starts an instance from a
// client (no parent): nothing already running waits for it.
func isClientStartOnly(msgs []*queueMessage) bool {
	for _, m := range msgs {
		if e := m.data.TaskMessage.Event; e.Type != history.ExecutionStarted || e.Parent != nil {
			return false
		}
	}
	return len(msgs) > 0
}
