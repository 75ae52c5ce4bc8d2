package azstorage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/functions"
	"github.com/godurable/functions/internal/storageproxy"
)

// The chaos tests run a mixed load while the storage proxy injects
// faults, and kill workers in the middle of work. In `make test` the
// faults last 15 s; `make chaos` sets DURABLE_CHAOS_DURATION=60s (and
// DURABLE_CHAOS_RATE, default 0.05) for the full-length run.

func chaosDuration(t *testing.T) time.Duration {
	if s := os.Getenv("DURABLE_CHAOS_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("DURABLE_CHAOS_DURATION=%q is not a positive duration", s)
		}
		return d
	}
	return 15 * time.Second
}

func chaosRate(t *testing.T) float64 {
	if s := os.Getenv("DURABLE_CHAOS_RATE"); s != "" {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || r < 0 || r > 1 {
			t.Fatalf("DURABLE_CHAOS_RATE=%q is not a probability", s)
		}
		return r
	}
	return 0.05
}

// chaosOptions are the recovery settings of the chaos tests: leases and
// message visibility of 5 s, polls at most 1 s apart.
func chaosOptions(o *Options) {
	o.ControlQueueVisibility, o.WorkItemQueueVisibility = 5*time.Second, 5*time.Second
	o.LeaseInterval, o.LeaseRenewInterval, o.LeaseAcquireInterval = 5*time.Second, time.Second, time.Second
	o.MaxPollingInterval = time.Second
	o.StartWriteTimeout = 5 * time.Second
}

