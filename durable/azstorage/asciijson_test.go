package azstorage

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEscapeNonASCIIKeepsTheJSONValue(t *testing.T) {
	row := map[string]any{"PartitionKey": "p", "Input": "มันสนุก é 😀 \"q\" " + strings.Repeat("x", 10)}
	body, _ := json.Marshal(row)
	esc, changed := escapeNonASCII(body)
	if !changed {
		t.Fatal("non-ASCII body reported unchanged")
	}
	for _, c := range esc {
		if c >= 0x80 {
			t.Fatalf("byte %#x left in %s", c, esc)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(esc, &back); err != nil {
		t.Fatal(err)
	}
	if back["Input"] != row["Input"] {
		t.Fatalf("got %q, want %q", back["Input"], row["Input"])
	}
	if out, changed := escapeNonASCII([]byte(`{"a":"b"}`)); changed || string(out) != `{"a":"b"}` {
		t.Fatalf("ASCII body changed: %s", out)
	}
}
