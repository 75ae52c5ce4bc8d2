package azstorage

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestEscapePartitionKey(t *testing.T) {
	for id, want := range map[string]string{
		"plain":          "plain",
		"":               "",
		"a/b":            "a^0b",
		`a\b#c?d`:        `a^1b^2c^3d`,
		"x^y":            "x^^y",
		"^0":             "^^0", // an escape-looking id escapes its caret
		"t\tab":          "t^\u00c9ab",
		"nul\x00":        "nul^\u00c0",
		"del\x7f":        "del^\u013f",
		"c1\u0080\u009f": "c1^\u0140^\u015f",
		"@counter@k1":    "@counter@k1",
		"日本/語":           "日本^0語",
		"\u00a0nbsp":     "\u00a0nbsp", // just above the escaped range
	} {
		got := EscapePartitionKey(id)
		if got != want {
			t.Errorf("EscapePartitionKey(%q) = %q, want %q", id, got, want)
		}
		if back := unescapePartitionKey(got); back != id {
			t.Errorf("UnescapePartitionKey(%q) = %q, want %q", got, back, id)
		}
		if strings.ContainsAny(got, "/\\#?") {
			t.Errorf("EscapePartitionKey(%q) = %q still holds a forbidden character", id, got)
		}
	}
}

func TestEscapeRoundTripsRandomIDs(t *testing.T) {
	alphabet := []rune("ab^/\\#?\x00\x1f\x7f\x9f\u00c0\u00e9日")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		r := make([]rune, rng.IntN(12))
		for j := range r {
			r[j] = alphabet[rng.IntN(len(alphabet))]
		}
		id := string(r)
		if back := unescapePartitionKey(EscapePartitionKey(id)); back != id {
			t.Fatalf("round trip of %q gave %q", id, back)
		}
	}
}

// unescapePartitionKey follows DurableTask's reader on input no writer
// produces: unknown escapes pass through, shifted down when at or above
// U+00C0; a trailing caret is kept.
func TestUnescapeOddInput(t *testing.T) {
	for in, want := range map[string]string{
		"^x":  "x",
		"^ÿ":  "?", // U+00FF - U+00C0 = U+003F
		"a^":  "a^",
		"^^^": "^^",
	} {
		if got := unescapePartitionKey(in); got != want {
			t.Errorf("UnescapePartitionKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRowKeys(t *testing.T) {
	for n, want := range map[int]string{
		0:   "0000000000000000",
		1:   "0000000000000001",
		10:  "000000000000000A",
		255: "00000000000000FF",
		-1:  "FFFFFFFFFFFFFFFF", // long.ToString("X16") of -1
	} {
		if got := rowKeyForSequence(n); got != want {
			t.Errorf("RowKeyForSequence(%d) = %s, want %s", n, got, want)
		}
		back, err := sequenceForRowKey(want)
		if err != nil || back != n {
			t.Errorf("SequenceForRowKey(%s) = %d, %v; want %d", want, back, err, n)
		}
	}
	if rowKeyForSequence(99) >= sentinelRowKey {
		t.Error("sequence keys must sort before the sentinel")
	}
	for _, bad := range []string{"", "sentinel", "00000000000000G0", "0A"} {
		if _, err := sequenceForRowKey(bad); err == nil {
			t.Errorf("SequenceForRowKey(%q) accepted", bad)
		}
	}
}

func TestODataFilters(t *testing.T) {
	for got, want := range map[string]string{
		odataQuote("abc"):                  "'abc'",
		odataQuote("it's"):                 "'it''s'",
		odataQuote("''"):                   "''''''",
		columnEquals("ExecutionId", "e'1"): "ExecutionId eq 'e''1'",
		partitionKeyFilter("abc"):          "PartitionKey eq 'abc'",
		partitionKeyFilter("o'brien/1#"):   "PartitionKey eq 'o''brien^01^2'",
		partitionKeyFilter("x' or 'a'='a"): "PartitionKey eq 'x'' or ''a''=''a'",
		odataDateTime(time.Date(2024, 5, 1, 14, 0, 0, 123400000, time.FixedZone("", 2*3600))): "datetime'2024-05-01T12:00:00.1234000Z'",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}
