package history

import (
	"encoding/json"
	"testing"
)

// A failure written as Durable Functions' exception JSON reads back as
// the same failure, inner failure included, and has every member .NET's
// Exception deserialization constructor reads.
func TestExceptionJSONRoundTrip(t *testing.T) {
	stack := "main.go:12"
	f := &FailureDetails{ErrorType: "ValidationError", ErrorMessage: `bad "order" <7>`, StackTrace: &stack,
		InnerFailure: &FailureDetails{ErrorType: "io.EOF", ErrorMessage: "EOF"}}
	s := ExceptionJSON(f)
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	for _, k := range []string{"$type", "ClassName", "Message", "Data", "InnerException", "HelpURL", "StackTraceString",
		"RemoteStackTraceString", "RemoteStackIndex", "ExceptionMethod", "HResult", "Source", "WatsonBuckets"} {
		if _, ok := m[k]; !ok {
			t.Errorf("member %s missing: %s", k, s)
		}
	}
	if m["$type"] != "System.Exception, System.Private.CoreLib" || m["HResult"] != float64(-2146233088) {
		t.Errorf("exception JSON = %s", s)
	}
	got, ok := FailureFromExceptionJSON(s)
	if !ok || got.ErrorType != f.ErrorType || got.ErrorMessage != f.ErrorMessage || *got.StackTrace != stack ||
		got.InnerFailure == nil || got.InnerFailure.ErrorMessage != "EOF" || got.InnerFailure.StackTrace != nil {
		t.Fatalf("read back %+v from %s", got, s)
	}
	if _, ok := FailureFromExceptionJSON("at Foo.Bar() in x.cs:line 3"); ok {
		t.Error("a plain stack trace is not an exception")
	}
}

// An exception serialized by .NET (a derived type, as Durable Functions
// writes it) reads as its class and message.
func TestFailureFromDotNetException(t *testing.T) {
	s := `{"$type":"System.InvalidOperationException, System.Private.CoreLib","ClassName":"System.InvalidOperationException",` +
		`"Message":"Kaboom","Data":null,"InnerException":null,"HelpURL":null,"StackTraceString":"   at F.Run()","RemoteStackTraceString":null,` +
		`"RemoteStackIndex":0,"ExceptionMethod":null,"HResult":-2146233079,"Source":"F","WatsonBuckets":null}`
	f, ok := FailureFromExceptionJSON(s)
	if !ok || f.ErrorType != "System.InvalidOperationException" || f.ErrorMessage != "Kaboom" || *f.StackTrace != "   at F.Run()" {
		t.Fatalf("%+v %v", f, ok)
	}
}
