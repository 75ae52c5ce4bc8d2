package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/memory"
	"github.com/godurable/functions/durable/replay"
	"github.com/godurable/functions/internal/testsupport"
)

// The eternal counter from the Durable Functions docs: two "add" events in
// one batch count 1 + 10 = 11.
func TestEternalCounterCountsEveryEventOfABatch(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Counter", Orchestrator(func(ctx *OrchestrationContext, n int) (int, error) {
		d, err := WaitForExternalEvent[int](ctx, "add").Await()
		if err != nil {
			return 0, err
		}
		return 0, ctx.ContinueAsNew(n+d, PreserveUnprocessedEvents())
	}))
	d := newDriver(t, r)
	d.start("Counter", 0)
	d.run()
	a1, _ := marshalPayload(1)
	a10, _ := marshalPayload(10)
	d.inbox = append(d.inbox,
		&history.Event{Type: history.EventRaised, EventID: -1, Timestamp: d.now, Name: "add", Input: a1},
		&history.Event{Type: history.EventRaised, EventID: -1, Timestamp: d.now, Name: "add", Input: a10})
	d.run()
	if got := d.hist[1]; got.Type != history.ExecutionStarted || history.Deref(got.Input) != "11" || d.state.RuntimeStatus != StatusRunning {
		t.Fatalf("the running execution starts with %+v (%v), want input 11", got, d.state.RuntimeStatus)
	}
}

// A call with retries that fails while the orchestrator awaits something
// else gets its retry timer at once, and its retries are not cut short by
// the time spent waiting.
func TestRetryAdvancesWithoutAwait(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddOrchestrator("Busy", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		call := CallActivity[any](ctx, "Fail", nil, WithRetry(RetryPolicy{MaxAttempts: 5, FirstRetryInterval: 10 * time.Second, RetryTimeout: 5 * time.Minute}))
		if _, err := CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(time.Hour)).Await(); err != nil {
			return "", err
		}
		_, err := call.Await()
		return fmt.Sprint(err != nil), nil
	}))
	d := newDriver(t, r)
	d.start("Busy", nil)
	d.run()
	if len(d.timers) != 2 {
		t.Fatalf("after the first failure want the 1 h timer and a 10 s retry timer, got %d timers (history %s)", len(d.timers), d.eventTypes())
	}
	for i := 0; i < 10; i++ {
		d.advance(10 * time.Second)
	}
	if n := strings.Count(d.eventTypes(), "TaskScheduled"); n != 5 {
		t.Fatalf("want all 5 attempts within the retry timeout, got %d: %s", n, d.eventTypes())
	}
	d.advance(time.Hour)
	if d.output() != `"true"` {
		t.Fatalf("output = %s", d.output())
	}
}

// Parallel calls with retries, awaited one by one, retry in parallel.
func TestParallelRetriesRunInParallel(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddOrchestrator("Par", Orchestrator(func(ctx *OrchestrationContext, _ any) (int, error) {
		p := RetryPolicy{MaxAttempts: 3, FirstRetryInterval: 10 * time.Second}
		a := CallActivity[any](ctx, "Fail", nil, WithRetry(p))
		b := CallActivity[any](ctx, "Fail", nil, WithRetry(p))
		_, ea := a.Await()
		_, eb := b.Await()
		if ea == nil || eb == nil {
			return 0, errors.New("want failures")
		}
		return strings.Count(fmt.Sprint(ea, eb), "always fails"), nil
	}))
	d := newDriver(t, r)
	d.start("Par", nil)
	d.run()
	if len(d.timers) != 2 {
		t.Fatalf("want two retry timers at once, got %d", len(d.timers))
	}
	d.advance(10 * time.Second)
	d.advance(10 * time.Second)
	if d.output() != "2" {
		t.Fatalf("both calls should have given up after 20 s; output %q, history %s", d.output(), d.eventTypes())
	}
}

