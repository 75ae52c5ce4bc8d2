package handler

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/godurable/functions/durable/history"
)

// object edits behave like Newtonsoft's JObject: set replaces in place or
// appends, remove deletes.
func TestObjectEdits(t *testing.T) {
	o := object{{"A", 1}, {"B", 2}, {"C", 3}}
	o.set("B", "two") // in place
	o.set("D", nil)   // appended
	o.remove("A")
	o.remove("missing")
	b, err := json.Marshal(o)
	if err != nil || string(b) != `{"B":"two","C":3,"D":null}` {
		t.Fatalf("%s %v", b, err)
	}
	if !o.has("C") || o.has("A") {
		t.Fatal("has")
	}
	// Answers are not HTML-escaped: URLs keep their '&'.
	rec := httptest.NewRecorder()
	writeJSON(rec, 200, []object{{{"u", "a&b<c>"}}})
	if rec.Body.String() != `[{"u":"a&b<c>"}]` {
		t.Fatalf("HTML escaping: %s", rec.Body)
	}
	if b, _ := json.Marshal(object{}); string(b) != `{}` {
		t.Fatalf("empty: %s", b)
	}
}

func TestJSONValue(t *testing.T) {
	s := history.Str
	for _, c := range []struct {
		in   *string
		want string
	}{
		{nil, `null`},
		{s(`{"city":"Tokyo"}`), `{"city":"Tokyo"}`},
		{s(` [1, 2] `), `[1, 2]`},
		{s(`"quoted"`), `"quoted"`},
		{s(`42`), `42`},
		{s(`null`), `null`},
		{s(`TaskFailedError: boom`), `"TaskFailedError: boom"`}, // not JSON: a string
		{s(`  stop  `), `"stop"`},                               // trimmed, as ParseToJToken does
		{s(``), `""`},
		{s(`   `), `""`},
		{s(`{"a":`), `"{\"a\":"`},
	} {
		if got := string(jsonValue(c.in)); got != c.want {
			t.Errorf("jsonValue(%v) = %s; want %s", c.in, got, c.want)
		}
	}
}
