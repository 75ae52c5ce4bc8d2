package durabletest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/durabletest"
	"github.com/godurable/functions/durable/history"
)

func registry(t *testing.T) *durable.Registry {
	r := durable.NewRegistry()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.AddActivity("Double", durable.Activity(func(ctx context.Context, n int) (int, error) { return 2 * n, nil })))
	must(r.AddOrchestrator("Deadline", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		// A deadline computed from CurrentUTCDateTime must follow the
		// virtual clock.
		deadline := ctx.CurrentUTCDateTime().Add(30 * 24 * time.Hour)
		if _, err := durable.CreateTimer(ctx, deadline).Await(); err != nil {
			return "", err
		}
		return ctx.CurrentUTCDateTime().Format(time.RFC3339), nil
	})))
	must(r.AddOrchestrator("DoubleIt", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
		return durable.CallActivity[int](ctx, "Double", n).Await()
	})))
	must(r.AddOrchestrator("CallsMissing", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		return durable.CallActivity[int](ctx, "Missing", nil).Await()
	})))
	must(r.AddOrchestrator("Waits", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		return durable.WaitForExternalEvent[string](ctx, "Go").Await()
	})))
	var flip sync.Mutex
	calls := 0
	must(r.AddOrchestrator("Unstable", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
		// Not deterministic: the activity called depends on a counter
		// outside the orchestration.
		flip.Lock()
		calls++
		name := "Double"
		if calls%2 == 0 {
			name = "Triple"
		}
		flip.Unlock()
		return durable.CallActivity[int](ctx, name, 1).Await()
	})))
	return r
}

func TestDeadlineFollowsTheVirtualClock(t *testing.T) {
	tt := durabletest.New(t, registry(t), durabletest.WithStartTime(time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)))
	inst := tt.Execute("Deadline", nil)
	if got := durabletest.Output[string](inst); got != "2030-07-01T00:00:00Z" {
		t.Fatalf("woke at %s", got)
	}
	if !tt.Now().Equal(time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("virtual time = %s", tt.Now())
	}
}

func TestAdvanceStopsAtTheTarget(t *testing.T) {
	tt := durabletest.New(t, registry(t))
	start := tt.Now()
	inst := tt.Start("Deadline", nil)
	tt.Advance(29 * 24 * time.Hour)
	if inst.IsDone() || tt.Now().Sub(start) != 29*24*time.Hour {
		t.Fatalf("after 29 days: done %v, time %v", inst.IsDone(), tt.Now().Sub(start))
	}
	tt.Advance(24 * time.Hour)
	if !inst.IsDone() || tt.Now().Sub(start) != 30*24*time.Hour {
		t.Fatalf("after 30 days: done %v, time %v", inst.IsDone(), tt.Now().Sub(start))
	}
}

func TestCallbacksRunAtTheirVirtualTime(t *testing.T) {
	tt := durabletest.New(t, registry(t))
	inst := tt.Start("Waits", nil)
	var at time.Time
	tt.After(90*time.Minute, func() { at = tt.Now(); inst.RaiseEvent("Go", "late") })
	start := tt.Now()
	tt.RunUntilDone(inst)
	if got := durabletest.Output[string](inst); got != "late" || at.Sub(start) != 90*time.Minute {
		t.Fatalf("output %q, raised after %v", got, at.Sub(start))
	}
}

func TestIdleInstanceStaysRunning(t *testing.T) {
	tt := durabletest.New(t, registry(t))
	inst := tt.Execute("Waits", nil)
	if inst.RuntimeStatus() != durable.StatusRunning {
		t.Fatalf("status = %s", inst.RuntimeStatus())
	}
	inst.Suspend("hold on")
	tt.RunUntilIdle()
	if inst.RuntimeStatus() != durable.StatusSuspended {
		t.Fatalf("after Suspend: %s", inst.RuntimeStatus())
	}
	inst.RaiseEvent("Go", "queued")
	tt.RunUntilIdle()
	if inst.RuntimeStatus() != durable.StatusSuspended {
		t.Fatalf("a suspended instance ran: %s", inst.RuntimeStatus())
	}
	inst.Resume("go on")
	tt.RunUntilIdle()
	if got := durabletest.Output[string](inst); got != "queued" {
		t.Fatalf("output = %q", got)
	}
	other := tt.Execute("Waits", nil)
	other.Terminate("not needed")
	tt.RunUntilIdle()
	if other.RuntimeStatus() != durable.StatusTerminated || other.Err() == nil {
		t.Fatalf("terminated: %s, %v", other.RuntimeStatus(), other.Err())
	}
}

func TestNoGoroutinesAreLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		tt := durabletest.New(t, registry(t))
		tt.Execute("DoubleIt", i)
		tt.Start("Waits", nil) // left waiting
		tt.RunUntilIdle()
	}
	// An orchestrator's coroutine goroutine returns just after it hands
	// back its last result: allow it a moment to exit.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines before, %d after", before, after)
	}
}

