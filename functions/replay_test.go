package functions

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/durabletest"
)

// Every sample's recorded history replays against the samples' code: the
// check a deployment runs (cmd/durable-replay), here on histories made in
// the test, entities, timers, retries and sub-orchestrations included.
func TestEverySampleReplaysItsOwnHistory(t *testing.T) {
	r := durable.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	tt := durabletest.New(t, r)
	tt.OnActivity("StartRemoteOrchestration").Return("https://other.example/status/1")
	tt.OnActivity("CheckIsComplete").Return(RemoteStatus{}, RemoteStatus{Done: true, Output: json.RawMessage(`1`)})
	tt.SignalEntity(durable.NewEntityID("Counter", "a"), "add", 10)
	approval := tt.Start("Approval", ApprovalInput{TimeoutSeconds: 3600})
	approval.RaiseEventAfter(time.Minute, "Approval", true)
	runs := []*durabletest.Instance{
		tt.Execute("HelloCities", nil),
		tt.Execute("FanOutFanIn", 10),
		tt.Execute("Countdown", 3),
		tt.Execute("RetryFlaky", FlakyInput{FailTimes: 2}),
		tt.Execute("CatchFailure", nil),
		tt.Execute("Crash", nil),
		tt.Execute("ParentChild", nil),
		tt.Execute("Sleeper", 86400),
		tt.Execute("CrossAppCaller", CrossAppInput{PollSeconds: 60}),
		tt.Execute("ProcessOrder", Order{ID: "1", Item: "pen", Quantity: 1}),
		tt.Execute("CounterWorkflow", Transfer{From: "a", To: "b", Amount: 3}),
		tt.Start("Approval", ApprovalInput{TimeoutSeconds: 3600}), // waiting: replays a running history
	}
	tt.RunUntilDone(approval)
	runs = append(runs, approval, tt.Instance(runs[6].ID()+":child"))
	for _, inst := range runs {
		if len(inst.History()) < 3 {
			t.Fatalf("%s has no history", inst.ID())
		}
		durabletest.Replay(t, r, inst.History())
	}
}
