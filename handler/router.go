package handler

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/godurable/functions/bindings"
	"github.com/godurable/functions/dashboard"
	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/internal/telemetry"
)

// Durable is what the HTTP surface needs from the engine: exactly the
// client methods the routes call. *durable.Client provides it. Errors are
// matched with errors.Is against durable's sentinel errors.
type Durable interface {
	TaskHubName() string
	// StartNew fails with durable.ErrUnknownFunction,
	// durable.ErrInstanceExists or durable.ErrInvalidInput (wrapped).
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
	ListEntities(ctx context.Context, q durable.EntityQuery) (*durable.EntityPage, error)
}

var _ Durable = (*durable.Client)(nil)

// InvocationFunc runs a non-HTTP function (queue, timer…) that the host
// invokes as POST /{FunctionName}. A returned error fails the invocation.
type InvocationFunc func(ctx context.Context, req *bindings.InvokeRequest) (*bindings.InvokeResponse, error)

// WebhookBasePath is where Durable Functions serves its management API.
// The Functions host never forwards it to a custom handler, so behind the
// host the API is reached under a function route instead (by default
// /api/durabletask); standalone, both work.
const WebhookBasePath = "/runtime/webhooks/durabletask"

// Config configures the router. Only Durable is required.
type Config struct {
	// Durable is the engine's client (a *durable.Client).
	Durable Durable
	// Logger receives errors, panics and (at debug level) every request.
	// Default slog.Default().
	Logger *slog.Logger
	// PublicBaseURL, when set (e.g. https://myapp.azurewebsites.net),
	// replaces the scheme and host of every URL the API generates;
	// otherwise they come from the request and its proxy headers.
	PublicBaseURL string
	// RoutePrefix is the host's HTTP route prefix (host.json
	// extensions.http.routePrefix). Empty means the default, "api"; "/"
	// means no prefix.
	RoutePrefix string
	// ManagementPaths are the base paths the management API is served
	// under. Default: WebhookBasePath and /{RoutePrefix}/durabletask.
	// Links in answers use the base the request came in under; links in
	// answers to HttpStart use the first base other than WebhookBasePath.
	ManagementPaths []string
	// ConnectionName is reported in generated URLs (default "Storage").
	ConnectionName string
	// MaxBodyBytes caps request bodies (default 8 MiB); larger ones get 413.
	MaxBodyBytes int64
	// Invocations are the non-HTTP functions by function name, matched
	// case-insensitively.
	Invocations map[string]InvocationFunc
	// APIKey, when set, is required (x-functions-key header or code query
	// parameter) on the start routes and the management API, and generated
	// URLs carry it as code.
	APIKey string
	// Ready, when set, is closed once storage is ready (the task hub
	// exists). Until then the durable routes and invocations wait for it;
	// GET / does not.
	Ready <-chan struct{}
	// DisableDashboard turns off the browser dashboard served at
	// {base}/ui/ under each management path. The page holds no data; its
	// API calls need the key like any other client.
	DisableDashboard bool
}

type server struct {
	cfg Config
	log *slog.Logger
}

// withDefaults fills in the defaults documented on Config.
func (cfg Config) withDefaults() Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RoutePrefix == "" {
		cfg.RoutePrefix = "api"
	}
	cfg.RoutePrefix = strings.Trim(cfg.RoutePrefix, "/")
	if len(cfg.ManagementPaths) == 0 {
		cfg.ManagementPaths = []string{WebhookBasePath, prefixPath(cfg.RoutePrefix) + "/durabletask"}
	}
	paths := make([]string, 0, len(cfg.ManagementPaths))
	for _, p := range cfg.ManagementPaths {
		if p = "/" + strings.Trim(p, "/"); p != "/" {
			paths = append(paths, p)
		}
	}
	cfg.ManagementPaths = paths
	if cfg.ConnectionName == "" {
		cfg.ConnectionName = "Storage"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 8 << 20
	}
	return cfg
}

// prefixPath is the path a route prefix puts in front of function routes:
// "/api", or "" for no prefix.
func prefixPath(prefix string) string {
	if prefix == "" {
		return ""
	}
	return "/" + prefix
}

// New returns the handler's router:
//
//	GET  /                                             health (host readiness probe)
//	POST /{FunctionName}                               invocations (Config.Invocations)
//	POST /{prefix}/orchestrators/{name}[/{instanceId}] HttpStart
//	*    {base}/...                                    management API, for each ManagementPaths base
//	GET  {base}/ui/                                    the dashboard (unless DisableDashboard)
func New(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	s := &server{cfg: cfg, log: cfg.Logger}
	r := chi.NewRouter()
	r.Use(recoverer(s.log), telemetry.ExtractHTTP, requestLogger(s.log), bodyLimit(cfg.MaxBodyBytes))
	r.Get("/", health)
	r.Group(func(r chi.Router) {
		r.Use(waitReady(cfg.Ready))
		r.Post("/{function}", s.invoke)
	})
	if !cfg.DisableDashboard {
		ui := dashboard.Handler()
		for _, base := range cfg.ManagementPaths {
			r.Get(base+"/ui", func(w http.ResponseWriter, r *http.Request) {
				to := base + "/ui/"
				if r.URL.RawQuery != "" {
					to += "?" + r.URL.RawQuery
				}
				http.Redirect(w, r, to, http.StatusMovedPermanently)
			})
			r.Method(http.MethodGet, base+"/ui/*", ui)
			r.Method(http.MethodHead, base+"/ui/*", ui)
		}
	}
	r.Group(func(r chi.Router) {
		r.Use(requireKey(cfg.APIKey), waitReady(cfg.Ready))
		s.startRoutes(r, prefixPath(cfg.RoutePrefix))
		for _, base := range cfg.ManagementPaths {
			h := s.management(base)
			r.Handle(base, h)
			r.Handle(base+"/*", h)
		}
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found", "no route matches "+r.Method+" "+r.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed", r.Method+" is not allowed on "+r.URL.Path)
	})
	return r
}
