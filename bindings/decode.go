package bindings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// DecodeValue decodes one binding value into v, leniently.
//
// The Functions host serializes strings, numbers and booleans a second
// time before putting them in an invocation, so they arrive as a JSON
// string holding JSON text: "\"hello\"" for "hello", "1005" for 1005,
// "true" for true. Objects arrive as objects. DecodeValue undoes the
// extra layer when it is there and accepts the plain form too:
//
//   - into a *string: a string is unwrapped once more if its content is
//     itself a JSON string ("\"hello\"" → hello), else kept as is
//     ("plain" → plain, "{\"a\":1}" → {"a":1}); a bare number or
//     boolean gives its text (1005 → "1005");
//   - into anything else: a string whose content is valid JSON for v is
//     decoded from that content ("1005" → 1005, "{\"id\":1}" → struct),
//     or failing that from the content of a string inside it ("\"1\"",
//     a query parameter, → 1); otherwise the value is decoded as it
//     stands, so RFC 3339 strings still reach a time.Time.
//
// Struct members are matched case-insensitively, as encoding/json does.
func DecodeValue(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return fmt.Errorf("bindings: empty value")
	}
	if sp, ok := v.(*string); ok {
		return decodeString(raw, sp)
	}
	// Try the value with the host's layer peeled off, then (for a string
	// inside that, e.g. a query parameter "1" wanted as a number) with one
	// more layer peeled, then as it stands.
	if l1, ok := peel(raw); ok {
		if json.Unmarshal(l1, v) == nil {
			return nil
		}
		if l2, ok := peel(l1); ok && json.Unmarshal(l2, v) == nil {
			return nil
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("bindings: %w", err)
	}
	return nil
}

// peel returns the content of a JSON string when that content is itself
// valid JSON.
func peel(raw []byte) ([]byte, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	inner := bytes.TrimSpace([]byte(s))
	if len(inner) == 0 || !json.Valid(inner) {
		return nil, false
	}
	return inner, true
}

func decodeString(raw json.RawMessage, sp *string) error {
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("bindings: %w", err)
		}
		var inner string
		if t := strings.TrimSpace(s); len(t) > 0 && t[0] == '"' && json.Unmarshal([]byte(t), &inner) == nil {
			s = inner
		}
		*sp = s
		return nil
	case '{', '[':
		return fmt.Errorf("bindings: cannot decode a JSON %s into a string", map[byte]string{'{': "object", '[': "array"}[raw[0]])
	}
	if !json.Valid(raw) {
		return fmt.Errorf("bindings: invalid JSON value %q", raw)
	}
	if string(raw) == "null" {
		*sp = ""
		return nil
	}
	*sp = string(raw) // a number or boolean, as text
	return nil
}

// lookup finds a member by name: exactly, else case-insensitively (the
// host's own JSON reader matches names that way).
func lookup(m map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}
