package azstorage

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// pollBackoff is the empty-poll backoff of DurableTask.AzureStorage: a
// randomized exponential delay from 50 ms up to a maximum, reset when a
// message arrives or when this process enqueues to the queue (wake).
type pollBackoff struct {
	max    time.Duration
	misses int
	wake   chan struct{}
	// hurryUntil (unix nanoseconds) caps the delay at hurriedPollDelay
	// until then: see hurry.
	hurryUntil atomic.Int64
}

// hurriedPollDelay is the longest idle delay while a poller hurries.
const hurriedPollDelay = time.Second

const minPollDelay = 50 * time.Millisecond

func newPollBackoff(max time.Duration) *pollBackoff {
	if max < minPollDelay {
		max = minPollDelay
	}
	return &pollBackoff{max: max, wake: make(chan struct{}, 1)}
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

// wait records an empty poll and sleeps; it returns early when poked (and
// then resets) or when ctx ends.
func (b *pollBackoff) wait(ctx context.Context) {
	b.misses++
	t := time.NewTimer(b.delay())
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.wake:
		b.misses = 0
	case <-ctx.Done():
	}
}
