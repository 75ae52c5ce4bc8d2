package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/godurable/functions/durable"
)

// Env is the per-task-hub state the scenario functions read: failure
// switches and the table the map-reduce activities write to.
type Env struct {
	mu       sync.Mutex
	switches map[string]bool
	// RowTable is the table WriteTableRow and CountTableRows use.
	RowTable *aztables.Client
	// aborted records which functions have already aborted once.
	aborted map[string]bool
}

// NewEnv returns an Env with every failure switch on.
func NewEnv() *Env { return &Env{switches: map[string]bool{}, aborted: map[string]bool{}} }

// Fails reports whether the named switch is on (switches start on).
func (e *Env) Fails(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	off, set := e.switches[name]
	return !set || off
}

// Heal turns the named failure switch off.
func (e *Env) Heal(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.switches[name] = false
}

// firstTime reports true the first time it is called with name.
func (e *Env) firstTime(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.aborted[name] {
		return false
	}
	e.aborted[name] = true
	return true
}

// Failure switch names.
const (
	SwitchHelloFailActivity     = "HelloFailActivity"
	SwitchFactorialOrchestrator = "FactorialOrchestratorFail"
	SwitchFanOut1               = "HelloFailFanOut.1"
	SwitchFanOut2               = "HelloFailFanOut.2"
	SwitchMultiply1             = "MultiplyMultipleActivityFail.1"
	SwitchMultiply2             = "MultiplyMultipleActivityFail.2"
	SwitchChildOrch1            = "ChildWorkflowSubOrchestrationFail.1"
	SwitchChildOrch2            = "ChildWorkflowSubOrchestrationFail.2"
	SwitchSubActivity1          = "HelloFailSubOrchestrationActivity.1"
	SwitchSubActivity2          = "HelloFailSubOrchestrationActivity.2"
	SwitchNested1               = "HelloFailNestedSuborchestration.1"
	SwitchNested2               = "HelloFailNestedSuborchestration.2"
)

// CounterState is the CharacterCounter's state: a text and a count.
type CounterState struct {
	Item1 string `json:"Item1"`
	Item2 int    `json:"Item2"`
}

// Payloads of SemiLargePayloadFanOutFanIn: 25 Ki characters per activity
// input and 8 Ki characters of custom status.
var (
	semiLargePayload = strings.Repeat("x", 25*1024)
	semiLargeStatus  = strings.Repeat("x", 8*1024)
)

// ErrNullArgument is what the activities and orchestrators that require
// input fail with when it is missing (the .NET suite's
// ArgumentNullException, whose message contains "null").
var ErrNullArgument = errors.New("value cannot be null")

func nullArg(param string) error { return fmt.Errorf("%w (parameter '%s')", ErrNullArgument, param) }

