package bindings

import (
	"encoding/json"
	"testing"
)

func TestHTTPRequestBodyForms(t *testing.T) {
	for _, c := range []struct {
		body, text string
	}{
		{``, ""},                             // no body: the member is absent
		{`null`, ""},                         // or null
		{`"plain text"`, "plain text"},       // a text body
		{`{"id":1}`, `{"id":1}`},             // a host that sends JSON as an object
		{`"aGVsbG8="`, "aGVsbG8="},           // base64 of a binary body
		{`"{\"id\":1}"`, `{"id":1}`},         // JSON text in a string
		{`[1,2]`, `[1,2]`},                   // an array
		{`"line\nbreak"`, "line\nbreak"},     // escapes are undone
		{`""`, ""},                           // empty string
		{`"\u00e9t\u00e9"`, "\u00e9t\u00e9"}, // unicode
	} {
		r := HTTPRequestData{Body: json.RawMessage(c.body)}
		if got, err := r.BodyText(); err != nil || got != c.text {
			t.Errorf("BodyText(%s) = %q, %v; want %q", c.body, got, err, c.text)
		}
	}
	r := HTTPRequestData{Body: json.RawMessage(`"aGVsbG8="`)}
	if b, err := r.BodyBytes(); err != nil || string(b) != "hello" {
		t.Fatalf("BodyBytes = %q, %v", b, err)
	}
	r.Body = json.RawMessage(`"not base64!"`)
	if _, err := r.BodyBytes(); err == nil {
		t.Fatal("BodyBytes of non-base64 text must fail")
	}
}

func TestHTTPResponseEncoding(t *testing.T) {
	for _, c := range []struct {
		res  HTTPResponse
		want string
	}{
		{HTTPResponse{StatusCode: 201, Body: "my world", Headers: map[string]string{"header1": "header1Val"}},
			`{"statusCode":201,"body":"my world","headers":{"header1":"header1Val"}}`},
		{HTTPResponse{Body: map[string]int{"n": 1}}, `{"body":{"n":1}}`}, // host default status 200
		{HTTPResponse{StatusCode: 204}, `{"statusCode":204}`},
	} {
		b, err := json.Marshal(c.res)
		if err != nil || string(b) != c.want {
			t.Errorf("got %s, %v; want %s", b, err, c.want)
		}
	}
}
