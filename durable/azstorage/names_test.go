package azstorage

import (
	"reflect"
	"strings"
	"testing"
)

func TestNamesOfAHub(t *testing.T) {
	n, err := NewNames("MyHub", 4)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"TaskHub":                n.TaskHub(),
		"ControlQueue(0)":        n.ControlQueue(0),
		"ControlQueue(3)":        n.ControlQueue(3),
		"WorkItemQueue":          n.WorkItemQueue(),
		"HistoryTable":           n.HistoryTable(),
		"InstancesTable":         n.InstancesTable(),
		"PartitionsTable":        n.PartitionsTable(),
		"LargeMessagesContainer": n.LargeMessagesContainer(),
	}
	want := map[string]string{
		"TaskHub":                "MyHub",
		"ControlQueue(0)":        "myhub-control-00",
		"ControlQueue(3)":        "myhub-control-03",
		"WorkItemQueue":          "myhub-workitems",
		"HistoryTable":           "MyHubHistory",
		"InstancesTable":         "MyHubInstances",
		"PartitionsTable":        "MyHubPartitions",
		"LargeMessagesContainer": "myhub-largemessages",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("names:\n got %v\nwant %v", got, want)
	}
	if n.PartitionCount() != 4 {
		t.Errorf("PartitionCount = %d", n.PartitionCount())
	}
	wantQueues := []string{"myhub-control-00", "myhub-control-01", "myhub-control-02", "myhub-control-03"}
	if q := n.ControlQueues(); !reflect.DeepEqual(q, wantQueues) {
		t.Errorf("ControlQueues = %v", q)
	}
	for i, q := range wantQueues {
		if got := n.ControlQueueIndex(q); got != i {
			t.Errorf("ControlQueueIndex(%q) = %d, want %d", q, got, i)
		}
	}
	for _, q := range []string{"myhub-control-04", "otherhub-control-00", "myhub-workitems", "MyHub-control-00"} {
		if got := n.ControlQueueIndex(q); got != -1 {
			t.Errorf("ControlQueueIndex(%q) = %d, want -1", q, got)
		}
	}
}

func TestSixteenPartitionsUseTwoDigits(t *testing.T) {
	n, err := NewNames("Hub16", 16)
	if err != nil {
		t.Fatal(err)
	}
	q := n.ControlQueues()
	if len(q) != 16 || q[9] != "hub16-control-09" || q[10] != "hub16-control-10" || q[15] != "hub16-control-15" {
		t.Fatalf("ControlQueues = %v", q)
	}
}

func TestValidateHubName(t *testing.T) {
	for _, ok := range []string{"abc", "MyHub", "Hub2024", "a" + strings.Repeat("1", 44), "TestHubName"} {
		if err := ValidateHubName(ok); err != nil {
			t.Errorf("ValidateHubName(%q) = %v, want nil", ok, err)
		}
	}
	for name, rule := range map[string]string{
		"":                            "empty",
		"ab":                          "3 to 45",
		"a" + strings.Repeat("b", 45): "3 to 45",
		"1hub":                        "start with a letter",
		"my-hub":                      `not '-'`,
		"my_hub":                      `not '_'`,
		"hub name":                    `not ' '`,
		"hübhub":                      `not 'ü'`,
	} {
		err := ValidateHubName(name)
		if err == nil || !strings.Contains(err.Error(), rule) {
			t.Errorf("ValidateHubName(%q) = %v, want an error mentioning %q", name, err, rule)
		}
	}
}

func TestNewNamesValidatesItsInput(t *testing.T) {
	for _, n := range []int{0, -1, 17} {
		if _, err := NewNames("MyHub", n); err == nil || !strings.Contains(err.Error(), "1..16") {
			t.Errorf("NewNames(MyHub, %d) = %v, want a partition count error", n, err)
		}
	}
	for _, n := range []int{1, 16} {
		if _, err := NewNames("MyHub", n); err != nil {
			t.Errorf("NewNames(MyHub, %d) = %v", n, err)
		}
	}
	if _, err := NewNames("my-hub", 4); err == nil {
		t.Error("NewNames accepted an invalid hub name")
	}
}
