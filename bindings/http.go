package bindings

// HTTPRequest is an HTTP trigger's request in a (non-forwarded)
// invocation's Data.
type HTTPRequest struct {
	URL        string              `json:"Url"`
	Method     string              `json:"Method"`
	Query      map[string]string   `json:"Query"`
	Headers    map[string][]string `json:"Headers"`
	Params     map[string]string   `json:"Params"`
	Identities []any               `json:"Identities"`
	Body       string              `json:"Body"`
}

// HTTPResponse is the value of an "http" output binding ("res"): the host
// writes it back to the caller.
type HTTPResponse struct {
	StatusCode int               `json:"statusCode"`
	Body       any               `json:"body,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
}

// QueueMetadata is a queue trigger's metadata.
type QueueMetadata struct {
	ID              string `json:"Id"`
	DequeueCount    int    `json:"DequeueCount"`
	InsertionTime   string `json:"InsertionTime"`
	ExpirationTime  string `json:"ExpirationTime"`
	NextVisibleTime string `json:"NextVisibleTime"`
	PopReceipt      string `json:"PopReceipt"`
}
