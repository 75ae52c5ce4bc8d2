package azstorage

import (
	"encoding/json"
	"math"
	"testing"
)

// Strings are escaped as Newtonsoft.Json's defaults escape them, which is
// not what encoding/json does (it escapes <, > and & and writes
// uppercase hex).
func TestNewtonsoftStringEscaping(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:              `"plain"`,
		`say "hi"`:           `"say \"hi\""`,
		`C:\dir`:             `"C:\\dir"`,
		"a\nb\rc\td\be\ff":   `"a\nb\rc\td\be\ff"`,
		"\x00\x01\x1f":       `"\u0000\u0001\u001f"`,
		"<b>&'":              `"<b>&'"`,
		"\x7f":               "\"\x7f\"",
		"é日本😀":               `"é日本😀"`,
		"\u0085\u2028\u2029": `"\u0085\u2028\u2029"`,
		"bad\xffutf8":        "\"bad\uFFFDutf8\"",
		"/":                  `"/"`,
	} {
		got := string(appendNewtonsoftString(nil, in))
		if got != want {
			t.Errorf("escape %q = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("escape %q gave invalid JSON %s: %v", in, got, err)
		}
	}
}

func TestJSONWriterStructure(t *testing.T) {
	w := &jsonWriter{}
	w.beginObject()
	w.str("$type", "T")
	w.null("a")
	w.name("o")
	w.beginObject()
	w.int("n", -5)
	w.bool("b", true)
	w.endObject()
	w.name("arr")
	w.beginArray()
	w.intValue(1)
	w.beginObject()
	w.endObject()
	w.stringValue("x")
	w.endArray()
	w.strOrNull("e", "")
	w.intPtr("p", nil)
	w.endObject()
	if got, want := string(w.bytes()), `{"$type":"T","a":null,"o":{"n":-5,"b":true},"arr":[1,{},"x"],"e":null,"p":null}`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestJSONWriterLooseValues(t *testing.T) {
	w := &jsonWriter{}
	w.beginArray()
	for _, v := range []any{nil, "s", true, 3, int64(1) << 40, 2.5, 1.0, 1e21, math.NaN(), math.Inf(-1),
		json.Number("12.50"), map[string]any{"b": 1, "a": []any{false}}, map[string]string{"k": "v"}} {
		if err := w.anyValue(v); err != nil {
			t.Fatalf("anyValue(%v): %v", v, err)
		}
	}
	w.endArray()
	want := `[null,"s",true,3,1099511627776,2.5,1.0,1E+21,"NaN","-Infinity",12.50,{"a":[false],"b":1},{"k":"v"}]`
	if got := string(w.bytes()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if err := (&jsonWriter{}).anyValue(json.Number("x1")); err == nil {
		t.Error("an invalid json.Number was written")
	}
}

// Doubles come out as .NET's round-trip format writes them.
func TestDotNetDoubleFormat(t *testing.T) {
	for f, want := range map[float64]string{
		0:                   "0",
		1.5:                 "1.5",
		-2:                  "-2",
		123456789012345:     "123456789012345",
		1234567890123456:    "1.234567890123456E+15",
		1e16:                "1E+16",
		0.0001:              "0.0001",
		0.00001:             "1E-05",
		1.5e-300:            "1.5E-300",
		0.30000000000000004: "0.30000000000000004",
	} {
		if got := dotNetRoundTrip(f); got != want {
			t.Errorf("dotNetRoundTrip(%v) = %s, want %s", f, got, want)
		}
	}
}
