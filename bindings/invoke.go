package bindings

import (
	"encoding/json"
	"fmt"
)

// InvokeRequest is the body of POST /{FunctionName}: the trigger and input
// binding values by binding name (Data), and the trigger's metadata
// (Metadata, which always holds "sys").
type InvokeRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// InvokeResponse is the handler's answer to an invocation: output binding
// values by binding name, lines for the invocation log, and the function's
// return value (used by a "$return" output binding).
//
// The host base64-decodes string outputs of non-binary bindings when they
// happen to be valid base64, so prefer objects over short bare strings.
type InvokeResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// Decode decodes the binding value called name into v: the Data entry of
// that name if there is one, else the Metadata entry. Names match
// case-insensitively and values are decoded leniently (see DecodeValue).
func (r *InvokeRequest) Decode(name string, v any) error {
	if _, ok := lookup(r.Data, name); ok {
		return r.DecodeData(name, v)
	}
	if _, ok := lookup(r.Metadata, name); ok {
		return r.DecodeMetadata(name, v)
	}
	return fmt.Errorf("bindings: the invocation has no binding or metadata named %q", name)
}

// DecodeData decodes the trigger or input binding value called name into v.
func (r *InvokeRequest) DecodeData(name string, v any) error {
	raw, ok := lookup(r.Data, name)
	if !ok {
		return fmt.Errorf("bindings: the invocation has no input binding %q", name)
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
		return fmt.Errorf("bindings: the invocation has no metadata %q", name)
	}
	if err := DecodeValue(raw, v); err != nil {
		return fmt.Errorf("bindings: metadata %q: %w", name, err)
	}
	return nil
}
