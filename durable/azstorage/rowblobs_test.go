package azstorage

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/godurable/functions/durable/history"
)

func TestTablePropertyLimitCountsUTF16(t *testing.T) {
	for name, c := range map[string]struct {
		s     string
		units int
		large bool
	}{
		"ascii at the limit":      {strings.Repeat("a", 30720), 30720, false},
		"ascii over the limit":    {strings.Repeat("a", 30721), 30721, true},
		"two-byte chars at":       {strings.Repeat("é", 30720), 30720, false}, // 61 440 UTF-8 bytes
		"two-byte chars over":     {strings.Repeat("é", 30721), 30721, true},
		"surrogate pairs at":      {strings.Repeat("😀", 15360), 30720, false},
		"surrogate pairs over":    {strings.Repeat("😀", 15360) + "a", 30721, true},
		"invalid UTF-8 is U+FFFD": {"a\xffb", 3, false},
		"empty":                   {"", 0, false},
	} {
		if got := utf16Length(c.s); got != c.units {
			t.Errorf("%s: utf16Length = %d, want %d", name, got, c.units)
		}
		if got := exceedsTablePropertyLimit(c.s); got != c.large {
			t.Errorf("%s: exceedsTablePropertyLimit = %v, want %v", name, got, c.large)
		}
	}
	if want := []string{"Name", "Input", "Result", "Output", "Reason", "Details", "Correlation", "FailureDetails", "Tags"}; !reflect.DeepEqual(variableSizeColumnList(), want) {
		t.Errorf("VariableSizeColumns = %v", variableSizeColumnList())
	}
}

func sequence(vals ...uint32) func() uint32 {
	return func() uint32 {
		v := vals[0]
		vals = vals[1:]
		return v
	}
}

// An oversized column becomes "" plus {Column}BlobName, the
// blob named {PK}/history-{RK}-{EventType}-{rand:X8}-{Column}.json.gz.
func TestOffloadLargeHistoryColumns(t *testing.T) {
	big := strings.Repeat("x", 40000)
	e := &history.Event{Type: history.ExecutionStarted, EventID: -1, Name: "N",
		Instance: &history.OrchestrationInstance{InstanceID: "a/b", ExecutionID: "e"},
		Input:    &big, Tags: map[string]string{"k": big}}
	row := eventToRow("a/b", "e", 5, e)
	props, err := offloadRowProperties(row, sequence(0xDEADBEEF, 1))
	if err != nil {
		t.Fatal(err)
	}
	want := []largeProperty{
		{Column: "Input", BlobName: "a^0b/history-0000000000000005-ExecutionStarted-DEADBEEF-Input.json.gz", Value: big},
		{Column: "Tags", BlobName: "a^0b/history-0000000000000005-ExecutionStarted-00000001-Tags.json.gz", Value: `{"k":"` + big + `"}`},
	}
	if !reflect.DeepEqual(props, want) {
		t.Fatalf("offloaded %+v", summarize(props))
	}
	if row["Input"] != "" || row["InputBlobName"] != want[0].BlobName || row["Tags"] != "" || row["TagsBlobName"] != want[1].BlobName || row["Name"] != "N" {
		t.Fatalf("row after offload: Input %q InputBlobName %v Tags %q TagsBlobName %v", row["Input"], row["InputBlobName"], row["Tags"], row["TagsBlobName"])
	}
	// Reading back: the references are reported, the row cannot be
	// decoded until they are restored, and then it is the event again.
	refs := rowBlobReferences(row)
	if len(refs) != 2 || refs[0].Column != "Input" || refs[0].BlobName != want[0].BlobName || refs[1].Column != "Tags" || refs[0].Value != "" {
		t.Fatalf("RowBlobReferences = %+v", summarize(refs))
	}
	if _, err := rowToEvent(row); err == nil || !strings.Contains(err.Error(), want[0].BlobName) {
		t.Fatalf("decoding an unrestored row: %v", err)
	}
	for _, p := range props {
		restoreLargeProperty(row, p.Column, p.Value)
	}
	if len(rowBlobReferences(row)) != 0 {
		t.Error("references left after restoring")
	}
	back, err := rowToEvent(row)
	if err != nil || !reflect.DeepEqual(back, e) {
		t.Fatalf("restored row decodes to %+v, %v", back, err)
	}
}

func summarize(props []largeProperty) []string {
	var out []string
	for _, p := range props {
		out = append(out, fmt.Sprintf("%s %s (%d chars)", p.Column, p.BlobName, len(p.Value)))
	}
	return out
}

func TestOffloadLeavesOtherColumns(t *testing.T) {
	big := strings.Repeat("y", 31000)
	row := map[string]any{"PartitionKey": "p", "RowKey": "0000000000000000", "EventType": "TaskCompleted",
		"Result": "small", "OrchestrationInstance": big, "Timestamp": big}
	props, err := offloadRowProperties(row, nil)
	if err != nil || len(props) != 0 || row["OrchestrationInstance"] != big {
		t.Fatalf("offloaded %v, %v", summarize(props), err)
	}
	row["Result"] = big
	props, err = offloadRowProperties(row, nil) // math/rand names
	if err != nil || len(props) != 1 {
		t.Fatalf("offloaded %v, %v", summarize(props), err)
	}
	if !regexp.MustCompile(`^p/history-0000000000000000-TaskCompleted-[0-9A-F]{8}-Result\.json\.gz$`).MatchString(props[0].BlobName) {
		t.Errorf("blob name %s", props[0].BlobName)
	}
}

// Instances rows have no EventType: DurableTask names Input, Output and
// Tags blobs after the column (the "history--Input-XXXXXXXX-Input"
// name) and cannot offload other columns.
func TestOffloadInstanceRowColumns(t *testing.T) {
	big := strings.Repeat("z", 30721)
	row := map[string]any{"PartitionKey": "abc", "RowKey": "", "Input": big, "Output": big}
	props, err := offloadRowProperties(row, sequence(0xA, 0xB))
	if err != nil || len(props) != 2 {
		t.Fatalf("%v, %v", summarize(props), err)
	}
	if props[0].BlobName != "abc/history--Input-0000000A-Input.json.gz" || props[1].BlobName != "abc/history--Output-0000000B-Output.json.gz" {
		t.Errorf("blob names %s, %s", props[0].BlobName, props[1].BlobName)
	}
	_, err = offloadRowProperties(map[string]any{"PartitionKey": "abc", "RowKey": "", "Name": big}, nil)
	if err == nil || !strings.Contains(err.Error(), "Name") {
		t.Errorf("a large Name in a row without EventType: %v", err)
	}
}