// An event wait whose timeout fired while the code awaited something else
// times out; the later event is not returned as a success.
func TestEventTimeoutFiresWithoutAwait(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Late", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		ev := WaitForExternalEvent[string](ctx, "x", WithTimeout(time.Minute))
		if _, err := CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(30*time.Minute)).Await(); err != nil {
			return "", err
		}
		v, err := ev.Await()
		if errors.Is(err, ErrTimeout) {
			next, _ := WaitForExternalEvent[string](ctx, "x").Await()
			return "timed out; next waiter got " + next, nil
		}
		return "got " + v, err
	}))
	d := newDriver(t, r)
	d.start("Late", nil)
	d.run()
	d.advance(time.Minute)
	d.raise("x", "late")
	d.advance(30 * time.Minute)
	if d.output() != `"timed out; next waiter got late"` {
		t.Fatalf("output = %s", d.output())
	}
}

func TestWithTimeoutZeroTimesOutAtOnce(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Zero", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		_, err := WaitForExternalEvent[string](ctx, "x", WithTimeout(0)).Await()
		return fmt.Sprint(errors.Is(err, ErrTimeout)), nil
	}))
	d := newDriver(t, r)
	d.start("Zero", nil)
	d.run()
	if d.output() != `"true"` {
		t.Fatalf("output = %q (%v)", d.output(), d.state.RuntimeStatus)
	}
}

// A deferred Await runs at every unload; it returns ErrTaskCanceled and
// leaves no goroutine behind, over many episodes.
func TestDeferredAwaitOverManyEpisodes(t *testing.T) {
	r := testRegistry(t)
	var canceled int
	var mu sync.Mutex
	_ = r.AddOrchestrator("Deferred", Orchestrator(func(ctx *OrchestrationContext, n int) (int, error) {
		defer func() {
			if _, err := CallActivity[string](ctx, "SayHello", "cleanup").Await(); errors.Is(err, ErrTaskCanceled) {
				mu.Lock()
				canceled++
				mu.Unlock()
			}
		}()
		for i := 0; i < n; i++ {
			if _, err := CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(time.Second)).Await(); err != nil {
				return 0, err
			}
		}
		return n, nil
	}))
	before := runtime.NumGoroutine()
	d := newDriver(t, r)
	d.start("Deferred", 60)
	d.run()
	for i := 0; i < 61 && d.output() == ""; i++ {
		d.advance(time.Second)
	}
	if d.output() != "60" {
		t.Fatalf("output = %q", d.output())
	}
	if canceled < 60 {
		t.Fatalf("deferred Await returned ErrTaskCanceled %d times, want one per unloaded episode", canceled)
	}
	waitForGoroutines(t, before)
}

func waitForGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// Many instances through the worker leave no goroutine behind: orchestrator
// coroutines end with their episodes.
func TestNoGoroutineLeakOverManyEpisodes(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 30; i++ {
		d := newDriver(t, testRegistry(t))
		d.start("HelloCities", nil)
		d.run()
		if d.state.RuntimeStatus != StatusCompleted {
			t.Fatalf("instance %d: %v", i, d.state.RuntimeStatus)
		}
	}
	waitForGoroutines(t, before)
}

func TestGoroutinesInOrchestratorFailTheInstance(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddOrchestrator("Threads", Orchestrator(func(ctx *OrchestrationContext, _ any) ([]string, error) {
		out := make([]string, 3)
		var wg sync.WaitGroup
		for i, c := range []string{"a", "b", "c"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i], _ = CallActivity[string](ctx, "SayHello", c).Await()
			}()
		}
		wg.Wait()
		return out, nil
	}))
	d := newDriver(t, r)
	d.start("Threads", nil)
	d.run()
	if d.state.RuntimeStatus != StatusFailed || !strings.Contains(d.output(), "Multithreaded execution was detected") {
		t.Fatalf("state %v %q", d.state.RuntimeStatus, d.output())
	}
	last := d.hist[len(d.hist)-2]
	if last.Failure == nil || last.Failure.ErrorType != ErrorTypeMultithreaded {
		t.Fatalf("completion = %+v", last)
	}
}

