package bindings

import (
	"encoding/json"
	"testing"
)

func TestTimerInfo(t *testing.T) {
	r := InvokeRequest{Data: map[string]json.RawMessage{"timer": json.RawMessage(
		`{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2024-05-01T00:00:00","Next":"2024-05-02T00:00:00","LastUpdated":"2024-05-01T00:00:00"},"IsPastDue":true}`)}}
	var ti TimerInfo
	if err := r.DecodeData("timer", &ti); err != nil || !ti.IsPastDue || ti.ScheduleStatus == nil || ti.ScheduleStatus.Next != "2024-05-02T00:00:00" || ti.Schedule["AdjustForDST"] != true {
		t.Fatalf("%+v %v", ti, err)
	}
}
