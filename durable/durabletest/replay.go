package durabletest

import (
	"testing"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replaycheck"
)

// Replay replays a stored history of one execution (a task hub's
// GetHistory, a record of an export file, a rebuilt status answer: see
// package replaycheck) against the orchestrators in reg and fails t,
// naming the instance, the history event and the difference, when the
// current code does not reproduce it. Keep a few histories of each
// orchestrator next to its tests and replay them, and an incompatible
// change fails when it is made rather than when it is deployed.
func Replay(t testing.TB, reg *durable.Registry, h []*history.Event) {
	t.Helper()
	m, err := replaycheck.Check(reg, "", h)
	if err != nil {
		t.Fatalf("durabletest: replay: %v", err)
	}
	if m != nil {
		t.Errorf("durabletest: the current code does not replay the stored history: %v", m)
	}
}