func TestGoexitFailsTheInstance(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Exit", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		runtime.Goexit()
		return nil, nil
	}))
	d := newDriver(t, r)
	d.start("Exit", nil)
	d.run()
	if d.state.RuntimeStatus != StatusFailed || !strings.Contains(d.output(), "runtime.Goexit") {
		t.Fatalf("state %v %q", d.state.RuntimeStatus, d.output())
	}
}

func TestBlockingOrchestratorStepFailsTheInstance(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Sleepy", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		time.Sleep(time.Second)
		return nil, nil
	}))
	d := newDriver(t, r)
	d.w.opts.OrchestratorStepLimit = 50 * time.Millisecond
	d.start("Sleepy", nil)
	d.run()
	if d.state.RuntimeStatus != StatusFailed || !strings.Contains(d.output(), "ran for more than 50ms") {
		t.Fatalf("state %v %q", d.state.RuntimeStatus, d.output())
	}
	if d.hist[len(d.hist)-2].Failure.ErrorType != ErrorTypeBlocked {
		t.Fatalf("completion = %+v", d.hist[len(d.hist)-2])
	}
}

func TestLoggerInDeferLogsOnce(t *testing.T) {
	var buf testsupport.SyncBuffer
	r := NewRegistry()
	_ = r.AddOrchestrator("Cleanup", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		defer ctx.Logger().Info("cleanup")
		for i := 0; i < 3; i++ {
			if _, err := CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(time.Second)).Await(); err != nil {
				return "", err
			}
		}
		return "ok", nil
	}))
	d := newDriver(t, r)
	d.w.log = slog.New(slog.NewTextHandler(&buf, nil))
	d.start("Cleanup", nil)
	d.run()
	for i := 0; i < 3; i++ {
		d.advance(time.Second)
	}
	if d.output() != `"ok"` || strings.Count(buf.String(), "msg=cleanup") != 1 {
		t.Fatalf("output %s, log:\n%s", d.output(), buf.String())
	}
}

type cardDeclined struct{}

func (cardDeclined) Error() string     { return "card declined" }
func (cardDeclined) ErrorType() string { return "CardDeclined" }

func TestWrappedErrorsKeepTheWrapper(t *testing.T) {
	r := testRegistry(t)
	_ = r.AddActivity("Charge", Activity(func(ctx context.Context, _ any) (any, error) {
		return nil, fmt.Errorf("charging card: %w", cardDeclined{})
	}))
	_ = r.AddOrchestrator("Order", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		if _, err := CallActivity[any](ctx, "Charge", nil).Await(); err != nil {
			return nil, fmt.Errorf("charging card for order 42: %w", err)
		}
		return nil, nil
	}))
	d := newDriver(t, r)
	d.start("Order", nil)
	d.run()
	f := d.hist[len(d.hist)-2].Failure
	if d.state.RuntimeStatus != StatusFailed || f == nil || f.ErrorType != "error" ||
		!strings.HasPrefix(f.ErrorMessage, "charging card for order 42: The activity function 'Charge' failed") {
		t.Fatalf("failure = %+v", f)
	}
	tf := f.InnerFailure
	if tf == nil || tf.ErrorType != ErrorTypeTaskFailed || tf.InnerFailure == nil {
		t.Fatalf("inner = %+v", tf)
	}
	act := tf.InnerFailure
	if act.ErrorType != "error" || act.ErrorMessage != "charging card: card declined" || act.InnerFailure == nil || act.InnerFailure.ErrorType != "CardDeclined" {
		t.Fatalf("activity failure = %+v / %+v", act, act.InnerFailure)
	}
}