func TestMocksRecordAndReplaceActivities(t *testing.T) {
	tt := durabletest.New(t, registry(t))
	m := tt.OnActivity("double").Return(10, 20)
	a := durabletest.Output[int](tt.Execute("DoubleIt", 1))
	b := durabletest.Output[int](tt.Execute("DoubleIt", 2))
	c := durabletest.Output[int](tt.Execute("DoubleIt", 3))
	ins, err := durabletest.Inputs[int](m)
	if err != nil {
		t.Fatal(err)
	}
	if a != 10 || b != 20 || c != 20 || m.Calls() != 3 || fmt.Sprint(ins) != "[1 2 3]" || string(m.Input(0)) != "1" {
		t.Fatalf("results %d %d %d, calls %d, inputs %v", a, b, c, m.Calls(), ins)
	}
	var typed *durable.TaskFailedError
	m.ReturnError(errors.New("down"))
	inst := tt.Execute("DoubleIt", 4)
	if f := inst.Failure(); f == nil || f.InnerFailure == nil || f.InnerFailure.ErrorMessage != "down" {
		t.Fatalf("failure = %+v (%v)", f, typed)
	}
}

// fakeT records what a Tester reports about a test's own mistakes.
type fakeT struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) { f.Errorf(format, args...); runtime.Goexit() }
func (f *fakeT) Fatal(args ...any)                 { f.Errorf("%s", fmt.Sprint(args...)); runtime.Goexit() }

// report runs body with a fake T and returns what it reported.
func report(t *testing.T, body func(t testing.TB)) string {
	f := &fakeT{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); body(f) }()
	<-done
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	return strings.Join(f.errors, "\n")
}

func TestTheTestsOwnMistakesAreClear(t *testing.T) {
	cases := []struct {
		name string
		body func(t testing.TB)
		want string
	}{
		{"unknown orchestrator", func(ft testing.TB) { durabletest.New(ft, registry(t)).Start("Dobule", 1) },
			`Start("Dobule"): no orchestrator is registered under that name`},
		{"unknown activity", func(ft testing.TB) { durabletest.New(ft, registry(t)).Execute("CallsMissing", nil) },
			`calls activity "Missing", which is neither registered nor mocked`},
		{"wrong input type", func(ft testing.TB) {
			durabletest.Output[int](durabletest.New(ft, registry(t)).Execute("DoubleIt", "seven"))
		}, "does not fit the orchestrator's input type"},
		{"wrong output type", func(ft testing.TB) {
			durabletest.Output[string](durabletest.New(ft, registry(t)).Execute("DoubleIt", 7))
		}, "the output of DoubleIt-1 is 14, which does not decode into string"},
		{"waiting forever", func(ft testing.TB) {
			durabletest.Output[string](durabletest.New(ft, registry(t)).Execute("Waits", nil))
		}, "Waits-1 is Running, not Completed"},
		{"mock without behaviour", func(ft testing.TB) {
			tt := durabletest.New(ft, registry(t))
			tt.OnActivity("Double")
			tt.Execute("DoubleIt", 1)
		}, `the activity mock "Double" was called but has no Return, ReturnError or Do`},
		{"non-deterministic orchestrator", func(ft testing.TB) {
			durabletest.New(ft, registry(t)).Execute("Unstable", nil)
		}, "instance Unstable-1 is not deterministic"},
		{"eternal loop", func(ft testing.TB) {
			r := durable.NewRegistry()
			_ = r.AddOrchestrator("Tick", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (int, error) {
				for {
					if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(time.Minute)).Await(); err != nil {
						return 0, err
					}
				}
			}))
			durabletest.New(ft, r, durabletest.WithMaxSteps(50)).Execute("Tick", nil)
		}, "still busy after 50 work items"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := report(t, c.body); !strings.Contains(got, c.want) {
				t.Fatalf("reported:\n%s\nwant it to contain %q", got, c.want)
			}
		})
	}
}

