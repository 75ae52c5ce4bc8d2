package bindings

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// HTTPRequestData is an HTTP trigger's request as the host puts it in a
// (non-forwarded) invocation's Data: Query holds one string per name
// (repeated values joined by commas), Headers every value, Params the
// route values. Body is absent for an empty request; otherwise it is
// usually a string (base64 for binary content types), kept raw here so
// that any form decodes: read it with BodyText or BodyBytes.
type HTTPRequestData struct {
	URL        string              `json:"Url"`
	Method     string              `json:"Method"`
	Query      map[string]string   `json:"Query"`
	Headers    map[string][]string `json:"Headers"`
	Params     map[string]string   `json:"Params"`
	Identities []json.RawMessage   `json:"Identities"`
	Body       json.RawMessage     `json:"Body,omitempty"`
}

// BodyText is the request body as text: a string body's content, or the
// JSON text of a body the host sent as an object or array; "" when there
// is no body.
func (r *HTTPRequestData) BodyText() (string, error) {
	if len(r.Body) == 0 || string(r.Body) == "null" {
		return "", nil
	}
	if r.Body[0] == '"' {
		var s string
		if err := json.Unmarshal(r.Body, &s); err != nil {
			return "", fmt.Errorf("bindings: request body: %w", err)
		}
		return s, nil
	}
	return string(r.Body), nil
}

// BodyBytes is the body of a binary request (application/octet-stream,
// multipart…), which the host sends base64-encoded.
func (r *HTTPRequestData) BodyBytes() ([]byte, error) {
	s, err := r.BodyText()
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("bindings: request body is not base64: %w", err)
	}
	return b, nil
}

// HTTPResponse is the value of an "http" output binding (e.g. "res"), which
// the host writes back to the caller. A zero StatusCode is left out, so
// the host's default, 200, applies. A string Body is written verbatim; any
// other value as its JSON text. Set headers["Content-Type"]: the host's
// default for a string body is text/plain.
type HTTPResponse struct {
	StatusCode int               `json:"statusCode,omitempty"`
	Body       any               `json:"body,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
}
