package durabletest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/godurable/functions/durable/history"
	"github.com/godurable/functions/durable/replay"
)

// Mock stands in for an activity or a sub-orchestrator, by name. Set what
// it does with Return, ReturnError or Do; without any, a call fails the
// test. It records every call's input.
type Mock struct {
	tt         *Tester
	kind, name string
	mu         sync.Mutex
	do         func(input json.RawMessage) (any, error)
	delay      time.Duration
	calls      []json.RawMessage
}

// OnActivity mocks the activity registered (or not) under name: calls go
// to the mock instead of the real function. Calling it again for the same
// name returns the same mock.
func (tt *Tester) OnActivity(name string) *Mock {
	return tt.mock(tt.activityMocks, "activity", name)
}

// OnSubOrchestrator mocks the orchestrator named name wherever it is
// called as a sub-orchestration: it completes at once with the mock's
// result or failure, without running.
func (tt *Tester) OnSubOrchestrator(name string) *Mock {
	return tt.mock(tt.orchMocks, "sub-orchestrator", name)
}

func (tt *Tester) mock(m map[string]*Mock, kind, name string) *Mock {
	tt.t.Helper()
	if strings.TrimSpace(name) == "" {
		tt.t.Fatalf("durabletest: a %s mock needs a name", kind)
	}
	k := strings.ToLower(name)
	if m[k] == nil {
		m[k] = &Mock{tt: tt, kind: kind, name: name}
	}
	return m[k]
}

// Return makes every call return the values in turn, the last one again
// once they are used up.
func (m *Mock) Return(values ...any) *Mock {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(values) == 0 {
		values = []any{nil}
	}
	n := 0
	m.do = func(json.RawMessage) (any, error) {
		v := values[min(n, len(values)-1)]
		n++
		return v, nil
	}
	return m
}

// ReturnError makes every call fail with err; the orchestration sees a
// *durable.TaskFailedError whose details carry err's message and type.
func (m *Mock) ReturnError(err error) *Mock {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.do = func(json.RawMessage) (any, error) { return nil, err }
	return m
}

// Do makes every call run fn with the call's JSON input (nil for none).
// Func adapts a typed function.
func (m *Mock) Do(fn func(input json.RawMessage) (any, error)) *Mock {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.do = fn
	return m
}

// Func adapts a typed function for Mock.Do: the input is decoded into In
// (a call whose input does not decode fails with an error saying so).
func Func[In, Out any](fn func(input In) (Out, error)) func(json.RawMessage) (any, error) {
	return func(raw json.RawMessage) (any, error) {
		var in In
		if raw != nil {
			if err := json.Unmarshal(raw, &in); err != nil {
				return nil, fmt.Errorf("durabletest: mock input %s does not decode into %T: %w", raw, in, err)
			}
		}
		return fn(in)
	}
}

// Expect makes the test fail, when it ends, unless the mock was called
// exactly n times.
func (m *Mock) Expect(n int) *Mock {
	m.tt.t.Cleanup(func() {
		if got := m.Calls(); got != n {
			m.tt.t.Errorf("durabletest: the %s mock %q was called %d times, expected %d", m.kind, m.name, got, n)
		}
	})
	return m
}

// Delay makes every call take d of virtual time: its result reaches the
// orchestration d after the call (a timer racing the call can win).
func (m *Mock) Delay(d time.Duration) *Mock {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delay = d
	return m
}

// Calls is how often the mock was called.
func (m *Mock) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

// Input is the JSON input of call i (from 0; nil for none).
func (m *Mock) Input(i int) json.RawMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.calls) {
		return nil
	}
	return m.calls[i]
}

// Inputs decodes every call's input into a T, in call order.
func Inputs[T any](m *Mock) ([]T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]T, 0, len(m.calls))
	for i, raw := range m.calls {
		var v T
		if raw != nil {
			if err := json.Unmarshal(raw, &v); err != nil {
				return out, fmt.Errorf("durabletest: input %d of %s %q is %s, which does not decode into %T: %w", i, m.kind, m.name, raw, v, err)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// call runs the mock and returns its result as stored JSON, or its failure.
func (m *Mock) call(tt *Tester, input json.RawMessage) (*string, *history.FailureDetails) {
	tt.t.Helper()
	m.mu.Lock()
	m.calls = append(m.calls, input)
	do := m.do
	m.mu.Unlock()
	if do == nil {
		tt.t.Fatalf("durabletest: the %s mock %q was called but has no Return, ReturnError or Do", m.kind, m.name)
	}
	v, err := do(input)
	if err != nil {
		return nil, replay.FailureFromError(err)
	}
	if raw, ok := v.(json.RawMessage); ok {
		s := string(raw)
		return &s, nil
	}
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		tt.t.Fatalf("durabletest: the result of the %s mock %q does not encode as JSON: %v", m.kind, m.name, err)
	}
	s := string(b)
	return &s, nil
}