func TestSubOrchestrationIDsAreValidated(t *testing.T) {
	r := testRegistry(t)
	for _, id := range []string{"inst", "INST", "@counter@x"} {
		_ = r.AddOrchestrator("Parent"+id, Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
			_, err := CallSubOrchestrator[any](ctx, "HelloCities", nil, WithChildInstanceID(id)).Await()
			return fmt.Sprint(errors.Is(err, ErrInvalidInput), " ", err), nil
		}))
		d := newDriver(t, r)
		d.start("Parent"+id, nil)
		d.run()
		if !strings.HasPrefix(d.output(), `"true `) || len(d.sent) != 0 {
			t.Fatalf("id %q: output %s, sent %+v", id, d.output(), d.sent)
		}
	}
}

func TestErrorsMatchWhatTheyDescribe(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Missing", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		_, err := CallActivity[any](ctx, "NotThere", nil).Await()
		return fmt.Sprint(errors.Is(err, ErrUnknownFunction)), nil
	}))
	d := newDriver(t, r)
	d.start("Missing", nil)
	d.run()
	if d.output() != `"true"` {
		t.Fatalf("errors.Is(unregistered activity, ErrUnknownFunction): %s", d.output())
	}
	if ErrNonDeterministic != error(replayErrNonDeterministic()) {
		t.Fatal("durable.ErrNonDeterministic is not the engine's error")
	}
	nd := &TaskFailedError{TaskName: "Child", SubOrchestration: true, Details: &FailureDetails{ErrorType: ErrorTypeNonDeterministic}}
	if !errors.Is(fmt.Errorf("x: %w", nd), ErrNonDeterministic) {
		t.Fatal("a sub-orchestration that failed on replay does not match ErrNonDeterministic")
	}
}

func TestNonRetriableStopsRetries(t *testing.T) {
	r := NewRegistry()
	_ = r.AddActivity("Reject", Activity(func(ctx context.Context, _ any) (any, error) {
		return nil, fmt.Errorf("order 42: %w", NonRetriable(errors.New("invalid card number")))
	}))
	_ = r.AddOrchestrator("Once", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		_, err := CallActivity[any](ctx, "Reject", nil, WithRetry(RetryPolicy{MaxAttempts: 5, FirstRetryInterval: time.Second})).Await()
		var tf *TaskFailedError
		if !errors.As(err, &tf) {
			return "", fmt.Errorf("want a TaskFailedError, got %v", err)
		}
		return tf.Details.ErrorMessage, nil
	}))
	d := newDriver(t, r)
	d.start("Once", nil)
	d.run()
	if d.output() != `"order 42: invalid card number"` || len(d.timers) != 0 || strings.Count(d.eventTypes(), "TaskScheduled") != 1 {
		t.Fatalf("output %s timers %d history %s", d.output(), len(d.timers), d.eventTypes())
	}
}

// grantLocks answers the driver's pending lock request as the entity would.
func (d *episodeDriver) grantLock() {
	d.t.Helper()
	for _, m := range d.sent {
		var req entityRequest
		if m.Event.Name != "op" || json.Unmarshal([]byte(history.Deref(m.Event.Input)), &req) != nil || !req.IsLockRequest {
			continue
		}
		granted := lockGranted
		b, _ := json.Marshal(entityResponse{Result: &granted})
		d.raise(req.ID, json.RawMessage(b))
		return
	}
	d.t.Fatalf("no lock request in %+v", d.sent)
}

func (d *episodeDriver) releases() int {
	n := 0
	for _, m := range d.sent {
		if m.Event.Name == "release" {
			n++
		}
	}
	return n
}

func TestLocksReleasedOnTerminate(t *testing.T) {
	r := NewRegistry()
	_ = r.AddOrchestrator("Holder", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		if _, err := LockEntities(ctx, NewEntityID("Counter", "a"), NewEntityID("Counter", "b")); err != nil {
			return nil, err
		}
		return WaitForExternalEvent[any](ctx, "never").Await()
	}))
	d := newDriver(t, r)
	d.start("Holder", nil)
	d.run()
	d.grantLock()
	if d.releases() != 0 {
		t.Fatal("released too early")
	}
	d.inbox = append(d.inbox, &history.Event{Type: history.ExecutionTerminated, EventID: -1, Timestamp: d.now, Input: history.Str(`"stop"`)})
	d.run()
	if d.state.RuntimeStatus != StatusTerminated || d.releases() != 2 {
		t.Fatalf("status %v, %d releases, want 2", d.state.RuntimeStatus, d.releases())
	}
}

