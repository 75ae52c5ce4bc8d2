package funcapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/memory"
	"github.com/godurable/functions/durable/telemetry"
	"github.com/godurable/functions/handler"
)

// Options configures New. The zero value is what an app deployed to the
// Functions host wants.
type Options struct {
	// Getenv reads the app settings. Default os.Getenv.
	Getenv func(string) string
	// Logger receives the app's logs. Default: text on stderr at the level
	// of the LOG_LEVEL app setting (info when unset).
	Logger *slog.Logger
	// Listener, when set, is served instead of a listener on
	// FUNCTIONS_CUSTOMHANDLER_PORT (tests pass one on a free port).
	Listener net.Listener
}

// App is a Durable Functions app: the settings, the Azure Storage backend,
// the registry of orchestrators, activities and entities, the durable
// client, and the custom handler's HTTP server, wired as the Functions host
// expects. Create it with New, register functions, then call Run.
type App struct {
	cfg         *Config
	log         *slog.Logger
	ln          net.Listener
	be          *azstorage.Backend
	store       backend.Backend // be, or the in-memory backend
	registry    *durable.Registry
	client      *durable.Client
	invocations map[string]handler.InvocationFunc
}

// New reads host.json and the app settings (see LoadConfig) and connects
// the Azure Storage backend. It does not touch storage yet: Run creates the
// task hub. It refuses an app whose function.json declares a Durable
// Functions binding (see DurableBindingError).
func New(opts Options) (*App, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	log := opts.Logger
	if log == nil {
		log = NewLoggerFormat(getenv("LOG_LEVEL"), getenv("LOG_FORMAT"))
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	if err := CheckFunctionJSON(cfg.AppRoot, log); err != nil {
		return nil, err
	}
	registry := durable.NewRegistry()
	if cfg.InMemory {
		log.Warn("DURABLE_STORAGE=memory: the app runs on the in-memory backend; it is NOT durable and " +
			"every instance is lost when the process ends (demos only)")
		mem := memory.New(memory.Options{})
		return &App{cfg: cfg, log: log, ln: opts.Listener, store: mem, registry: registry,
			client: cfg.newClient(mem, registry, durable.WithTaskHubName(cfg.TaskHub)), invocations: map[string]handler.InvocationFunc{}}, nil
	}
	acct, err := azstorage.ParseConnectionString(cfg.ConnectionName, cfg.ConnectionString)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	clients, err := azstorage.NewClients(acct, azstorage.ClientOptions{PerRetry: []policy.Policy{telemetry.StoragePolicy()}})
	if err != nil {
		return nil, err
	}
	be, err := azstorage.New(clients, cfg.BackendOptions(log))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := checkQueueTriggers(cfg.AppRoot, be.Names()); err != nil {
		return nil, err
	}
	if cfg.WakeUpQueue && !hasWakeUpTrigger(cfg.AppRoot, cfg.TaskHub) {
		log.Warn("DURABLE_WAKEUP_QUEUE is on but no function watches the wake-up queue; add the function folder "+
			WakeUpFunction+" (see the README, Deploying)", "queue", be.Names().WakeUpQueue())
	}
	return &App{
		cfg:         cfg,
		log:         log,
		ln:          opts.Listener,
		be:          be,
		store:       be,
		registry:    registry,
		client:      cfg.newClient(be, registry),
		invocations: map[string]handler.InvocationFunc{WakeUpFunction: wakeUpInvocation(be)},
	}, nil
}

// Config returns the settings the app was created with.
func (a *App) Config() *Config { return a.cfg }

// Logger returns the app's logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Registry returns the registry the worker runs functions from: add the
// app's orchestrators, activities and entities to it before Run.
func (a *App) Registry() *durable.Registry { return a.registry }

// Register adds typed function handles (durable.NewActivity,
// durable.NewOrchestrator, durable.NewEntity) to the app's registry.
func (a *App) Register(fns ...durable.Function) error { return a.registry.Register(fns...) }

// Client returns the durable client over the app's task hub, for client
// functions (queue or timer triggered) that start or manage instances.
func (a *App) Client() *durable.Client { return a.client }

// Backend returns the Azure Storage backend (nil when the app runs in
// memory, DURABLE_STORAGE=memory).
func (a *App) Backend() *azstorage.Backend { return a.be }

// HandleInvocation serves a non-HTTP function (a queue or timer trigger
// declared in {name}/function.json) that the host invokes as
// POST /{name}. Call it before Run.
func (a *App) HandleInvocation(name string, fn handler.InvocationFunc) {
	a.invocations[name] = fn
}

// HandleInvocations serves every function of m as HandleInvocation does.
func (a *App) HandleInvocations(m map[string]handler.InvocationFunc) {
	for name, fn := range m {
		a.HandleInvocation(name, fn)
	}
}

// Run serves the app until ctx is cancelled: it listens first (the host
// probes GET / right away and the probe is answered while the task hub is
// being created), creates the task hub (retrying while storage is not
// reachable), then serves the HTTP routes and runs the worker. On
// cancellation it stops the HTTP server, then waits for the worker to
// finish its work in hand.
func (a *App) Run(ctx context.Context) error {
	cfg, log := a.cfg, a.log
	ln := a.ln
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
		if err != nil {
			return fmt.Errorf("listen on port %d (FUNCTIONS_CUSTOMHANDLER_PORT): %w", cfg.Port, err)
		}
	}
	routePrefix := cfg.RoutePrefix
	if routePrefix == "" {
		routePrefix = "/" // host.json's empty prefix; handler.Config's "" means the default "api"
	}
	tel, err := telemetry.Setup(ctx, telemetry.Options{ServiceName: cfg.AppName, Prometheus: cfg.PrometheusMetrics})
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := tel.Shutdown(sctx); err != nil {
			log.Warn("flushing telemetry failed", "error", err)
		}
	}()
	if hub, ok := a.store.(backend.HubInspector); ok && tel.MetricsEnabled() {
		if unregister, err := telemetry.ObserveHub(hub, 0); err != nil {
			log.Warn("hub metrics are unavailable", "error", err)
		} else {
			defer func() { _ = unregister() }()
		}
	}
	ready := make(chan struct{})
	srv := &http.Server{
		Handler: withMetrics(tel.MetricsHandler(), handler.New(handler.Config{
			Durable:          a.client,
			Logger:           log,
			PublicBaseURL:    cfg.PublicBaseURL,
			RoutePrefix:      routePrefix,
			APIKey:           cfg.APIKey,
			Invocations:      a.invocations,
			DisableDashboard: !cfg.Dashboard,
			Ready:            ready,
		})),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("handler listening", "address", ln.Addr().String(), "taskHub", cfg.TaskHub, "worker", cfg.WorkerID, "partitions", cfg.PartitionCount)

	if err := createTaskHub(ctx, a.store, log); err != nil {
		_ = srv.Close()
		return err
	}
	close(ready)
	worker := durable.NewWorker(a.store, a.registry, cfg.WorkerOptions(log))
	workerErr := make(chan error, 1)
	go func() { workerErr <- worker.Run(ctx) }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	httpErr := srv.Shutdown(shutdownCtx)
	werr := <-workerErr
	if httpErr != nil && !errors.Is(httpErr, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", httpErr)
	}
	return werr
}

