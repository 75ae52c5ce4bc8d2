package bindings

// TimerInfo is a timer trigger's value (Data.{name}), shaped like the
// WebJobs TimerInfo class. Times are kept as the host wrote them.
type TimerInfo struct {
	Schedule       map[string]any       `json:"Schedule"`
	ScheduleStatus *TimerScheduleStatus `json:"ScheduleStatus"` // nil without schedule monitoring
	IsPastDue      bool                 `json:"IsPastDue"`
}

// TimerScheduleStatus is the schedule monitor's record of a timer.
type TimerScheduleStatus struct {
	Last        string `json:"Last"`
	Next        string `json:"Next"`
	LastUpdated string `json:"LastUpdated"`
}
