package bindings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// InvokeRequest is the body of POST /{FunctionName}: the trigger and input
// binding values by binding name, and the trigger metadata.
type InvokeRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// InvokeResponse is what the handler answers: output binding values by
// binding name, log lines, and the function's return value.
type InvokeResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// Sys is the "sys" metadata the host adds to every invocation.
type Sys struct {
	MethodName string `json:"MethodName"`
	UtcNow     string `json:"UtcNow"`
	RandGuid   string `json:"RandGuid"`
}

// lookup finds a member by name, exactly or case-insensitively.
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

// Data decodes the input binding called name into v (see DecodeValue).
func (r *InvokeRequest) DecodeData(name string, v any) error {
	raw, ok := lookup(r.Data, name)
	if !ok {
		return fmt.Errorf("bindings: invocation has no input binding %q", name)
	}
	if err := DecodeValue(raw, v); err != nil {
		return fmt.Errorf("bindings: input binding %q: %w", name, err)
	}
	return nil
}

// DecodeMetadata decodes the metadata entry called name into v.
func (r *InvokeRequest) DecodeMetadata(name string, v any) error {
	raw, ok := lookup(r.Metadata, name)
	if !ok {
		return fmt.Errorf("bindings: invocation has no metadata %q", name)
	}
	if err := DecodeValue(raw, v); err != nil {
		return fmt.Errorf("bindings: metadata %q: %w", name, err)
	}
	return nil
}

// DecodeValue decodes a binding value leniently. The host sends strings,
// numbers and booleans as a JSON string holding their JSON text ("1005"
// for 1005, "\"hello\"" for "hello"), but objects as objects. So: decode
// directly; if that fails, or if v wants something other than a string
// and the value is a string, decode the string's content as JSON again.
func DecodeValue(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		if sp, ok := v.(*string); ok {
			// A JSON string inside a string is unwrapped once more.
			var inner string
			if json.Unmarshal([]byte(s), &inner) == nil {
				*sp = inner
			} else {
				*sp = s
			}
			return nil
		}
		if err := json.Unmarshal([]byte(s), v); err == nil {
			return nil
		}
	}
	return json.Unmarshal(raw, v)
}
