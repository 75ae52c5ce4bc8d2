package handler

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/godurable/functions/durable"
)

// outcomeDurable is NOT an engine. It stands in for *durable.Client only
// so that tests can check how each client outcome (a status, an error) is
// mapped to HTTP status codes, headers and JSON. It has no orchestration
// logic; the routes' real behaviour is tested end to end against Azurite
// in the root package.
type outcomeDurable struct {
	mu sync.Mutex

	startID  string // what StartNew returns (the requested id is not visible here)
	startErr error
	// statuses are GetStatus's successive answers; the last one repeats.
	statuses  []*durable.InstanceStatus
	statusErr error
	cmdErr    error // the answer of every other method

	// What the handler passed.
	startCalls  int
	startName   string
	startInput  any
	startOpts   int
	statusCalls int
	lastCommand string
}

var _ Durable = (*outcomeDurable)(nil)

var errStorageDown = errors.New("storage is down")

func (f *outcomeDurable) TaskHubName() string { return "TestHub" }

func (f *outcomeDurable) StartNew(_ context.Context, name string, input any, opts ...durable.StartOption) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.startCalls++
	f.startName, f.startInput, f.startOpts = name, input, len(opts)
	if f.startErr != nil {
		return "", f.startErr
	}
	return f.startID, nil
}

func (f *outcomeDurable) GetStatus(context.Context, string, ...durable.StatusOption) (*durable.InstanceStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusCalls++
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	if len(f.statuses) == 0 {
		return nil, durable.ErrInstanceNotFound
	}
	st := f.statuses[0]
	if len(f.statuses) > 1 {
		f.statuses = f.statuses[1:]
	}
	return st, nil
}

func (f *outcomeDurable) command(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastCommand = name
	return f.cmdErr
}

func (f *outcomeDurable) RaiseEvent(_ context.Context, _, event string, data any) error {
	b, _ := json.Marshal(data)
	return f.command("raise " + event + " " + string(b))
}
func (f *outcomeDurable) Terminate(_ context.Context, _, reason string) error {
	return f.command("terminate " + reason)
}
func (f *outcomeDurable) Suspend(_ context.Context, _, reason string) error {
	return f.command("suspend " + reason)
}
func (f *outcomeDurable) Resume(_ context.Context, _, reason string) error {
	return f.command("resume " + reason)
}
func (f *outcomeDurable) ListInstances(context.Context, durable.Query) (*durable.Page, error) {
	return &durable.Page{}, f.command("list")
}
func (f *outcomeDurable) Purge(context.Context, string) error { return f.command("purge") }
func (f *outcomeDurable) PurgeInstances(context.Context, durable.Query) (int, error) {
	return 0, f.command("purge many")
}
func (f *outcomeDurable) Rewind(context.Context, string, string) error { return f.command("rewind") }
func (f *outcomeDurable) Restart(context.Context, string, bool) (string, error) {
	return f.startID, f.command("restart")
}
func (f *outcomeDurable) SignalEntity(context.Context, durable.EntityID, string, any, ...durable.SignalOption) error {
	return f.command("signal")
}
func (f *outcomeDurable) GetEntity(context.Context, durable.EntityID) (*durable.EntityMetadata, error) {
	return nil, f.command("entity")
}
func (f *outcomeDurable) ListEntities(context.Context, durable.EntityQuery) (*durable.EntityPage, error) {
	return &durable.EntityPage{}, f.command("entities")
}

// outcomeRouter is the router over f.
func outcomeRouter(f *outcomeDurable) http.Handler {
	return New(Config{Durable: f, Logger: quietLogger()})
}
