package azstorage

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/godurable/functions/durable/backend"
)

// failingBody fails its first read, as a connection reset mid-answer does.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }
func (failingBody) Close() error             { return nil }

// transport answers 200 with a body that cannot be read for the first
// `broken` requests, and counts them.
type transport struct {
	broken, calls int
}

func (tr *transport) Do(req *http.Request) (*http.Response, error) {
	tr.calls++
	body := io.NopCloser(strings.NewReader(`{}`))
	if tr.calls <= tr.broken {
		body = failingBody{}
	}
	return &http.Response{StatusCode: 200, Body: body, Header: http.Header{}, Request: req}, nil
}

// A PATCH or MERGE whose answer could not be read is sent again (the SDK
// gives up at once); a POST is not (it may not be idempotent), and the
// attempts record that it may have been applied.
func TestIdempotentWritesRetryCutOffAnswers(t *testing.T) {
	for _, c := range []struct {
		method    string
		wantCalls int
		wantErr   bool
	}{{http.MethodPatch, 2, false}, {"MERGE", 2, false}, {http.MethodPost, 1, true}} {
		tr := &transport{broken: 1}
		pl := runtime.NewPipeline("test", "v1", runtime.PipelineOptions{
			PerCall:  []policy.Policy{retryIdempotentBodyReads{}},
			PerRetry: []policy.Policy{attemptPolicy{}},
		}, &policy.ClientOptions{Transport: tr, Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: 1, MaxRetryDelay: 1}})
		ctx, tried := trackAttempts(context.Background())
		req, err := runtime.NewRequest(ctx, c.method, "http://127.0.0.1:1/devstoreaccount1/T(PartitionKey='a',RowKey='')")
		if err != nil {
			t.Fatal(err)
		}
		if err := req.SetBody(streaming.NopCloser(strings.NewReader(`{"a":1}`)), "application/json"); err != nil {
			t.Fatal(err)
		}
		_, err = pl.Do(req)
		if (err != nil) != c.wantErr || tr.calls != c.wantCalls {
			t.Errorf("%s: err %v after %d calls; want error %v after %d", c.method, err, tr.calls, c.wantErr, c.wantCalls)
		}
		if !tried.MaybeApplied() {
			t.Errorf("%s: a cut-off answer is not recorded as maybe applied", c.method)
		}
		if c.wantErr && errors.Is(unavailable(err, tried), backend.ErrUnavailable) {
			t.Errorf("%s: a maybe-applied failure was reported as unavailable", c.method)
		}
	}
}