func chaosRegistry(t *testing.T) *durable.Registry {
	r := durable.NewRegistry()
	if err := functions.Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// startOutcome is what a client was told about one start.
type startOutcome struct {
	id, want string
	err      error
}

// A mixed load (HelloCities, FanOutFanIn, Approvals, Counter signals) runs
// while 5 % of storage requests fail in one of four ways. Afterwards every
// accepted start has completed with the right output, within 90 s of the
// faults ending; no start that was refused exists; the Counter holds
// exactly the accepted signals; no message is still held.
func TestChaosMixedLoadUnderFaults(t *testing.T) {
	b, p := newProxiedBackend(t, chaosOptions)
	r := chaosRegistry(t)
	runWorker(t, b, r)
	c := durable.NewClient(b, r)
	ctx, cancel := context.WithTimeout(context.Background(), chaosDuration(t)+3*time.Minute)
	defer cancel()

	var (
		mu       sync.Mutex
		starts   []startOutcome
		approval []string
		seq      atomic.Int64
	)
	var signalsOK, signalsUnavailable, signalsAmbiguous atomic.Int64
	counter := durable.NewEntityID("Counter", "chaos")
	start := func(name string, input any, want string) {
		id := fmt.Sprintf("chaos-%s-%d", name, seq.Add(1))
		_, err := c.StartNew(ctx, name, input, durable.WithInstanceID(id))
		mu.Lock()
		starts = append(starts, startOutcome{id: id, want: want, err: err})
		if err == nil && name == "Approval" {
			approval = append(approval, id)
		}
		mu.Unlock()
	}
	p.Set(storageproxy.Config{Rate: chaosRate(t)})
	faultsOn := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; time.Since(faultsOn) < chaosDuration(t); i++ {
				switch (i + g) % 6 {
				case 0, 3:
					start("HelloCities", nil, `["Hello Tokyo!","Hello Seattle!","Hello London!"]`)
				case 1:
					start("FanOutFanIn", 5, "55")
				case 2:
					start("Approval", functions.ApprovalInput{}, `"approved"`)
				default:
					err := c.SignalEntity(ctx, counter, "add", 1)
					switch {
					case err == nil:
						signalsOK.Add(1)
					case errors.Is(err, durable.ErrUnavailable):
						signalsUnavailable.Add(1)
					default:
						signalsAmbiguous.Add(1)
						t.Logf("signal: %v", err)
					}
				}
				time.Sleep(150 * time.Millisecond)
			}
		}(g)
	}
	// Approvals are raised while the faults last; a raise that fails is
	// retried (an approval takes the first event).
	raised := map[string]bool{}
	raiseAll := func() {
		mu.Lock()
		ids := append([]string(nil), approval...)
		mu.Unlock()
		for _, id := range ids {
			if !raised[id] && c.RaiseEvent(ctx, id, "Approval", true) == nil {
				raised[id] = true
			}
		}
	}
	for time.Since(faultsOn) < chaosDuration(t) {
		raiseAll()
		time.Sleep(500 * time.Millisecond)
	}
	wg.Wait()
	p.Set(storageproxy.Config{})
	faultsOff := time.Now()
	for len(raised) < len(approval) && ctx.Err() == nil {
		raiseAll()
		time.Sleep(200 * time.Millisecond)
	}

	// A start answered ErrUnavailable created nothing. One whose outcome
	// could not be settled in time (answered 500, "the outcome is
	// unknown") may or may not exist; if it does, it runs like any other.
	accepted, refused, unknown := 0, 0, 0
	for i, s := range starts {
		if s.err == nil {
			accepted++
			continue
		}
		exists, err := instanceExists(ctx, c, s.id)
		if err != nil {
			t.Fatalf("start %s: %v", s.id, err)
		}
		if errors.Is(s.err, durable.ErrUnavailable) {
			refused++
			if exists {
				t.Errorf("start %s was refused (%v) but the instance exists", s.id, s.err)
			}
			continue
		}
		unknown++
		t.Logf("start %s: outcome unknown (exists: %v): %v", s.id, exists, s.err)
		if exists {
			starts[i].err = nil // it must complete like an accepted one
		}
	}
	if unknown > max(accepted/50, 1) {
		t.Errorf("%d of %d starts had an unknown outcome; want them rare", unknown, len(starts))
	}
	var last time.Duration
	for _, s := range starts {
		if s.err != nil {
			continue
		}
		st, err := c.WaitForCompletion(ctx, s.id, durable.WithoutInput())
		if err != nil {
			t.Fatalf("%s: %v (status %+v)", s.id, err, st)
		}
		if st.RuntimeStatus != durable.StatusCompleted || history.Deref(st.Output) != s.want {
			t.Errorf("%s: %v output %s, want Completed %s", s.id, st.RuntimeStatus, history.Deref(st.Output), s.want)
		}
		last = max(last, time.Since(faultsOff))
	}
	if last > 90*time.Second {
		t.Errorf("the last instance completed %v after the faults ended, want within 90 s", last)
	}
	for end := time.Now().Add(20 * time.Second); b.heldCount() != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("messages still held after everything completed: %v", b.heldSummary())
		}
	}
	stats := p.Stats()
	t.Logf("%v of faults at %.0f %%: %d requests, faults %v; starts %d accepted, %d refused, %d unknown; signals %d accepted, %d unavailable, %d ambiguous; all done %v after the faults ended",
		faultsOff.Sub(faultsOn).Round(time.Second), 100*chaosRate(t), stats.TotalRequests(), stats.TotalFaults(), accepted, refused, unknown,
		signalsOK.Load(), signalsUnavailable.Load(), signalsAmbiguous.Load(), last.Round(100*time.Millisecond))
	if accepted == 0 || stats.TotalRequests() == 0 {
		t.Fatal("no load ran")
	}
	checkCounter(t, c, counter.Key, int(signalsOK.Load()), int(signalsOK.Load()+signalsAmbiguous.Load()))
}

// instanceExists reads an instance's status until storage answers, found
// or not found: a read that fails (a slow emulator timing out after the
// faults) says neither.
func instanceExists(ctx context.Context, c *durable.Client, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := c.GetStatus(ctx, id)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, durable.ErrInstanceNotFound):
			return false, nil
		case ctx.Err() != nil:
			return false, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkCounter waits for the Counter to reach the accepted signals and
// checks that it stays there (a duplicate applied late would show).
func checkCounter(t *testing.T, c *durable.Client, key string, accepted, sent int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if n, _ := counterValue(t, c, key); n >= accepted {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // redelivered copies would have landed by now
	if n, _ := counterValue(t, c, key); n != accepted {
		t.Errorf("Counter %s = %d, want exactly the %d accepted signals (%d sent without a definite refusal)", key, n, accepted, sent)
	}
}
