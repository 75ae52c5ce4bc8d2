package azstorage

import (
	"fmt"
	"strconv"
	"strings"
)

// Task hub name and partition count limits.
const (
	MinHubNameLength      = 3
	MaxHubNameLength      = 45
	MinPartitionCount     = 1
	MaxPartitionCount     = 16
	DefaultPartitionCount = 4
)

// Names are the resource names of one task hub. Queue and
// blob container names use the lowercased hub name; table names keep the
// hub name as written.
type Names struct {
	hub        string
	partitions int
}

// NewNames validates a hub name and partition count and returns the hub's
// resource names.
func NewNames(hub string, partitions int) (Names, error) {
	if err := ValidateHubName(hub); err != nil {
		return Names{}, err
	}
	if err := validatePartitionCount(partitions); err != nil {
		return Names{}, err
	}
	return Names{hub: hub, partitions: partitions}, nil
}

// ValidateHubName applies Durable Functions' task hub name rules: ASCII
// letters and digits only, starting with a letter, 3 to 45 characters.
// The error names the rule that failed.
func ValidateHubName(hub string) error {
	if hub == "" {
		return fmt.Errorf("azstorage: task hub name is empty")
	}
	for i := 0; i < len(hub); i++ {
		if c := hub[i]; !isASCIILetter(c) && (c < '0' || c > '9') {
			r := []rune(hub[i:])[0]
			return fmt.Errorf("azstorage: task hub name %q may contain only letters and digits, not %q", hub, r)
		}
	}
	if !isASCIILetter(hub[0]) {
		return fmt.Errorf("azstorage: task hub name %q must start with a letter", hub)
	}
	if len(hub) < MinHubNameLength || len(hub) > MaxHubNameLength {
		return fmt.Errorf("azstorage: task hub name %q has %d characters; it must have %d to %d",
			hub, len(hub), MinHubNameLength, MaxHubNameLength)
	}
	return nil
}

// validatePartitionCount checks that a partition (control queue) count is
// within 1..16.
func validatePartitionCount(n int) error {
	if n < MinPartitionCount || n > MaxPartitionCount {
		return fmt.Errorf("azstorage: partition count %d is outside %d..%d", n, MinPartitionCount, MaxPartitionCount)
	}
	return nil
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// lc is the lowercased hub name used by queues and containers.
func (n Names) lc() string { return strings.ToLower(n.hub) }

// TaskHub is the hub name as configured.
func (n Names) TaskHub() string { return n.hub }

// PartitionCount is the number of control queues.
func (n Names) PartitionCount() int { return n.partitions }

// ControlQueue is the name of control queue i: "{hub}-control-NN", NN the
// index with at least two digits.
func (n Names) ControlQueue(i int) string {
	s := strconv.Itoa(i)
	if i >= 0 && i < 10 {
		s = "0" + s
	}
	return n.lc() + "-control-" + s
}

// ControlQueues lists every control queue in partition order.
func (n Names) ControlQueues() []string {
	out := make([]string, n.partitions)
	for i := range out {
		out[i] = n.ControlQueue(i)
	}
	return out
}

// ControlQueueIndex is the partition index of a control queue name of this
// hub, or -1 if it is not one.
func (n Names) ControlQueueIndex(queue string) int {
	for i := 0; i < n.partitions; i++ {
		if queue == n.ControlQueue(i) {
			return i
		}
	}
	return -1
}

// WorkItemQueue is the activity queue "{hub}-workitems".
func (n Names) WorkItemQueue() string { return n.lc() + "-workitems" }

// HistoryTable is "{Hub}History".
func (n Names) HistoryTable() string { return n.hub + "History" }

// InstancesTable is "{Hub}Instances".
func (n Names) InstancesTable() string { return n.hub + "Instances" }

// PartitionsTable is "{Hub}Partitions", the table partition manager's
// lease table.
func (n Names) PartitionsTable() string { return n.hub + "Partitions" }

// LargeMessagesContainer is the blob container "{hub}-largemessages".
func (n Names) LargeMessagesContainer() string { return n.lc() + "-largemessages" }