func TestLockingRulesAreEnforced(t *testing.T) {
	r := NewRegistry()
	a, b := NewEntityID("Counter", "a"), NewEntityID("Counter", "b")
	_ = r.AddOrchestrator("Rules", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		release, err := LockEntities(ctx, a)
		if err != nil {
			return "", err
		}
		defer release()
		var got []string
		_, err = CallEntity[int](ctx, b, "get", nil).Await()
		got = append(got, fmt.Sprint(errors.Is(err, ErrLockingRulesViolation)))
		_, err = LockEntities(ctx, b)
		got = append(got, fmt.Sprint(errors.Is(err, ErrLockingRulesViolation)))
		err = SignalEntity(ctx, a, "add", 1)
		got = append(got, fmt.Sprint(errors.Is(err, ErrLockingRulesViolation)))
		_, err = CallSubOrchestrator[any](ctx, "X", nil).Await()
		got = append(got, fmt.Sprint(errors.Is(err, ErrLockingRulesViolation)))
		return strings.Join(got, ","), nil
	}))
	d := newDriver(t, r)
	d.start("Rules", nil)
	d.run()
	d.grantLock()
	if d.output() != `"true,true,true,true"` || d.releases() != 1 {
		t.Fatalf("output %s, releases %d", d.output(), d.releases())
	}
}

func TestFailuresAreLogged(t *testing.T) {
	var buf testsupport.SyncBuffer
	r := testRegistry(t)
	_ = r.AddOrchestrator("Crash", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		_, _ = CallActivity[any](ctx, "NotThere", nil).Await()
		_, _ = CallActivity[any](ctx, "Square", "not a number").Await()
		return CallActivity[any](ctx, "Fail", nil).Await()
	}))
	d := newDriver(t, r)
	d.w.log = slog.New(slog.NewTextHandler(&buf, nil))
	d.start("Crash", nil)
	d.run()
	log := buf.String()
	for _, want := range []string{
		`level=ERROR msg="activity failed" activity=NotThere instanceId=inst executionId=exec0 taskId=0 errorType=ActivityNotFound`,
		`level=WARN msg="activity failed" activity=Square instanceId=inst executionId=exec0 taskId=1 errorType=InputError`,
		`level=WARN msg="activity failed" activity=Fail instanceId=inst executionId=exec0 taskId=2 errorType=error message="always fails"`,
		`level=ERROR msg="orchestration failed" instanceId=inst executionId=exec0 name=Crash orchestrator=Crash errorType=TaskFailedError`,
	} {
		if strings.Count(log, want) != 1 {
			t.Errorf("want once in the log: %s\nlog:\n%s", want, log)
		}
	}
}

// An execution that ends with external events it never waited for (a
// misspelt event name, say) says so once, naming them.
func TestUnawaitedEventsAreLogged(t *testing.T) {
	var buf testsupport.SyncBuffer
	r := testRegistry(t)
	_ = r.AddOrchestrator("Approve", Orchestrator(func(ctx *OrchestrationContext, _ any) (string, error) {
		return WaitForExternalEvent[string](ctx, "Approval").Await()
	}))
	d := newDriver(t, r)
	d.w.log = slog.New(slog.NewTextHandler(&buf, nil))
	d.start("Approve", nil)
	d.run()
	d.raise("Aproval", "typo")
	d.run()
	if strings.Contains(buf.String(), "never waited for") {
		t.Fatalf("warned while the execution still runs:\n%s", buf.String())
	}
	d.raise("Approval", "yes")
	d.run()
	want := `level=WARN msg="orchestration ended with external events it never waited for; they are discarded" instanceId=inst executionId=exec0 name=Approve orchestrator=Approve events=[Aproval]`
	if d.output() != `"yes"` || strings.Count(buf.String(), want) != 1 {
		t.Fatalf("output %s; want once in the log: %s\nlog:\n%s", d.output(), want, buf.String())
	}
}

