package handler

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestQueryBool(t *testing.T) {
	for _, c := range []struct {
		query string
		def   bool
		want  bool
		bad   bool
	}{
		{"", true, true, false},
		{"?flag=", false, false, false},
		{"?flag=true", false, true, false},
		{"?flag=TRUE", false, true, false},
		{"?flag=False", true, false, false},
		{"?flag=%20true%20", false, true, false},
		{"?FLAG=true", false, true, false}, // names ignore case, as in .NET's query collection
		{"?flag=1", false, false, true},    // bool.TryParse: 1 is not a boolean
		{"?flag=yes", true, true, true},
		{"?flag=true&flag=false", false, true, false}, // first value
	} {
		got, err := queryBool(httptest.NewRequest("GET", "/"+c.query, nil), "flag", c.def)
		if got != c.want || (err != nil) != c.bad {
			t.Errorf("%q: %v, %v; want %v (error: %v)", c.query, got, err, c.want, c.bad)
		}
		if err != nil && !strings.Contains(err.Error(), "flag") {
			t.Errorf("%q: the error %q does not name the parameter", c.query, err)
		}
	}
}

func TestQuerySeconds(t *testing.T) {
	for _, c := range []struct {
		query string
		want  time.Duration
		ok    bool
		bad   bool
	}{
		{"", 0, false, false},
		{"?timeout=", 0, false, false},
		{"?timeout=10", 10 * time.Second, true, false},
		{"?timeout=0.25", 250 * time.Millisecond, true, false},
		{"?timeout=0", 0, true, false},
		{"?Timeout=2", 2 * time.Second, true, false},
		{"?timeout=-1", 0, false, true},
		{"?timeout=abc", 0, false, true},
		{"?timeout=NaN", 0, false, true},
		{"?timeout=1e9", 0, false, true},
	} {
		d, ok, err := querySeconds(httptest.NewRequest("GET", "/"+c.query, nil), "timeout")
		if d != c.want || ok != c.ok || (err != nil) != c.bad {
			t.Errorf("%q: %v %v %v", c.query, d, ok, err)
		}
	}
}

func TestParseStatusQuery(t *testing.T) {
	q, err := parseStatusQuery(httptest.NewRequest("GET", "/", nil))
	if err != nil || q.showHistory || q.history.showOutput || !q.history.showInput || q.fail500 {
		t.Fatalf("defaults: %+v %v", q, err)
	}
	q, err = parseStatusQuery(httptest.NewRequest("GET", "/?showHistory=true&showHistoryOutput=True&showInput=false&returnInternalServerErrorOnFailure=TRUE", nil))
	if err != nil || !q.showHistory || !q.history.showOutput || q.history.showInput || !q.fail500 {
		t.Fatalf("all set: %+v %v", q, err)
	}
	for _, name := range []string{"showHistory", "showHistoryOutput", "showInput", "returnInternalServerErrorOnFailure"} {
		if _, err := parseStatusQuery(httptest.NewRequest("GET", "/?"+name+"=maybe", nil)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=maybe: %v", name, err)
		}
	}
}
