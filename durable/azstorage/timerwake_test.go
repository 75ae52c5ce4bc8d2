package azstorage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/godurable/functions/durable"
)

// stampRegistry has an orchestrator that waits on a durable timer (its
// input: the fire time) and then calls Stamp, which reports when it ran.
func stampRegistry(t *testing.T, stamps chan<- string) *durable.Registry {
	r := durable.NewRegistry()
	if err := r.AddActivity("Stamp", durable.Activity(func(ctx context.Context, what string) (string, error) {
		stamps <- what
		return what, nil
	})); err != nil {
		t.Fatal(err)
	}
	if err := r.AddOrchestrator("WaitThenStamp", durable.Orchestrator(func(ctx *durable.OrchestrationContext, fireAt time.Time) (string, error) {
		if !fireAt.IsZero() {
			if _, err := durable.CreateTimer(ctx, fireAt).Await(); err != nil {
				return "", err
			}
		}
		return durable.CallActivity[string](ctx, "Stamp", ctx.InstanceID()).Await()
	})); err != nil {
		t.Fatal(err)
	}
	return r
}

// On an idle worker whose pollers have backed off to a 5 s interval, a
// 12 s durable timer and a start scheduled 12 s ahead both run within a
// second of their due time: the worker takes the delayed messages it
// wrote at their due time instead of waiting for its next poll.
//
// Due times are UTC times, and the queue hides a delayed message by the
// storage clock, so lateness is measured by the wall clock. The monotonic
// measure is logged beside it: the two differ when the machine's clock is
// stepped during the test (a virtual machine's clock corrected by its
// host), which a monotonic measure alone reports as a timer firing early.
func TestTimersFireOnTimeOnAnIdleWorker(t *testing.T) {
	b := newTestBackend(t, func(o *Options) {
		o.MaxPollingInterval = 5 * time.Second
		// Pollers hurry for one visibility timeout after taking a
		// partition; keep that short of the due time.
		o.ControlQueueVisibility, o.WorkItemQueueVisibility = 3*time.Second, 3*time.Second
	})
	stamps := make(chan string, 4)
	r := stampRegistry(t, stamps)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	due := time.Now().Add(12 * time.Second)
	if _, err := c.StartNew(ctx, "WaitThenStamp", due, durable.WithInstanceID("timer")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartNew(ctx, "WaitThenStamp", time.Time{}, durable.WithInstanceID("scheduled"), durable.WithStartTime(due)); err != nil {
		t.Fatal(err)
	}
	wall, mono := map[string]time.Duration{}, map[string]time.Duration{}
	for len(wall) < 2 {
		select {
		case id := <-stamps:
			now := time.Now()
			wall[id] = now.Round(0).Sub(due.Round(0))
			mono[id] = now.Sub(due)
		case <-ctx.Done():
			t.Fatalf("only %v ran", wall)
		}
	}
	for id, late := range wall {
		if late < -200*time.Millisecond || late > time.Second {
			t.Errorf("%s ran %v after its due time by the wall clock (%v by the monotonic clock); want within 1 s", id, late, mono[id])
		}
		if step := mono[id] - late; step.Abs() > 100*time.Millisecond {
			t.Logf("the wall clock was stepped by %v during the test", -step)
		}
	}
	t.Logf("lateness: %v (monotonic: %v)", wall, mono)
}

// A timer claim follows the wall clock: with the clock stepped back a
// second before the wait begins, the claim comes a second later; stepped
// forward past the due time, at once; stepped forward by two seconds
// while waiting for a 3 s timer, within about half the time that was left
// rather than at the old due time.
func TestTimerClaimFollowsTheWallClock(t *testing.T) {
	for _, tc := range []struct {
		name     string
		due      time.Duration
		step     time.Duration // the clock's offset from the start
		stepAt   time.Duration // when the offset applies (0: from the start)
		min, max time.Duration
	}{
		{"stepped back", 300 * time.Millisecond, -time.Second, 0, 1250 * time.Millisecond, 2500 * time.Millisecond},
		{"not stepped", 300 * time.Millisecond, 0, 0, 250 * time.Millisecond, 1200 * time.Millisecond},
		{"stepped forward", 300 * time.Millisecond, time.Second, 0, 0, 200 * time.Millisecond},
		{"stepped forward while waiting", 3 * time.Second, 2 * time.Second, 200 * time.Millisecond, 1300 * time.Millisecond, 2200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			b := &Backend{wallNow: func() time.Time {
				if time.Since(start) >= tc.stepAt {
					return time.Now().Add(tc.step)
				}
				return time.Now()
			}}
			claimed := make(chan time.Duration, 1)
			b.claimAt(start.Add(tc.due), func() { claimed <- time.Since(start) })
			select {
			case took := <-claimed:
				if took < tc.min || took > tc.max {
					t.Fatalf("claimed after %v, want between %v and %v", took, tc.min, tc.max)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("never claimed")
			}
		})
	}
}

// A due time the poller learns about (a timer another worker wrote, or a
// message put back with a delay) cuts its backed-off wait short.
func TestPollBackoffWakesAtADueTime(t *testing.T) {
	bo := newPollBackoff(10 * time.Second)
	bo.misses = 30 // backed off to the 10 s cap
	start := time.Now()
	go func() {
		time.Sleep(100 * time.Millisecond)
		bo.dueAt(start.Add(400 * time.Millisecond)) // added while waiting
	}()
	bo.wait(context.Background())
	if took := time.Since(start); took < 350*time.Millisecond || took > 2*time.Second {
		t.Fatalf("the wait ended after %v; want at the due time (400 ms)", took)
	}
	// Inside the window after a due time, polls are at most 100 ms apart.
	for range 3 {
		s := time.Now()
		bo.wait(context.Background())
		if took := time.Since(s); took > 300*time.Millisecond {
			t.Fatalf("a wait inside the due window took %v", took)
		}
	}
}

// With WakeUpQueue, a delayed message is matched by a wake-up message on
// "{hub}-wakeup" that becomes visible at the same time: invisible before,
// visible after, base64 JSON naming the instance.
func TestWakeUpMessageHasTheTimersDelay(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.WakeUpQueue = true })
	q := b.c.Queue.NewQueueClient(b.names.WakeUpQueue())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := durable.NewClient(b, nil)
	due := time.Now().Add(3 * time.Second)
	if _, err := c.StartNew(ctx, "Anything", nil, durable.WithInstanceID("later"), durable.WithStartTime(due)); err != nil {
		t.Fatal(err)
	}
	// An undelayed start writes none.
	if _, err := c.StartNew(ctx, "Anything", nil, durable.WithInstanceID("now")); err != nil {
		t.Fatal(err)
	}
	peek := func() []string {
		resp, err := q.PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: ptr(int32(32))})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range resp.Messages {
			out = append(out, *m.MessageText)
		}
		return out
	}
	if got := peek(); len(got) != 0 {
		t.Fatalf("wake-up messages visible before the due time: %v", got)
	}
	time.Sleep(time.Until(due) + 1500*time.Millisecond)
	got := peek()
	if len(got) != 1 {
		t.Fatalf("after the due time %d wake-up messages are visible, want 1", len(got))
	}
	raw, err := base64.StdEncoding.DecodeString(got[0])
	if err != nil {
		t.Fatalf("the wake-up message is not base64 (the queue trigger's default encoding): %v", err)
	}
	var w wakeUpMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	if w.InstanceID != "later" || w.TaskHub != b.opts.TaskHub || w.Event != "ExecutionStarted" ||
		w.Due.Sub(due).Abs() > 500*time.Millisecond {
		t.Fatalf("wake-up message %+v", w)
	}
	if b.names.WakeUpQueue() == b.names.WorkItemQueue() || b.names.ControlQueueIndex(b.names.WakeUpQueue()) >= 0 {
		t.Fatal("the wake-up queue must not be one of the hub's own queues")
	}
}

// WakeUp ends the backed-off waits of every poller at once.
func TestWakeUpPollsAtOnce(t *testing.T) {
	b := newTestBackend(t, func(o *Options) { o.MaxPollingInterval = 30 * time.Second })
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	for _, p := range b.pollers {
		p.misses = 40
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := time.Now()
			p.wait(context.Background())
			mu.Lock()
			slowest = max(slowest, time.Since(s))
			mu.Unlock()
		}()
	}
	time.Sleep(200 * time.Millisecond)
	b.WakeUp()
	wg.Wait()
	if slowest > 2*time.Second {
		t.Fatalf("a poller waited %v after WakeUp", slowest)
	}
}

func ptr[T any](v T) *T { return &v }
