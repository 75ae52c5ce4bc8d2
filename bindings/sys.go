package bindings

import "encoding/json"

// Sys is the "sys" metadata the host adds to every invocation.
type Sys struct {
	MethodName string `json:"MethodName"` // the function's name
	UtcNow     string `json:"UtcNow"`     // the host's clock, ISO 8601
	RandGuid   string `json:"RandGuid"`
}

// RetryContext is the "RetryContext" metadata the host adds when host.json
// configures a retry policy.
type RetryContext struct {
	RetryCount    int             `json:"RetryCount"`
	MaxRetryCount int             `json:"MaxRetryCount"`
	Exception     json.RawMessage `json:"Exception,omitempty"` // the previous attempt's failure, if any
}

// Sys decodes the invocation's "sys" metadata.
func (r *InvokeRequest) Sys() (Sys, error) {
	var s Sys
	err := r.DecodeMetadata("sys", &s)
	return s, err
}

// RetryContext decodes the invocation's "RetryContext" metadata; ok is
// false when there is none (no retry policy, or the first attempt of an
// older host).
func (r *InvokeRequest) RetryContext() (rc RetryContext, ok bool, err error) {
	if _, found := lookup(r.Metadata, "RetryContext"); !found {
		return rc, false, nil
	}
	err = r.DecodeMetadata("RetryContext", &rc)
	return rc, err == nil, err
}
