package durable

import (
	"testing"
	"time"
)

// Golden values of Durable Task's deterministic GUIDs (durabletask-dotnet's
// regression test for instance "fixed-instance-id" at 2023-05-06T07:08:09.1234567Z).
func TestNewGUIDMatchesDurableTask(t *testing.T) {
	ts := time.Date(2023, 5, 6, 7, 8, 9, 123456700, time.UTC).Format("2006-01-02T15:04:05.0000000Z")
	for i, want := range []string{"0f353f85-75d2-56f8-89b5-a7773ace7605", "b0fd1465-f3d8-5a7e-98b1-f34137b15060", "12bec829-d5e1-563c-ac70-9806cad148c1"} {
		if got := uuidV5(guidNamespace, "fixed-instance-id_"+ts+"_"+string(rune('0'+i))); got != want {
			t.Errorf("guid %d = %s, want %s", i, got, want)
		}
	}
	if got := uuidV5(guidNamespace, "other-instance-id_"+ts+"_0"); got != "258d445c-0c1e-594c-a4a1-0a837e4ebe92" {
		t.Errorf("other instance: %s", got)
	}
}
