package bindings

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// The host's encoding of scalars (pinned by the host's
// ScriptInvocationContextExtensionsTests): a JSON string holding the
// value's JSON text. Plain values must decode too.
func TestDecodeValue(t *testing.T) {
	type order struct {
		ID   int    `json:"id"`
		Item string `json:"item"`
	}
	cases := []struct {
		raw  string
		into func() any // a pointer to a fresh value
		want any        // the pointed-to value expected
	}{
		{`"\"hello\""`, func() any { return new(string) }, "hello"},
		{`"plain"`, func() any { return new(string) }, "plain"},
		{`"{\"a\":1}"`, func() any { return new(string) }, `{"a":1}`},
		{`1005`, func() any { return new(string) }, "1005"},
		{`true`, func() any { return new(string) }, "true"},
		{`null`, func() any { return new(string) }, ""},
		{`"1005"`, func() any { return new(int) }, 1005},
		{`1005`, func() any { return new(int) }, 1005},
		{`"12.5"`, func() any { return new(float64) }, 12.5},
		{`"true"`, func() any { return new(bool) }, true},
		{`false`, func() any { return new(bool) }, false},
		{`"{\"id\":1005,\"item\":\"book\"}"`, func() any { return new(order) }, order{1005, "book"}},
		{`{"ID":7,"ITEM":"pen"}`, func() any { return new(order) }, order{7, "pen"}}, // names match case-insensitively
		{`"1005"`, func() any { return new(any) }, 1005.0},
		{`"hello world"`, func() any { return new(any) }, "hello world"},
		{`"\"hi\""`, func() any { return new(json.RawMessage) }, json.RawMessage(`"hi"`)},
		{`"2024-05-01T12:00:00Z"`, func() any { return new(time.Time) }, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{`"\"2024-05-01T12:00:00Z\""`, func() any { return new(time.Time) }, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		p := c.into()
		if err := DecodeValue(json.RawMessage(c.raw), p); err != nil {
			t.Errorf("DecodeValue(%s, %T): %v", c.raw, p, err)
			continue
		}
		if got := reflect.ValueOf(p).Elem().Interface(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("DecodeValue(%s, %T) = %#v; want %#v", c.raw, p, got, c.want)
		}
	}
}

func TestDecodeValueErrors(t *testing.T) {
	var n int
	var s string
	for _, c := range []struct {
		raw string
		v   any
	}{
		{`"nope"`, &n},      // a string that is not a number
		{`{"a":1}`, &s},     // an object is not a string
		{`[1]`, &s},         // nor is an array
		{``, &s},            // nothing at all
		{`"1.5"`, &n},       // not a whole number
		{`{"a":`, new(any)}, // broken JSON
	} {
		if err := DecodeValue(json.RawMessage(c.raw), c.v); err == nil {
			t.Errorf("DecodeValue(%s, %T) succeeded; want an error", c.raw, c.v)
		}
	}
}

// A string scalar (a query parameter) is wrapped once by the host; asked
// for as a number it is unwrapped twice, asked for as anything it stays a
// string.
func TestDecodeValueWrappedString(t *testing.T) {
	var n int
	if err := DecodeValue(json.RawMessage(`"\"1\""`), &n); err != nil || n != 1 {
		t.Fatalf("int: %d %v", n, err)
	}
	var a any
	if err := DecodeValue(json.RawMessage(`"\"1\""`), &a); err != nil || a != "1" {
		t.Fatalf("any: %#v %v", a, err)
	}
}