// Main is the whole main function of an app: it creates the app from the
// environment, lets setup register the app's functions, and runs it until
// SIGINT or SIGTERM. An error is logged and exits the process with status 1.
// Run as "app replay [flags]" it replays the task hub's stored histories
// against the app's code instead (see App.Replay) and exits.
func Main(setup func(*App) error) {
	log := NewLoggerFormat(os.Getenv("LOG_LEVEL"), os.Getenv("LOG_FORMAT"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	if len(os.Args) > 1 && os.Args[1] == "replay" {
		code := replayMain(ctx, log, setup, os.Args[2:])
		stop()
		os.Exit(code)
	}
	err := run(ctx, log, setup)
	stop()
	if err != nil {
		log.Error("app stopped", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, setup func(*App) error) error {
	app, err := New(Options{Logger: log})
	if err != nil {
		return err
	}
	if setup != nil {
		if err := setup(app); err != nil {
			return err
		}
	}
	return app.Run(ctx)
}

// NewLogger returns a text logger on stderr at level (debug, info, warn or
// error, as the LOG_LEVEL app setting says; info when empty or unknown).
func NewLogger(level string) *slog.Logger { return NewLoggerFormat(level, "") }

// NewLoggerFormat returns a logger on stderr at level, writing JSON lines
// when format (the LOG_FORMAT app setting) is "json" and text otherwise.
// Lines logged with a traced context carry traceId and spanId, and lines
// logged during a Functions invocation also go back to the host in the
// invocation's Logs.
func NewLoggerFormat(level, format string) *slog.Logger {
	return slog.New(telemetry.NewLogHandler(os.Stderr, format, ParseLogLevel(level)))
}

// withMetrics serves GET /metrics with metrics (when not nil) and
// everything else with h.
func withMetrics(metrics, h http.Handler) http.Handler {
	if metrics == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			metrics.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ParseLogLevel reads a LOG_LEVEL setting: debug, info, warn or error, in
// any case; info when empty or unknown.
func ParseLogLevel(level string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// createTaskHub creates the task hub, retrying while storage is not
// reachable yet (Azurite may still be starting).
func createTaskHub(ctx context.Context, be backend.Backend, log *slog.Logger) error {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := be.CreateTaskHub(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if errors.Is(err, azstorage.ErrPartitionSchemeMismatch) || errors.Is(err, azstorage.ErrPartitionCountMismatch) {
			return fmt.Errorf("create task hub: %w", err) // retrying cannot help
		}
		if ctx.Err() != nil || attempt >= 10 {
			return fmt.Errorf("create task hub: %w", err)
		}
		log.Warn("storage not ready; retrying", "attempt", attempt, "error", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		delay = min(delay*2, 5*time.Second)
	}
}
