package azstorage

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// pollBackoff is the empty-poll backoff of DurableTask.AzureStorage: a
// randomized exponential delay from 50 ms up to a maximum, reset when a
// message arrives or when this process enqueues to the queue (wake).
//
// It also knows when delayed messages this process wrote (timers, delayed
// signals, scheduled starts) become visible: a wait never sleeps past the
// next such time, and for a short window after it the queue is polled
// every duePollInterval, so a due message is taken within a fraction of a
// second whatever the backoff has grown to.
type pollBackoff struct {
	max    time.Duration
	misses int
	wake   chan struct{}
	// hurryUntil (unix nanoseconds) caps the delay at hurriedPollDelay
	// until then: see hurry.
	hurryUntil atomic.Int64

	mu       sync.Mutex
	due      timeHeap      // visibility times of delayed messages still ahead
	hotUntil time.Time     // poll every duePollInterval until then
	changed  chan struct{} // a due time earlier than the current wait's end was added
}

const (
	minPollDelay = 50 * time.Millisecond
	// duePollInterval and dueWindow shape the polls around a known due
	// time: the queue's clock and ours may differ by a little.
	duePollInterval = 100 * time.Millisecond
	dueWindow       = 1500 * time.Millisecond
	// maxDueTimes bounds the due times one queue remembers; further ones
	// are found by the ordinary polling.
	maxDueTimes = 100_000
)

// hurriedPollDelay is the longest idle delay while a poller hurries.
const hurriedPollDelay = time.Second

func newPollBackoff(max time.Duration) *pollBackoff {
	if max < minPollDelay {
		max = minPollDelay
	}
	return &pollBackoff{max: max, wake: make(chan struct{}, 1), changed: make(chan struct{}, 1)}
}

// reset is called when a poll found messages.
func (b *pollBackoff) reset() { b.misses = 0 }

// poke cuts the current wait short and resets the backoff; it never blocks.
func (b *pollBackoff) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// hurry keeps the idle delay short (at most a second) for d: messages
// are expected to become visible within that time — those a crashed
// worker held, once their visibility timeout ends — and should not wait
// out a long idle backoff. It also cuts the current wait short.
func (b *pollBackoff) hurry(d time.Duration) {
	b.hurryUntil.Store(time.Now().Add(d).UnixNano())
	b.poke()
}

// dueAt records that a message becomes visible at t: the poller polls at
// t and often for a short while after it.
func (b *pollBackoff) dueAt(t time.Time) {
	b.mu.Lock()
	earliest := len(b.due) == 0 || t.Before(b.due[0])
	if len(b.due) < maxDueTimes {
		heap.Push(&b.due, t)
	}
	b.mu.Unlock()
	if earliest {
		select {
		case b.changed <- struct{}{}:
		default:
		}
	}
}

// delay is the wait after the current run of empty polls.
func (b *pollBackoff) delay() time.Duration {
	if b.misses == 0 {
		return 0
	}
	exp := min(b.misses-1, 20)
	d := time.Duration(float64(minPollDelay) * (0.8 + 0.4*rand.Float64()) * float64(uint64(1)<<exp))
	limit := b.max
	if time.Now().UnixNano() < b.hurryUntil.Load() {
		limit = min(limit, hurriedPollDelay)
	}
	return min(max(d, minPollDelay), limit)
}

// dueDelay shortens d to the next known due time and, inside the window
// after one, to duePollInterval.
func (b *pollBackoff) dueDelay(d time.Duration, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.due) > 0 && !b.due[0].After(now) {
		t := heap.Pop(&b.due).(time.Time)
		if end := t.Add(dueWindow); end.After(b.hotUntil) {
			b.hotUntil = end
		}
	}
	if now.Before(b.hotUntil) {
		d = min(d, duePollInterval)
	}
	if len(b.due) > 0 {
		d = min(d, b.due[0].Sub(now))
	}
	return max(d, 0)
}

// wait records an empty poll and sleeps; it returns early when poked (and
// then resets), at the next due time, or when ctx ends.
func (b *pollBackoff) wait(ctx context.Context) {
	b.misses++
	base := b.delay()
	start := time.Now()
	for {
		now := time.Now()
		d := b.dueDelay(max(base-now.Sub(start), 0), now)
		t := time.NewTimer(d)
		select {
		case <-t.C:
			return
		case <-b.wake:
			t.Stop()
			b.misses = 0
			return
		case <-b.changed:
			t.Stop() // recompute with the new due time
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// timeHeap is a min-heap of times.
type timeHeap []time.Time

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i].Before(h[j]) }
func (h timeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)        { *h = append(*h, x.(time.Time)) }
func (h *timeHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}
