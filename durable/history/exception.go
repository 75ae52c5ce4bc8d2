package history

import (
	"bytes"
	"encoding/json"
	"strings"
)

// exceptionType is the "$type" Durable Functions' error serializer
// (Newtonsoft, TypeNameHandling.Objects) writes for a System.Exception
// on .NET.
const exceptionType = "System.Exception, System.Private.CoreLib"

// ExceptionJSON renders a failure the way Durable Functions stores an
// exception in TaskFailed.Details and SubOrchestrationInstanceFailed.Details:
// a serialized System.Exception (its ISerializable members, in .NET's
// order) that a .NET orchestrator deserializes as the failed call's
// inner exception. ClassName is the failure's ErrorType, Message its
// ErrorMessage, StackTraceString its stack trace and InnerException its
// inner failure.
func ExceptionJSON(f *FailureDetails) string {
	if f == nil {
		return ""
	}
	var buf bytes.Buffer
	writeException(&buf, f)
	return buf.String()
}

func writeException(buf *bytes.Buffer, f *FailureDetails) {
	str := func(s string) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		buf.Write(bytes.TrimRight(b.Bytes(), "\n"))
	}
	member := func(name string) {
		if buf.Len() > 0 && buf.Bytes()[buf.Len()-1] != '{' {
			buf.WriteByte(',')
		}
		str(name)
		buf.WriteByte(':')
	}
	buf.WriteByte('{')
	member("$type")
	str(exceptionType)
	member("ClassName")
	str(f.ErrorType)
	member("Message")
	str(f.ErrorMessage)
	member("Data")
	buf.WriteString("null")
	member("InnerException")
	if f.InnerFailure != nil {
		writeException(buf, f.InnerFailure)
	} else {
		buf.WriteString("null")
	}
	member("HelpURL")
	buf.WriteString("null")
	member("StackTraceString")
	if f.StackTrace != nil {
		str(*f.StackTrace)
	} else {
		buf.WriteString("null")
	}
	member("RemoteStackTraceString")
	buf.WriteString("null")
	member("RemoteStackIndex")
	buf.WriteString("0")
	member("ExceptionMethod")
	buf.WriteString("null")
	member("HResult")
	buf.WriteString("-2146233088")
	member("Source")
	buf.WriteString("null")
	member("WatsonBuckets")
	buf.WriteString("null")
	buf.WriteByte('}')
}

// FailureFromExceptionJSON reads a serialized .NET exception, as Durable
// Functions writes it into a failure's Details, as FailureDetails:
// ErrorType from ClassName (else the "$type" name), ErrorMessage from
// Message, StackTrace from StackTraceString, InnerFailure from
// InnerException. ok is false when details is not such an object.
func FailureFromExceptionJSON(details string) (f *FailureDetails, ok bool) {
	s := strings.TrimSpace(details)
	if !strings.HasPrefix(s, "{") {
		return nil, false
	}
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil, false
	}
	return failureFromException(m)
}

func failureFromException(m map[string]any) (*FailureDetails, bool) {
	msg, hasMsg := m["Message"].(string)
	class, _ := m["ClassName"].(string)
	if class == "" {
		if t, _ := m["$type"].(string); t != "" {
			class, _, _ = strings.Cut(t, ",")
		}
	}
	if !hasMsg || class == "" {
		return nil, false
	}
	f := &FailureDetails{ErrorType: class, ErrorMessage: msg}
	if st, ok := m["StackTraceString"].(string); ok {
		f.StackTrace = &st
	}
	if inner, ok := m["InnerException"].(map[string]any); ok {
		f.InnerFailure, _ = failureFromException(inner)
	}
	return f, true
}