func replayErrNonDeterministic() error { return replay.ErrNonDeterministic }

func TestLocksReleasedOnNonDeterminism(t *testing.T) {
	r := testRegistry(t)
	changed := false
	_ = r.AddOrchestrator("Holder", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		if _, err := LockEntities(ctx, NewEntityID("Counter", "a")); err != nil {
			return nil, err
		}
		if changed { // a deployment changed the code under a running instance
			return CallActivity[string](ctx, "SayHello", "x").Await()
		}
		return CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(time.Hour)).Await()
	}))
	d := newDriver(t, r)
	d.start("Holder", nil)
	d.run()
	d.grantLock()
	changed = true
	d.advance(time.Hour)
	f := d.hist[len(d.hist)-2].Failure
	if d.state.RuntimeStatus != StatusFailed || f == nil || f.ErrorType != ErrorTypeNonDeterministic || d.releases() != 1 {
		t.Fatalf("status %v, failure %+v, %d releases, want 1", d.state.RuntimeStatus, f, d.releases())
	}
	seen := map[int]bool{}
	for _, e := range d.hist {
		if e.EventID >= 0 && seen[e.EventID] {
			t.Fatalf("EventId %d appears twice: %s", e.EventID, d.eventTypes())
		}
		seen[e.EventID] = e.EventID >= 0
	}
}

// panicOnce is a log handler that panics the first time it handles a
// record with the given message: a stand-in for a bug in the runtime's own
// episode code.
type panicOnce struct {
	slog.Handler
	msg  string
	mu   sync.Mutex
	done bool
}

func (h *panicOnce) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	fire := r.Message == h.msg && !h.done
	if fire {
		h.done = true
	}
	h.mu.Unlock()
	if fire {
		panic("bug in the runtime")
	}
	return h.Handler.Handle(ctx, r)
}

func (h *panicOnce) WithAttrs(as []slog.Attr) slog.Handler {
	return &withAttrs{h: h, attrs: as}
}

type withAttrs struct {
	h     *panicOnce
	attrs []slog.Attr
}

func (w *withAttrs) Enabled(ctx context.Context, l slog.Level) bool { return true }
func (w *withAttrs) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(w.attrs...)
	return w.h.Handle(ctx, r)
}
func (w *withAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &withAttrs{h: w.h, attrs: append(append([]slog.Attr(nil), w.attrs...), as...)}
}
func (w *withAttrs) WithGroup(string) slog.Handler { return w }

// A panic in the runtime's own episode code abandons the work item (it is
// retried) instead of taking the process down.
func TestRuntimePanicAbandonsTheWorkItem(t *testing.T) {
	reg := NewRegistry()
	_ = reg.AddOrchestrator("Fails", Orchestrator(func(ctx *OrchestrationContext, _ any) (any, error) {
		return nil, errors.New("bad order")
	}))
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	be := memory.New(memory.Options{Clock: func() time.Time { return now }})
	var buf testsupport.SyncBuffer
	h := &panicOnce{Handler: slog.NewTextHandler(&buf, nil), msg: "orchestration failed"}
	w := NewWorker(be, reg, WorkerOptions{Logger: slog.New(h), Clock: func() time.Time { return now }})
	c := NewClient(be, reg, WithTaskHubName("hub"))
	ctx := context.Background()
	id, err := c.StartNew(ctx, "Fails", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if wi := be.TryFetchOrchestrationWorkItem(); wi != nil {
			w.ProcessOrchestrationWorkItem(ctx, wi)
		}
		now = now.Add(time.Second)
	}
	st, err := c.GetStatus(ctx, id)
	if err != nil || st.RuntimeStatus != StatusFailed {
		t.Fatalf("status %+v, %v", st, err)
	}
	if !strings.Contains(buf.String(), "orchestration episode failed inside the runtime") {
		t.Fatalf("log:\n%s", buf.String())
	}
}
