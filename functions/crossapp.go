package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/godurable/functions/durable"
)

// CrossAppInput names another function app's HTTP start URL.
type CrossAppInput struct {
	StartURL    string          `json:"startUrl"`
	Input       json.RawMessage `json:"input,omitempty"`
	PollSeconds int             `json:"pollSeconds"`
	MaxPolls    int             `json:"maxPolls"`
}

// CrossAppCaller starts an orchestration in another function app over
// HTTP and polls its status URL, with a durable timer between polls, until
// it completes; it returns the remote output.
func CrossAppCaller(ctx *durable.OrchestrationContext, in CrossAppInput) (json.RawMessage, error) {
	statusURL, err := durable.CallActivity[string](ctx, "StartRemoteOrchestration", in).Await()
	if err != nil {
		return nil, err
	}
	poll := time.Duration(max(in.PollSeconds, 1)) * time.Second
	maxPolls := in.MaxPolls
	if maxPolls <= 0 {
		maxPolls = 100
	}
	for i := 0; i < maxPolls; i++ {
		r, err := durable.CallActivity[RemoteStatus](ctx, "CheckIsComplete", statusURL).Await()
		if err != nil {
			return nil, err
		}
		if r.Done {
			return r.Output, nil
		}
		if _, err := durable.CreateTimer(ctx, ctx.CurrentUTCDateTime().Add(poll)).Await(); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("remote orchestration at %s did not complete after %d polls", statusURL, maxPolls)
}

// RemoteStatus is what CheckIsComplete reports.
type RemoteStatus struct {
	Done   bool            `json:"done"`
	Output json.RawMessage `json:"output,omitempty"`
}

var remoteHTTP = &http.Client{Timeout: 30 * time.Second}

// StartRemoteOrchestration POSTs to the other app's start URL and returns
// the status URL from its 202 answer.
func StartRemoteOrchestration(ctx context.Context, in CrossAppInput) (string, error) {
	var body io.Reader
	if len(in.Input) > 0 {
		body = bytes.NewReader(in.Input)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.StartURL, body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := remoteHTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var cs struct {
		StatusQueryGetURI string `json:"statusQueryGetUri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil || resp.StatusCode != http.StatusAccepted || cs.StatusQueryGetURI == "" {
		return "", fmt.Errorf("start %s: HTTP %d, no status URL (%v)", in.StartURL, resp.StatusCode, err)
	}
	return cs.StatusQueryGetURI, nil
}

// CheckIsComplete GETs a status URL: 200 means complete (with the output),
// 202 still running.
func CheckIsComplete(ctx context.Context, statusURL string) (RemoteStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, statusURL, nil)
	if err != nil {
		return RemoteStatus{}, err
	}
	resp, err := remoteHTTP.Do(req)
	if err != nil {
		return RemoteStatus{}, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusAccepted:
		return RemoteStatus{}, nil
	case http.StatusOK:
		var st struct {
			RuntimeStatus string          `json:"runtimeStatus"`
			Output        json.RawMessage `json:"output"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return RemoteStatus{}, fmt.Errorf("status %s: %w", statusURL, err)
		}
		if st.RuntimeStatus != "Completed" {
			return RemoteStatus{}, fmt.Errorf("remote orchestration ended %s: %s", st.RuntimeStatus, st.Output)
		}
		return RemoteStatus{Done: true, Output: st.Output}, nil
	}
	return RemoteStatus{}, fmt.Errorf("status %s: HTTP %d", statusURL, resp.StatusCode)
}
