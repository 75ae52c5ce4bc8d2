package azstorage

import (
	"context"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
)

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	b := newPollBackoff(2 * time.Second)
	var last time.Duration
	for i := 1; i <= 12; i++ {
		b.misses = i
		d := b.delay()
		if d > 2*time.Second || d < minPollDelay {
			t.Fatalf("miss %d: delay %v outside [50ms, 2s]", i, d)
		}
		last = d
	}
	if last != 2*time.Second {
		t.Fatalf("after 12 misses the delay should sit at the cap, got %v", last)
	}
	b.reset()
	if b.delay() != 0 {
		t.Fatal("reset must clear the backoff")
	}
}

// After the pollers have backed off to a long interval, a start from this
// process still runs at once: enqueueing wakes the poller.
func TestLocalEnqueueWakesIdlePollers(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.MaxPollingInterval = 30 * time.Second })
	r := helloRegistry(t)
	runWorker(t, b, r)
	time.Sleep(8 * time.Second) // long enough for the backoff to reach several seconds
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	id, err := c.StartNew(ctx, "HelloCities", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.WaitForCompletion(ctx, id)
	if err != nil || st.RuntimeStatus != durable.StatusCompleted {
		t.Fatalf("%v %v", st, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("an idle worker took %v to run HelloCities; local enqueues must wake the pollers", took)
	}
}

// While hurried, an idle poller waits at most a second; afterwards the
// backoff grows to its maximum again.
func TestHurriedBackoffStaysShort(t *testing.T) {
	b := newPollBackoff(30 * time.Second)
	b.misses = 15
	if d := b.delay(); d != 30*time.Second {
		t.Fatalf("idle delay %v, want the 30 s cap", d)
	}
	b.hurry(200 * time.Millisecond)
	b.misses = 15
	if d := b.delay(); d > hurriedPollDelay {
		t.Fatalf("hurried delay %v, want at most %v", d, hurriedPollDelay)
	}
	time.Sleep(250 * time.Millisecond)
	if d := b.delay(); d != 30*time.Second {
		t.Fatalf("delay after the hurry %v, want the 30 s cap again", d)
	}
}
