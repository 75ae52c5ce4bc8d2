package durable

import (
	"encoding/json"
	"testing"
)

// The request, response, release and state formats as Durable Task writes
// them (member names, omitted defaults).
func TestEntityWireFormats(t *testing.T) {
	op, in, parent, exec := "add", "1", "orch1", "e1"
	signal := entityRequest{Op: &op, Signal: true, Input: &in, ID: "00000000-0000-0000-0000-000000000001", Timestamp: minDotNetTime, Predecessor: minDotNetTime}
	call := entityRequest{Op: &op, Input: &in, ID: "00000000-0000-0000-0000-000000000002", Parent: &parent, ParentExecution: &exec,
		Timestamp: "2024-05-01T12:00:00.1230000Z", Predecessor: minDotNetTime}
	lock := entityRequest{ID: "00000000-0000-0000-0000-000000000003", Parent: &parent, ParentExecution: &exec, Timestamp: minDotNetTime,
		Predecessor: minDotNetTime, Lockset: sortedLockset([]EntityID{NewEntityID("Counter", "b"), NewEntityID("COUNTER", "a")}), IsLockRequest: true}
	res := "5"
	for got, want := range map[any]string{
		&signal:                                  `{"op":"add","signal":true,"input":"1","id":"00000000-0000-0000-0000-000000000001","Timestamp":"0001-01-01T00:00:00","Predecessor":"0001-01-01T00:00:00","IsLockRequest":false,"createTrace":false}`,
		&call:                                    `{"op":"add","input":"1","id":"00000000-0000-0000-0000-000000000002","parent":"orch1","parentExecution":"e1","Timestamp":"2024-05-01T12:00:00.1230000Z","Predecessor":"0001-01-01T00:00:00","IsLockRequest":false,"createTrace":false}`,
		&lock:                                    `{"op":null,"id":"00000000-0000-0000-0000-000000000003","parent":"orch1","parentExecution":"e1","Timestamp":"0001-01-01T00:00:00","Predecessor":"0001-01-01T00:00:00","lockset":[{"name":"counter","key":"a"},{"name":"counter","key":"b"}],"IsLockRequest":true,"createTrace":false}`,
		&entityResponse{Result: &res}:            `{"result":"5"}`,
		&entityRelease{Parent: "orch1", ID: "x"}: `{"parent":"orch1","id":"x"}`,
		&entityStatus{EntityExists: true, QueueSize: 2}: `{"entityExists":true,"queueSize":2}`,
		&schedulerState{State: &res, Exists: true}:      `{"state":"5","exists":true}`,
	} {
		b, err := json.Marshal(got)
		if err != nil || string(b) != want {
			t.Errorf("got  %s\nwant %s", b, want)
		}
	}
	if NewEntityID("Counter", "Key1").String() != "@counter@Key1" {
		t.Error(NewEntityID("Counter", "Key1").String())
	}
	if id, err := ParseEntityID("@counter@a@b"); err != nil || id.Name != "counter" || id.Key != "a@b" {
		t.Errorf("ParseEntityID: %+v %v", id, err)
	}
}
