package azstorage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/godurable/functions/durable/backend"
)

// A storage call that fails has either certainly not been applied — every
// attempt was refused before the service acted on it (503 Server Busy,
// 429, 408, or a connection that could not be made) — or it may have
// been: an attempt got 500, timed out, or lost its connection while the
// answer was on the way. The SDK retries most failures by itself, so one
// call can be both; attempts records what its attempts saw.
type attempts struct {
	mu           sync.Mutex
	maybeApplied bool
	tries        int
}

type attemptsKey struct{}

// trackAttempts returns a context whose storage calls record their
// attempts in the returned value.
func trackAttempts(ctx context.Context) (context.Context, *attempts) {
	a := &attempts{}
	return context.WithValue(ctx, attemptsKey{}, a), a
}

// MaybeApplied reports whether some attempt may have been carried out.
func (a *attempts) MaybeApplied() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.maybeApplied
}

// attemptPolicy runs once per attempt and classifies its outcome.
type attemptPolicy struct{}

func (attemptPolicy) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	a, _ := req.Raw().Context().Value(attemptsKey{}).(*attempts)
	if a == nil {
		return resp, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tries++
	switch {
	case err == nil && resp != nil:
		switch resp.StatusCode {
		case http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusRequestTimeout:
			// refused before being acted on
		default:
			if resp.StatusCode >= 500 {
				a.maybeApplied = true
			}
		}
	case err != nil && notSent(err):
	default:
		a.maybeApplied = true // timed out, reset, or the answer was cut off
	}
	return resp, err
}

// notSent reports transport errors that mean the request never reached
// the service: the connection could not be made.
func notSent(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such host") ||
		strings.Contains(s, "dial tcp") && !strings.Contains(s, "i/o timeout")
}

// retryIdempotentBodyReads retries a table merge or upsert (PATCH, MERGE)
// whose response body could not be read: the SDK retries such a failure
// only for GET, PUT and DELETE. Writing the same properties again is
// harmless. Other POSTs (enqueue, insert, batch) are not idempotent; their
// failure stays an ambiguity for the caller to resolve.
type retryIdempotentBodyReads struct{}

func (retryIdempotentBodyReads) Do(req *policy.Request) (*http.Response, error) {
	m := strings.ToUpper(req.Raw().Method)
	if m != http.MethodPatch && m != "MERGE" {
		return req.Next()
	}
	var resp *http.Response
	var err error
	for try := 0; ; try++ {
		resp, err = req.Next()
		if err == nil || resp == nil || try == 2 || req.Raw().Context().Err() != nil {
			return resp, err
		}
		// A response with an error: its body read failed (the pipeline
		// turns HTTP errors into ResponseErrors only later).
		if rerr := req.RewindBody(); rerr != nil {
			return resp, err
		}
		select {
		case <-time.After(time.Duration(try+1) * 200 * time.Millisecond):
		case <-req.Raw().Context().Done():
			return resp, err
		}
	}
}

// unavailable wraps err with backend.ErrUnavailable when no attempt of the
// call may have been applied, so callers can answer "try again" without
// fearing a duplicate; otherwise it returns err unchanged.
func unavailable(err error, a *attempts) error {
	if err == nil || a == nil || a.MaybeApplied() || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", backend.ErrUnavailable, err)
}