// Register adds the suite's orchestrators, activities and entities to reg.
func Register(reg *durable.Registry, env *Env) error {
	var errs []error
	orch := func(name string, fn durable.OrchestratorFunc) { errs = append(errs, reg.AddOrchestrator(name, fn)) }
	act := func(name string, fn durable.ActivityFunc) { errs = append(errs, reg.AddActivity(name, fn)) }

	hello := func(ctx context.Context, in string) (string, error) {
		if in == "" {
			return "", nullArg("input")
		}
		return "Hello, " + in + "!", nil
	}
	helloSwitched := func(switches ...string) durable.ActivityFunc {
		return durable.Activity(func(ctx context.Context, in string) (string, error) {
			if in == "" {
				return "", nullArg("input")
			}
			for _, s := range switches {
				if env.Fails(s) {
					return "", errors.New("Simulating unhandled activity function failure...")
				}
			}
			return "Hello, " + in + "!", nil
		})
	}
	act("Hello", durable.Activity(hello))
	act("HelloFailActivity", helloSwitched(SwitchHelloFailActivity))
	act("HelloFailFanOut", helloSwitched(SwitchFanOut1, SwitchFanOut2))
	act("HelloFailNestedSuborchestration", helloSwitched(SwitchNested1, SwitchNested2))
	act("HelloFailSubOrchestrationActivity", helloSwitched(SwitchSubActivity1, SwitchSubActivity2))
	act("Multiply", durable.Activity(func(ctx context.Context, v [2]int64) (int64, error) { return v[0] * v[1], nil }))
	act("MultiplyMultipleActivityFail", durable.Activity(func(ctx context.Context, v [2]int64) (int64, error) {
		if (v[1] == 1 && env.Fails(SwitchMultiply1)) || (v[1] == 2 && env.Fails(SwitchMultiply2)) {
			return 0, errors.New("Simulating a transient, unhandled exception")
		}
		return v[0] * v[1], nil
	}))
	act("GetFileList", durable.Activity(func(ctx context.Context, dir string) ([]string, error) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var files []string
		for _, e := range ents {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
		return files, nil
	}))
	act("GetFileSize", durable.Activity(func(ctx context.Context, file string) (int64, error) {
		fi, err := os.Stat(file)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}))
	act("Throw", durable.Activity(func(ctx context.Context, msg string) (string, error) { return "", errors.New(msg) }))
	act("Echo", durable.Activity(func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil }))
	act("EchoBytes", durable.Activity(func(ctx context.Context, in []byte) ([]byte, error) { return in, nil }))
	act("CurrentTime", durable.Activity(func(ctx context.Context, in string) (time.Time, error) {
		if in == "" {
			return time.Time{}, nullArg("input")
		}
		return time.Now().UTC(), nil
	}))
	act("DelayedCurrentTime", durable.Activity(func(ctx context.Context, in string) (time.Time, error) {
		if in == "" {
			return time.Time{}, nullArg("input")
		}
		time.Sleep(time.Second)
		return time.Now().UTC(), nil
	}))
	act("WriteTableRow", durable.Activity(func(ctx context.Context, row [2]string) (any, error) {
		body, err := json.Marshal(map[string]any{"PartitionKey": row[0], "RowKey": row[1] + "." + durable.NewInstanceID()})
		if err != nil {
			return nil, err
		}
		if _, err := env.RowTable.AddEntity(ctx, body, nil); err != nil {
			return nil, fmt.Errorf("write row %s/%s: %w", row[0], row[1], err)
		}
		return nil, nil
	}))
	act("CountTableRows", durable.Activity(func(ctx context.Context, pk string) (int, error) {
		filter := "PartitionKey eq '" + strings.ReplaceAll(pk, "'", "''") + "'"
		sel := "RowKey"
		pager := env.RowTable.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter, Select: &sel})
		n := 0
		for pager.More() {
			p, err := pager.NextPage(ctx)
			if err != nil {
				return 0, fmt.Errorf("count rows of %s: %w", pk, err)
			}
			n += len(p.Entities)
		}
		return n, nil
	}))

	orch("SayHelloInline", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (string, error) {
		return "Hello, " + in + "!", nil
	}))
	orch("SayHelloWithActivity", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (string, error) {
		return durable.CallActivity[string](ctx, "Hello", in).Await()
	}))
	orch("SayHelloWithActivityFail", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (string, error) {
		return durable.CallActivity[string](ctx, "HelloFailActivity", in).Await()
	}))
	factorial := func(activity string) func(ctx *durable.OrchestrationContext, n int) (int64, error) {
		return func(ctx *durable.OrchestrationContext, n int) (int64, error) {
			r := int64(1)
			for i := 1; i <= n; i++ {
				v, err := durable.CallActivity[int64](ctx, activity, [2]int64{r, int64(i)}).Await()
				if err != nil {
					return 0, err
				}
				r = v
			}
			return r, nil
		}
	}
	orch("Factorial", durable.Orchestrator(factorial("Multiply")))
	orch("FactorialMultipleActivityFail", durable.Orchestrator(factorial("MultiplyMultipleActivityFail")))
	orch("FactorialOrchestratorFail", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int64, error) {
		r, err := factorial("Multiply")(ctx, n)
		if err != nil {
			return 0, err
		}
		if env.Fails(SwitchFactorialOrchestrator) {
			return 0, errors.New("Simulating a transient, unhandled exception")
		}
		return r, nil
	}))
	orch("FactorialNoReplay", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int64, error) {
		r := int64(1)
		for i := 1; i <= n; i++ {
			if ctx.IsReplaying() {
				return 0, errors.New("Replaying is forbidden in this test.")
			}
			v, err := durable.CallActivity[int64](ctx, "Multiply", [2]int64{r, int64(i)}).Await()
			if err != nil {
				return 0, err
			}
			r = v
		}
		if ctx.IsReplaying() {
			return 0, errors.New("Replaying is forbidden in this test.")
		}
		return r, nil
	}))
	orch("ParentOfFactorial", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int64, error) {
		return durable.CallSubOrchestrator[int64](ctx, "Factorial", n).Await()
	}))
	orch("LongRunningOrchestrator", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (string, error) {
		// Blocks the episode longer than the control-queue visibility
		// timeout the scenario sets, so the messages must be kept hidden.
		time.Sleep(longRunningSleep)
		if in == "0" {
			return "", ctx.ContinueAsNew("1")
		}
		return "ok", nil
	}))
	orch("DiskUsage", durable.Orchestrator(func(ctx *durable.OrchestrationContext, dir string) (int64, error) {
		files, err := durable.CallActivity[[]string](ctx, "GetFileList", dir).Await()
		if err != nil {
			return 0, err
		}
		tasks := make([]*durable.Task[int64], len(files))
		for i, f := range files {
			tasks[i] = durable.CallActivity[int64](ctx, "GetFileSize", f)
		}
		sizes, err := durable.WhenAllOf(ctx, tasks...)
		if err != nil {
			return 0, err
		}
		var total int64
		for _, s := range sizes {
			total += s
		}
		return total, nil
	}))
	fanOut := func(activity string) func(ctx *durable.OrchestrationContext, n int) (string, error) {
		return func(ctx *durable.OrchestrationContext, n int) (string, error) {
			tasks := make([]*durable.Task[string], n)
			for i := range tasks {
				tasks[i] = durable.CallActivity[string](ctx, activity, fmt.Sprintf("%03d", i))
			}
			if _, err := durable.WhenAllOf(ctx, tasks...); err != nil {
				return "", err
			}
			return "Done", nil
		}
	}
	orch("FanOutFanIn", durable.Orchestrator(fanOut("Hello")))
	orch("FanOutFanInRewind", durable.Orchestrator(fanOut("HelloFailFanOut")))
	orch("SemiLargePayloadFanOutFanIn", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (string, error) {
		if err := ctx.SetCustomStatus(semiLargeStatus); err != nil {
			return "", err
		}
		tasks := make([]*durable.Task[string], n)
		for i := range tasks {
			tasks[i] = durable.CallActivity[string](ctx, "Echo", semiLargePayload)
		}
		if _, err := durable.WhenAllOf(ctx, tasks...); err != nil {
			return "", err
		}
		return "Done", nil
	}))
	orch("DoubleFanOut", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		for round := 0; round < 2; round++ {
			tasks := make([]*durable.Task[string], 5)
			for i := range tasks {
				tasks[i] = durable.CallActivity[string](ctx, "Hello", fmt.Sprint(i+10*round))
			}
			if _, err := durable.WhenAllOf(ctx, tasks...); err != nil {
				return "", err
			}
		}
		return "OK", nil
	}))

	// Sub-orchestration trees whose leaves fail until their switches heal.
	children := func(child string) func(ctx *durable.OrchestrationContext, wait bool) (string, error) {
		return func(ctx *durable.OrchestrationContext, wait bool) (string, error) {
			tasks := make([]*durable.Task[string], 2)
			for i := range tasks {
				tasks[i] = durable.CallSubOrchestrator[string](ctx, child, i)
				if wait {
					if _, err := tasks[i].Await(); err != nil {
						return "", err
					}
				}
			}
			outs, err := durable.WhenAllOf(ctx, tasks...)
			if err != nil {
				return "", err
			}
			return strings.Join(outs, ""), nil
		}
	}
	leaf := func(activity string) func(ctx *durable.OrchestrationContext, n int) (string, error) {
		return func(ctx *durable.OrchestrationContext, n int) (string, error) {
			return durable.CallActivity[string](ctx, activity, fmt.Sprint(n)).Await()
		}
	}
	orch("ParentWorkflowSubOrchestrationFail", durable.Orchestrator(children("ChildWorkflowSubOrchestrationFail")))
	orch("ChildWorkflowSubOrchestrationFail", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (string, error) {
		if env.Fails(SwitchChildOrch1) || env.Fails(SwitchChildOrch2) {
			return "", errors.New("Simulating sub-orchestration failure...")
		}
		return durable.CallActivity[string](ctx, "Hello", fmt.Sprint(n)).Await()
	}))
	orch("ParentWorkflowSubOrchestrationActivityFail", durable.Orchestrator(children("ChildWorkflowSubOrchestrationActivityFail")))
	orch("ChildWorkflowSubOrchestrationActivityFail", durable.Orchestrator(leaf("HelloFailSubOrchestrationActivity")))
	orch("GrandparentWorkflowNestedActivityFail", durable.Orchestrator(children("ParentWorkflowNestedActivityFail")))
	orch("ParentWorkflowNestedActivityFail", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ int) (string, error) {
		return children("ChildWorkflowNestedActivityFail")(ctx, true)
	}))
	orch("ChildWorkflowNestedActivityFail", durable.Orchestrator(leaf("HelloFailNestedSuborchestration")))

	// Actors: wait for one operation, then continue as new with the new state.
	orch("Counter", durable.Orchestrator(func(ctx *durable.OrchestrationContext, v int) (int, error) {
		op, err := durable.WaitForExternalEvent[string](ctx, "operation").Await()
		if err != nil {
			return 0, err
		}
		switch strings.ToLower(op) {
		case "incr":
			v++
		case "decr":
			v--
		case "end":
			return v, nil
		}
		// Operations raised while this execution ran are carried over to
		// the next one (Durable Task's carry-over).
		return v, ctx.ContinueAsNew(v)
	}))
	orch("CharacterCounter", durable.Orchestrator(func(ctx *durable.OrchestrationContext, s CounterState) (CounterState, error) {
		op, err := durable.WaitForExternalEvent[string](ctx, "operation").Await()
		if err != nil {
			return s, err
		}
		switch strings.ToLower(op) {
		case "double":
			s = CounterState{Item1: s.Item1 + Reverse(s.Item1), Item2: s.Item2 * 2}
		case "end":
			return s, nil
		}
		return s, ctx.ContinueAsNew(s)
	}))
	orch("Approval", durable.Orchestrator(func(ctx *durable.OrchestrationContext, timeoutSeconds float64) (string, error) {
		deadline := ctx.CurrentUTCDateTime().Add(time.Duration(timeoutSeconds * float64(time.Second)))
		approval := durable.WaitForExternalEvent[bool](ctx, "approval")
		timer := durable.CreateTimer(ctx, deadline)
		i, err := durable.WhenAny(ctx, approval, timer)
		if err != nil {
			return "", err
		}
		if i == 0 {
			ok, err := approval.Await()
			if err != nil {
				return "", err
			}
			if ok {
				return "Approved", nil
			}
			return "Rejected", nil
		}
		return "Expired", nil
	}))
	orch("ThrowException", durable.Orchestrator(func(ctx *durable.OrchestrationContext, msg string) (any, error) {
		if msg == "" {
			return nil, errors.New(msg)
		}
		_, err := durable.CallActivity[string](ctx, "Throw", msg).Await()
		return nil, err
	}))
	orch("Throw", durable.Orchestrator(func(ctx *durable.OrchestrationContext, msg string) (any, error) {
		if msg == "" {
			return nil, nullArg("message")
		}
		_, err := durable.CallActivity[string](ctx, "Throw", msg).Await()
		return nil, err
	}))
	orch("TryCatchLoop", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
		caught := 0
		for i := 0; i < n; i++ {
			_, err := durable.CallActivity[string](ctx, "Throw", "Kah-BOOOOOM!!!").Await()
			var tf *durable.TaskFailedError
			if errors.As(err, &tf) {
				caught++
			} else if err != nil {
				return 0, err
			}
		}
		return caught, nil
	}))
	orch("Echo", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in json.RawMessage) (json.RawMessage, error) {
		return durable.CallActivity[json.RawMessage](ctx, "Echo", in).Await()
	}))
	orch("EchoBytes", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in []byte) ([]byte, error) {
		return durable.CallActivity[[]byte](ctx, "EchoBytes", in).Await()
	}))
	orch("MapReduceTableStorage", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (int, error) {
		tasks := make([]*durable.Task[json.RawMessage], n)
		for i := range tasks {
			tasks[i] = durable.CallActivity[json.RawMessage](ctx, "WriteTableRow", [2]string{ctx.InstanceID(), fmt.Sprintf("%03d", i+1)})
		}
		if _, err := durable.WhenAllOf(ctx, tasks...); err != nil {
			return 0, err
		}
		return durable.CallActivity[int](ctx, "CountTableRows", ctx.InstanceID()).Await()
	}))
	orch("CurrentTimeInline", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ string) (time.Time, error) {
		return ctx.CurrentUTCDateTime(), nil
	}))
	orch("CurrentTimeActivity", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (time.Time, error) {
		return durable.CallActivity[time.Time](ctx, "CurrentTime", in).Await()
	}))
	orch("DelayedCurrentTimeInline", durable.Orchestrator(func(ctx *durable.OrchestrationContext, fireAt time.Time) (time.Time, error) {
		if _, err := durable.CreateTimer(ctx, fireAt).Await(); err != nil {
			return time.Time{}, err
		}
		return ctx.CurrentUTCDateTime(), nil
	}))
	orch("DelayedCurrentTimeActivity", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (time.Time, error) {
		return durable.CallActivity[time.Time](ctx, "DelayedCurrentTime", in).Await()
	}))
	orch("ContinueAsNewThenTimer", durable.Orchestrator(func(ctx *durable.OrchestrationContext, n int) (string, error) {
		switch n {
		case 0:
			return "continue as new", ctx.ContinueAsNew(1)
		case 1:
			if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime()).Await(); err != nil {
				return "", err
			}
			return "OK", nil
		}
		return "", errors.New("unexpected input")
	}))
	// ChangeStatus sets each custom status in turn, persisting each with a
	// zero-length timer.
	orch("ChangeStatus", durable.Orchestrator(func(ctx *durable.OrchestrationContext, statuses []*string) (string, error) {
		for _, s := range statuses {
			if err := ctx.SetCustomStatus(s); err != nil {
				return "", err
			}
			if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime()).Await(); err != nil {
				return "", err
			}
		}
		return "", nil
	}))
	orch("NextExecution", durable.Orchestrator(func(ctx *durable.OrchestrationContext, status string) (string, error) {
		if err := ctx.SetCustomStatus(status); err != nil {
			return "", err
		}
		if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime()).Await(); err != nil {
			return "", err
		}
		next, err := durable.WaitForExternalEvent[string](ctx, "changeStatusNow").Await()
		if err != nil {
			return "", err
		}
		if err := ctx.SetCustomStatus(next); err != nil {
			return "", err
		}
		if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime()).Await(); err != nil {
			return "", err
		}
		return "Changed_status", nil
	}))

	// EventConversation: a parent and a responder child talk through events.
	orch("EventConversation", durable.Orchestrator(func(ctx *durable.OrchestrationContext, fireAndForget bool) (string, error) {
		const responderID = "responderId"
		responder := durable.CallSubOrchestrator[string](ctx, "EventConversationResponder", "Herkimer",
			durable.WithChildInstanceID(ctx.InstanceID()+":"+responderID))
		if fireAndForget {
			responder = nil // never awaited: its completion is not waited for
		}
		if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(conversationDelay)).Await(); err != nil {
			return "", err
		}
		target := ctx.InstanceID() + ":" + responderID
		if err := ctx.SendEvent(target, "conversation", ctx.InstanceID()); err != nil {
			return "", err
		}
		msg, err := durable.WaitForExternalEvent[string](ctx, "conversation").Await()
		if err != nil {
			return "", err
		}
		if msg != "hi from Herkimer" {
			return "", fmt.Errorf("test failed: got %q", msg)
		}
		if err := ctx.SendEvent(target, "conversation", "stop"); err != nil {
			return "", err
		}
		if responder != nil {
			done, err := responder.Await()
			if err != nil {
				return "", err
			}
			if done != "Herkimer is done" {
				return "", fmt.Errorf("test failed: responder returned %q", done)
			}
		}
		return "OK", nil
	}))
	orch("EventConversationResponder", durable.Orchestrator(func(ctx *durable.OrchestrationContext, name string) (string, error) {
		msg, err := durable.WaitForExternalEvent[string](ctx, "conversation").Await()
		if err != nil {
			return "", err
		}
		if msg == "stop" {
			return name + " is done", nil
		}
		if err := ctx.SendEvent(msg, "conversation", "hi from "+name); err != nil {
			return "", err
		}
		return "this value is meaningless", ctx.ContinueAsNew(name)
	}))

	// AutoStart: the responder is an entity nobody created; the first
	// operation sent to it starts it.
	orch("AutoStartOrchestration", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		resp, err := durable.CallEntity[string](ctx, durable.NewEntityID("Responder", ctx.InstanceID()), "hello", ctx.InstanceID()).Await()
		if err != nil {
			return "", err
		}
		if resp != "hello from autostarted orchestration" {
			return "", fmt.Errorf("test failed: %q", resp)
		}
		return "OK", nil
	}))
	errs = append(errs, reg.AddEntity("Responder", func(ctx *durable.EntityContext) (any, error) {
		if ctx.HasState() {
			return "expected no state for an auto-started entity", nil
		}
		if err := ctx.SetState(true); err != nil {
			return nil, err
		}
		return "hello from autostarted orchestration", nil
	}))
	// AbortSession: the orchestrator's first episode and the activity's
	// first run abort their work items; both run again and the
	// orchestration never sees the aborts.
	orch("AbortSessionOrchestration", durable.Orchestrator(func(ctx *durable.OrchestrationContext, in string) (bool, error) {
		if env.firstTime("AbortSessionOrchestration") {
			return false, durable.ErrSessionAborted
		}
		if _, err := durable.CallActivity[string](ctx, "AbortSessionActivity", in).Await(); err != nil {
			return false, fmt.Errorf("test failed: the activity's abort reached the orchestration: %w", err)
		}
		return !env.firstTime("AbortSessionOrchestration") && !env.firstTime("AbortSessionActivity"), nil
	}))
	act("AbortSessionActivity", durable.Activity(func(ctx context.Context, in string) (string, error) {
		if env.firstTime("AbortSessionActivity") {
			return "", durable.ErrSessionAborted
		}
		return in, nil
	}))
	orch("CurrentVersion", durable.Orchestrator(func(ctx *durable.OrchestrationContext, _ any) (string, error) {
		return ctx.Version(), nil
	}))
	return errors.Join(errs...)
}

// Reverse returns s with its characters (runes) in reverse order.
func Reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// Timings shortened from the .NET suite's so the package runs in minutes.
var (
	longRunningSleep  = 3 * time.Second
	conversationDelay = 2 * time.Second
)
