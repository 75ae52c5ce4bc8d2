package history

import (
	"fmt"
	"strings"
)

// OrchestrationStatus is the runtime status of an orchestration instance, with
// DurableTask.Core's integer values (Running 0 … Suspended 7).
type OrchestrationStatus int

// The runtime statuses.
const (
	StatusRunning        OrchestrationStatus = 0
	StatusCompleted      OrchestrationStatus = 1
	StatusContinuedAsNew OrchestrationStatus = 2
	StatusFailed         OrchestrationStatus = 3
	StatusCanceled       OrchestrationStatus = 4
	StatusTerminated     OrchestrationStatus = 5
	StatusPending        OrchestrationStatus = 6
	StatusSuspended      OrchestrationStatus = 7
)

var statusNames = [...]string{"Running", "Completed", "ContinuedAsNew", "Failed", "Canceled", "Terminated", "Pending", "Suspended"}

// String returns the .NET enum name, e.g. "Completed".
func (s OrchestrationStatus) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("OrchestrationStatus(%d)", int(s))
}

// IsTerminal reports whether an instance in this status will not run again
// on its own: Completed, Failed, Canceled or Terminated.
func (s OrchestrationStatus) IsTerminal() bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusCanceled, StatusTerminated:
		return true
	}
	return false
}

// ParseStatus parses a status name. Matching is exact (as .NET's
// case-sensitive Enum.TryParse is) unless ignoreCase is set.
func ParseStatus(name string, ignoreCase bool) (OrchestrationStatus, error) {
	for i, n := range statusNames {
		if n == name || (ignoreCase && strings.EqualFold(n, name)) {
			return OrchestrationStatus(i), nil
		}
	}
	return 0, fmt.Errorf("history: unknown runtime status %q (want one of %s)", name, strings.Join(statusNames[:], ", "))
}

// AllStatuses lists every status in enum order.
func AllStatuses() []OrchestrationStatus {
	out := make([]OrchestrationStatus, len(statusNames))
	for i := range out {
		out[i] = OrchestrationStatus(i)
	}
	return out
}
