package handler

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/durable"
)

// Durable is what the HTTP surface needs from the engine; *durable.Client
// provides it.
type Durable interface {
	TaskHubName() string
	// StartNew fails with durable.ErrUnknownFunction or
	// durable.ErrInstanceExists (wrapped), or a validation error.
	StartNew(ctx context.Context, orchestrator string, input any, opts ...durable.StartOption) (string, error)
	// GetStatus fails with durable.ErrInstanceNotFound (wrapped).
	GetStatus(ctx context.Context, instanceID string, opts ...durable.StatusOption) (*durable.InstanceStatus, error)
	// The commands fail with durable.ErrInstanceNotFound or
	// durable.ErrInstanceFinished (wrapped).
	RaiseEvent(ctx context.Context, instanceID, eventName string, data any) error
	Terminate(ctx context.Context, instanceID, reason string) error
	Suspend(ctx context.Context, instanceID, reason string) error
	Resume(ctx context.Context, instanceID, reason string) error
	ListInstances(ctx context.Context, q durable.Query) (*durable.Page, error)
	Purge(ctx context.Context, instanceID string) error
	PurgeInstances(ctx context.Context, q durable.Query) (int, error)
	// Rewind fails with durable.ErrNotFailed for an instance that is not Failed.
	Rewind(ctx context.Context, instanceID, reason string) error
	Restart(ctx context.Context, instanceID string, sameID bool) (string, error)
	SignalEntity(ctx context.Context, entity durable.EntityID, operation string, input any, opts ...durable.SignalOption) error
	// GetEntity fails with durable.ErrInstanceNotFound for no such entity.
	GetEntity(ctx context.Context, entity durable.EntityID) (*durable.EntityMetadata, error)
	ListEntities(ctx context.Context, name string, fetchState bool, pageSize int, token string) (*durable.EntityPage, error)
}

var _ Durable = (*durable.Client)(nil)

// InvocationFunc runs a non-HTTP function invoked by the host.
type InvocationFunc func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error)

// Config configures the router.
type Config struct {
	Durable Durable
	Logger  *slog.Logger
	// PublicBaseURL, when set (e.g. https://myapp.azurewebsites.net),
	// replaces the scheme and host of every URL the API generates.
	PublicBaseURL string
	// RoutePrefix is the host's HTTP route prefix (host.json
	// extensions.http.routePrefix), default "api".
	RoutePrefix string
	// ConnectionName is reported in generated URLs (default "Storage").
	ConnectionName string
	// MaxBodyBytes caps request bodies (default 8 MiB).
	MaxBodyBytes int64
	// Invocations are the non-HTTP functions, by function name.
	Invocations map[string]InvocationFunc
	// APIKey, when set, is required (x-functions-key or ?code=) on the
	// start routes and the management API, and generated URLs carry it.
	APIKey string
	// Ready, when set, is closed once storage is ready (the task hub
	// exists). Until then durable routes wait for it; GET / does not.
	Ready <-chan struct{}
}

// Base paths of the management API.
const (
	webhookBase = "/runtime/webhooks/durabletask"
)

type server struct {
	cfg Config
	log *slog.Logger
}

// New returns the handler's router.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RoutePrefix == "" {
		cfg.RoutePrefix = "api"
	}
	cfg.RoutePrefix = strings.Trim(cfg.RoutePrefix, "/")
	if cfg.ConnectionName == "" {
		cfg.ConnectionName = "Storage"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	s := &server{cfg: cfg, log: cfg.Logger}
	r := chi.NewRouter()
	r.Use(recoverer(s.log), requestLogger(s.log), bodyLimit(cfg.MaxBodyBytes))
	r.Get("/", health)
	prefix := ""
	if cfg.RoutePrefix != "" {
		prefix = "/" + cfg.RoutePrefix
	}
	r.Group(func(r chi.Router) {
		r.Use(waitReady(cfg.Ready))
		// Non-HTTP functions, invoked by the host itself.
		r.Post("/{function}", s.invoke)
	})
	r.Group(func(r chi.Router) {
		r.Use(requireKey(cfg.APIKey), waitReady(cfg.Ready))
		// HttpStart, forwarded by the host.
		r.Post(prefix+"/orchestrators/{functionName}", s.start)
		r.Post(prefix+"/orchestrators/{functionName}/{instanceId}", s.start)
		// The management API under both bases.
		r.Handle(webhookBase, s.management(webhookBase))
		r.Handle(webhookBase+"/*", s.management(webhookBase))
		r.Handle(prefix+"/durabletask", s.management(prefix+"/durabletask"))
		r.Handle(prefix+"/durabletask/*", s.management(prefix+"/durabletask"))
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "No route matches "+r.Method+" "+r.URL.Path, "")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed on "+r.URL.Path, "")
	})
	return r
}
