package replay

import (
	"fmt"

	"github.com/godurable/functions/durable/history"
)

// FailureFromError converts an orchestrator's or activity's error into
// failure details:
//   - an error that carries its own details (a method FailureDetails()
//     *history.FailureDetails) keeps them;
//   - any other error is described by its own message and type (its
//     ErrorType() method, or its Go type), and the nearest error it wraps
//     that carries details or a type of its own becomes the InnerFailure,
//     so fmt.Errorf("charging card: %w", err) keeps both the wrapper and
//     the task failure it wraps;
//   - the failure is non-retriable when any error in the chain says so (a
//     method NonRetriable() bool returning true).
func FailureFromError(err error) *history.FailureDetails {
	if err == nil {
		return nil
	}
	fd := failureOf(err)
	if isNonRetriable(err) {
		fd.IsNonRetriable = true
	}
	return fd
}

type failureDetailer interface {
	FailureDetails() *history.FailureDetails
}

type errorTyper interface{ ErrorType() string }

func failureOf(err error) *history.FailureDetails {
	if d, ok := err.(failureDetailer); ok {
		if fd := d.FailureDetails(); fd != nil {
			c := *fd
			return &c
		}
	}
	fd := &history.FailureDetails{ErrorType: errorTypeOf(err), ErrorMessage: err.Error()}
	if inner := describedCause(err); inner != nil {
		fd.InnerFailure = failureOf(inner)
	}
	return fd
}

// describedCause is the nearest error wrapped by err that carries failure
// details or an error type of its own.
func describedCause(err error) error {
	var found error
	walk(err, func(e error) bool {
		if e == err {
			return false
		}
		switch e.(type) {
		case failureDetailer, errorTyper:
			found = e
			return true
		}
		return false
	})
	return found
}

// walk visits err's chain depth first (err itself first) until visit
// returns true.
func walk(err error, visit func(error) bool) bool {
	if err == nil {
		return false
	}
	if visit(err) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return walk(u.Unwrap(), visit)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if walk(e, visit) {
				return true
			}
		}
	}
	return false
}

func isNonRetriable(err error) bool {
	return walk(err, func(e error) bool {
		nr, ok := e.(interface{ NonRetriable() bool })
		return ok && nr.NonRetriable()
	})
}

func errorTypeOf(err error) string {
	if t, ok := err.(errorTyper); ok {
		return t.ErrorType()
	}
	t := fmt.Sprintf("%T", err)
	switch t {
	case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
		return "error"
	}
	return t
}
