package azstorage

import (
	"fmt"
	"strings"
)

// Names are the resource names of one task hub (spec §1.2): queue and
// container names use the lowercased hub name, table names keep its case.
type Names struct {
	hub        string
	partitions int
}

// NewNames validates the hub name and partition count and returns the
// hub's resource names.
func NewNames(hub string, partitions int) (Names, error) {
	if err := ValidateHubName(hub); err != nil {
		return Names{}, err
	}
	if partitions < 1 || partitions > 16 {
		return Names{}, fmt.Errorf("azstorage: partition count %d is outside 1..16", partitions)
	}
	return Names{hub: hub, partitions: partitions}, nil
}

// ValidateHubName applies Durable Functions' task hub name rules:
// alphanumeric, starting with a letter, 3 to 45 characters.
func ValidateHubName(hub string) error {
	switch {
	case hub == "":
		return fmt.Errorf("azstorage: task hub name is empty")
	case len(hub) < 3 || len(hub) > 45:
		return fmt.Errorf("azstorage: task hub name %q has %d characters; it must have 3 to 45", hub, len(hub))
	case !isLetter(hub[0]):
		return fmt.Errorf("azstorage: task hub name %q must start with a letter", hub)
	}
	for i := 0; i < len(hub); i++ {
		if !isLetter(hub[i]) && (hub[i] < '0' || hub[i] > '9') {
			return fmt.Errorf("azstorage: task hub name %q may contain only letters and digits (found %q)", hub, hub[i])
		}
	}
	return nil
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func (n Names) lc() string { return strings.ToLower(n.hub) }

// TaskHub is the hub's name as configured.
func (n Names) TaskHub() string { return n.hub }

// PartitionCount is the number of control queues.
func (n Names) PartitionCount() int { return n.partitions }

// ControlQueue is control queue i: "{hub}-control-NN".
func (n Names) ControlQueue(i int) string { return fmt.Sprintf("%s-control-%02d", n.lc(), i) }

// ControlQueues lists every control queue, in partition order.
func (n Names) ControlQueues() []string {
	out := make([]string, n.partitions)
	for i := range out {
		out[i] = n.ControlQueue(i)
	}
	return out
}

// ControlQueueIndex returns the partition of a control queue name, or -1.
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

// PartitionsTable is "{Hub}Partitions".
func (n Names) PartitionsTable() string { return n.hub + "Partitions" }

// LargeMessagesContainer is "{hub}-largemessages".
func (n Names) LargeMessagesContainer() string { return n.lc() + "-largemessages" }