var (
	greet    = durable.NewActivity("Greet", func(ctx context.Context, name string) (string, error) { return "Hello " + name, nil })
	greetAll = durable.NewOrchestrator("GreetAll", func(ctx *durable.OrchestrationContext, names []string) ([]string, error) {
		var out []string
		for _, n := range names {
			s, err := greet.Call(ctx, n).Await()
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	})
	greetTeam = durable.NewOrchestrator("GreetTeam", func(ctx *durable.OrchestrationContext, team string) ([]string, error) {
		return greetAll.Call(ctx, []string{team + "-1", team + "-2"}).Await()
	})
)

func TestTypedHandles(t *testing.T) {
	r := durable.NewRegistry()
	if err := r.Register(greet, greetAll, greetTeam); err != nil {
		t.Fatal(err)
	}
	tt := durabletest.New(t, r)
	if got := durabletest.Result(greetAll, durabletest.Execute(tt, greetAll, []string{"Ann", "Bo"})); fmt.Sprint(got) != "[Hello Ann Hello Bo]" {
		t.Fatalf("real activity: %q", got)
	}
	m := durabletest.MockActivity(tt, greet, func(name string) (string, error) { return "Hi " + name, nil })
	if got := durabletest.Result(greetAll, durabletest.Execute(tt, greetAll, []string{"Cy"})); fmt.Sprint(got) != "[Hi Cy]" || m.Calls() != 1 {
		t.Fatalf("mocked activity: %q, %d calls", got, m.Calls())
	}
	child := durabletest.MockSubOrchestrator(tt, greetAll, func(names []string) ([]string, error) { return []string{fmt.Sprint(len(names))}, nil })
	inst := durabletest.Start(tt, greetTeam, "red")
	tt.RunUntilDone(inst)
	if got := durabletest.Result(greetTeam, inst); fmt.Sprint(got) != "[2]" || child.Calls() != 1 || string(child.Input(0)) != `["red-1","red-2"]` {
		t.Fatalf("mocked child: %q, calls %d, input %s", got, child.Calls(), child.Input(0))
	}
}

func TestExpectAndScheduledSignals(t *testing.T) {
	got := report(t, func(ft testing.TB) {
		tt := durabletest.New(ft, registry(t))
		tt.OnActivity("Double").Return(4).Expect(2)
		tt.Execute("DoubleIt", 2)
	})
	if !strings.Contains(got, `the activity mock "Double" was called 1 times, expected 2`) {
		t.Fatalf("reported %q", got)
	}
	r := durable.NewRegistry()
	_ = r.AddEntity("Tally", durable.EntityOperations(map[string]func(*durable.EntityContext, int, json.RawMessage) (int, any, error){
		"add": func(ctx *durable.EntityContext, n int, in json.RawMessage) (int, any, error) {
			var d int
			err := json.Unmarshal(in, &d)
			return n + d, nil, err
		},
	}))
	tt := durabletest.New(t, r)
	id := durable.NewEntityID("Tally", "a")
	tt.SignalEntityAfter(time.Hour, id, "add", 2)
	tt.SignalEntityAfter(3*time.Hour, id, "add", 5)
	tt.Advance(2 * time.Hour)
	if n, ok := durabletest.EntityState[int](tt, id); !ok || n != 2 {
		t.Fatalf("after 2h: %d %v", n, ok)
	}
	tt.Advance(time.Hour)
	if n, _ := durabletest.EntityState[int](tt, id); n != 7 {
		t.Fatalf("after 3h: %d", n)
	}
	// Instances are created at the virtual time.
	tt2 := durabletest.New(t, registry(t))
	tt2.Advance(time.Hour)
	inst := tt2.Execute("DoubleIt", 1)
	if c := inst.Status().CreatedTime; !c.Equal(durabletest.DefaultStartTime.Add(time.Hour)) {
		t.Fatalf("created at %s", c)
	}
}

func TestHistoryTimesAreVirtual(t *testing.T) {
	tt := durabletest.New(t, registry(t))
	inst := tt.Start("Waits", nil)
	inst.RaiseEventAfter(5*time.Hour, "Go", "x")
	tt.RunUntilDone(inst)
	for _, e := range inst.History() {
		if e.Timestamp.Before(durabletest.DefaultStartTime) || e.Timestamp.After(durabletest.DefaultStartTime.Add(5*time.Hour)) {
			t.Fatalf("%s at %s, outside the virtual test time", e.Type, e.Timestamp)
		}
		if e.Type == history.EventRaised && !e.Timestamp.Equal(durabletest.DefaultStartTime.Add(5*time.Hour)) {
			t.Fatalf("the event was raised at %s", e.Timestamp)
		}
	}
}

func TestMockDelayRacesATimer(t *testing.T) {
	r := durable.NewRegistry()
	_ = r.AddOrchestrator("Race", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		call := durable.CallActivity[string](ctx, "Slow", nil)
		timer := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(time.Hour))
		i, err := durable.WhenAny(ctx, call, timer)
		if err != nil {
			return "", err
		}
		if i == 1 {
			return "timeout", nil
		}
		return call.Await()
	}))
	tt := durabletest.New(t, r)
	tt.OnActivity("Slow").Return("fast enough").Delay(2 * time.Hour)
	if got := durabletest.Output[string](tt.Execute("Race", nil)); got != "timeout" {
		t.Fatalf("2h call against a 1h timer: %q", got)
	}
	tt.OnActivity("Slow").Delay(30 * time.Minute)
	start := tt.Now()
	if got := durabletest.Output[string](tt.Execute("Race", nil)); got != "fast enough" || tt.Now().Sub(start) != 30*time.Minute {
		t.Fatalf("30m call against a 1h timer: %q after %v", got, tt.Now().Sub(start))
	}
}
