package funcapp

// This file reads the app's settings the way the Functions host hands them
// to a custom handler: host.json at the app root and app settings as
// environment variables.

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/azstorage"
)

// Config is everything an app needs to start, read by LoadConfig from
// host.json and the app settings.
type Config struct {
	AppRoot string // the folder holding host.json
	Port    int    // FUNCTIONS_CUSTOMHANDLER_PORT, default 7071

	// Storage.
	ConnectionName   string // the app setting holding the connection string
	ConnectionString string // its value
	// InMemory (DURABLE_STORAGE=memory) runs the app on the in-memory
	// backend instead of Azure Storage: for demos only, NOT durable, every
	// instance is lost when the process ends.
	InMemory       bool
	TaskHub        string
	PartitionCount int
	WorkerID       string

	ControlQueueBatchSize       int
	ControlQueueVisibility      time.Duration
	WorkItemQueueVisibility     time.Duration
	MaxQueuePollingInterval     time.Duration
	MaxConcurrentActivities     int
	MaxConcurrentOrchestrations int
	UseBase64QueueMessages      bool
	MaxDequeueCount             int
	LeaseInterval               time.Duration
	LeaseRenewInterval          time.Duration
	LeaseAcquireInterval        time.Duration

	// Partition management: storageProvider.useTablePartitionManagement
	// (default true, as Durable Functions v3) selects the Partitions
	// table; false selects the blob leases of Durable Functions v2, or with
	// storageProvider.useLegacyPartitionManagement its legacy blob leases.
	UseTablePartitionManagement  bool
	UseLegacyPartitionManagement bool
	// The app lease: durableTask.useAppLease (default true) and
	// durableTask.appLeaseOptions; AppName is WEBSITE_SITE_NAME, from
	// which the app lease id derives.
	UseAppLease bool
	AppLease    azstorage.AppLeaseOptions
	AppName     string

	// StoreInputsInOrchestrationHistory is
	// extensions.durableTask.storeInputsInOrchestrationHistory (default
	// false): keep activity and sub-orchestration inputs in history.
	StoreInputsInOrchestrationHistory bool
	EntityMessageReorderWindow        time.Duration // entityMessageReorderWindowInMinutes, default 30
	// Versioning holds extensions.durableTask's defaultVersion,
	// versionMatchStrategy and versionFailureStrategy (nil when none is
	// set): StartNew starts defaultVersion, and the worker runs, rejects or
	// fails instances by their version.
	Versioning *durable.Versioning
	// ExtendedSessions is extendedSessionsEnabled: orchestrators stay in
	// memory between episodes (no replay) until idle for
	// ExtendedSessionIdleTimeout (extendedSessionIdleTimeoutInSeconds,
	// default 30 s).
	ExtendedSessions           bool
	ExtendedSessionIdleTimeout time.Duration

	// HTTP.
	RoutePrefix   string        // extensions.http.routePrefix, default "api"
	PublicBaseURL string        // DURABLE_PUBLIC_BASE_URL: overrides the scheme and host of generated URLs
	APIKey        string        // DURABLE_API_KEY: required on the durable HTTP routes when set
	Dashboard     bool          // DURABLE_DASHBOARD: the browser dashboard at {base}/ui/ (default true; false turns it off)
	PurgeAfter    time.Duration // DURABLE_PURGE_AFTER: PurgeOldInstances' age limit (default 30 days)
	LogLevel      string        // LOG_LEVEL: debug, info, warn, error
	LogFormat     string        // LOG_FORMAT: text (default) or json
	// WakeUpQueue (DURABLE_WAKEUP_QUEUE, true or false) writes a wake-up
	// message to "{hub}-wakeup" for every delayed message (see
	// WakeUpFunction). Default: on when a function of the app watches
	// that queue, off otherwise.
	WakeUpQueue bool

	// Observability. Traces and metrics go over OTLP as the standard
	// OTEL_* variables say (see package durable/telemetry).
	PrometheusMetrics bool // DURABLE_METRICS_PROMETHEUS: serve GET /metrics in Prometheus' text format (default false)
}

// Defaults of Durable Functions on Azure Storage.
const (
	DefaultPort           = 7071
	DefaultPartitionCount = 4
	DefaultTaskHub        = "TestHubName"
)

// LoadConfig reads host.json from the app root (FUNCTIONS_APP_ROOT_PATH,
// else the working directory) and the app settings through getenv
// (os.Getenv in an app). Every invalid value is named in the error.
func LoadConfig(getenv func(string) string) (*Config, error) {
	root := getenv("FUNCTIONS_APP_ROOT_PATH")
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("config: working directory: %w", err)
		}
		root = wd
	}
	host := map[string]any{}
	path := filepath.Join(root, "host.json")
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &host); err != nil {
			return nil, fmt.Errorf("config: %s is not valid JSON: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return fromHostJSON(root, host, getenv)
}

func fromHostJSON(root string, host map[string]any, getenv func(string) string) (*Config, error) {
	c := &Config{AppRoot: root}
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf("config: "+format, a...)) }

	c.Port = DefaultPort
	if p := getenv("FUNCTIONS_CUSTOMHANDLER_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			fail("FUNCTIONS_CUSTOMHANDLER_PORT=%q is not a TCP port", p)
		}
		c.Port = n
	}
	dt := lookup(host, "extensions", "durableTask")
	sp := lookup(dt, "storageProvider")

	c.ConnectionName = str(sp, "connectionStringName", str(sp, "connectionName", "AzureWebJobsStorage"))
	c.ConnectionString = getenv(c.ConnectionName)
	c.InMemory = strings.EqualFold(getenv("DURABLE_STORAGE"), "memory")

	c.TaskHub = expand(str(dt, "hubName", ""), getenv)
	if v := getenv("DURABLE_TASK_HUB"); v != "" {
		c.TaskHub = v
	}
	if c.TaskHub == "" {
		c.TaskHub = DefaultHubName(getenv("WEBSITE_SITE_NAME"))
	}
	c.PartitionCount = intv(sp, "partitionCount", DefaultPartitionCount, fail)
	c.ControlQueueBatchSize = intv(sp, "controlQueueBatchSize", 32, fail)
	c.ControlQueueVisibility = dur(sp, "controlQueueVisibilityTimeout", 30*time.Second, fail)
	c.WorkItemQueueVisibility = dur(sp, "workItemQueueVisibilityTimeout", 30*time.Second, fail)
	c.MaxQueuePollingInterval = dur(sp, "maxQueuePollingInterval", 30*time.Second, fail)
	// Durable Functions v2 (DurableTask.AzureStorage 1.x) reads only base64
	// queue messages and 2.x reads both, so a blob-lease hub, which v2
	// workers may share, gets base64 unless host.json says otherwise.
	c.UseLegacyPartitionManagement = boolv(sp, "useLegacyPartitionManagement", false)
	c.UseTablePartitionManagement = boolv(sp, "useTablePartitionManagement", !c.UseLegacyPartitionManagement)
	if c.UseTablePartitionManagement && c.UseLegacyPartitionManagement {
		fail("host.json useTablePartitionManagement and useLegacyPartitionManagement cannot both be true")
	}
	c.UseBase64QueueMessages = boolv(sp, "useBase64QueueMessages", !c.UseTablePartitionManagement)
	c.UseAppLease = boolv(dt, "useAppLease", true)
	al := lookup(dt, "appLeaseOptions")
	c.AppLease = azstorage.AppLeaseOptions{
		RenewInterval:   dur(al, "renewInterval", 25*time.Second, fail),
		AcquireInterval: dur(al, "acquireInterval", 300*time.Second, fail),
		LeaseInterval:   dur(al, "leaseInterval", 60*time.Second, fail),
	}
	c.AppName = getenv("WEBSITE_SITE_NAME")
	c.MaxDequeueCount = intv(sp, "maxDequeueCount", 10, fail)
	c.LeaseInterval = dur(sp, "partitionLeaseInterval", 30*time.Second, fail)
	c.LeaseRenewInterval = dur(sp, "partitionLeaseRenewInterval", 10*time.Second, fail)
	c.LeaseAcquireInterval = dur(sp, "partitionLeaseAcquireInterval", 10*time.Second, fail)
	c.MaxConcurrentActivities = intv(dt, "maxConcurrentActivityFunctions", 0, fail)
	c.MaxConcurrentOrchestrations = intv(dt, "maxConcurrentOrchestratorFunctions", 0, fail)
	c.StoreInputsInOrchestrationHistory = boolv(dt, "storeInputsInOrchestrationHistory", false)
	c.Versioning = readVersioning(dt, fail)
	c.ExtendedSessions, c.ExtendedSessionIdleTimeout = readExtendedSessions(dt, fail)
	if m := intv(dt, "entityMessageReorderWindowInMinutes", 30, fail); m >= 1 {
		c.EntityMessageReorderWindow = time.Duration(m) * time.Minute
	} else {
		fail("host.json entityMessageReorderWindowInMinutes=%d must be at least 1", m)
	}

	c.WorkerID = getenv("DURABLE_WORKER_ID")
	if c.WorkerID == "" {
		c.WorkerID = str(sp, "workerId", "")
	}
	if c.WorkerID == "" {
		h, _ := os.Hostname()
		c.WorkerID = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	c.RoutePrefix = "api"
	if v, ok := lookup(host, "extensions", "http")["routePrefix"].(string); ok {
		c.RoutePrefix = strings.Trim(v, "/")
	}
	c.PublicBaseURL = strings.TrimRight(getenv("DURABLE_PUBLIC_BASE_URL"), "/")
	c.APIKey = getenv("DURABLE_API_KEY")
	c.Dashboard = true
	if v := getenv("DURABLE_DASHBOARD"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("DURABLE_DASHBOARD=%q is not true or false", v)
		}
		c.Dashboard = b
	}
	c.PurgeAfter = 30 * 24 * time.Hour
	if v := getenv("DURABLE_PURGE_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			if d, err = ParseTimeSpan(v); err != nil {
				fail("DURABLE_PURGE_AFTER=%q is neither a Go duration (720h) nor a TimeSpan (30.00:00:00)", v)
			}
		}
		if d > 0 {
			c.PurgeAfter = d
		}
	}
	c.WakeUpQueue = hasWakeUpTrigger(c.AppRoot, c.TaskHub)
	if v := getenv("DURABLE_WAKEUP_QUEUE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("DURABLE_WAKEUP_QUEUE=%q is not true or false", v)
		}
		c.WakeUpQueue = b
	}
	c.LogLevel = getenv("LOG_LEVEL")
	c.LogFormat = getenv("LOG_FORMAT")
	if v := getenv("DURABLE_METRICS_PROMETHEUS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("DURABLE_METRICS_PROMETHEUS=%q is not true or false", v)
		}
		c.PrometheusMetrics = b
	}
	return c, errors.Join(errs...)
}

// lookup walks nested objects by case-insensitive keys, as .NET
// configuration binding does.
func lookup(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		var next map[string]any
		for mk, v := range m {
			if strings.EqualFold(mk, k) {
				next, _ = v.(map[string]any)
				break
			}
		}
		if next == nil {
			return map[string]any{}
		}
		m = next
	}
	return m
}

func get(m map[string]any, key string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func str(m map[string]any, key, def string) string {
	if v, ok := get(m, key); ok {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
	}
	return def
}

func boolv(m map[string]any, key string, def bool) bool {
	v, ok := get(m, key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, err := strconv.ParseBool(x)
		if err == nil {
			return b
		}
	}
	return def
}

func intv(m map[string]any, key string, def int, fail func(string, ...any)) int {
	v, ok := get(m, key)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) {
			return int(x)
		}
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	}
	fail("host.json %s=%v is not a whole number", key, v)
	return def
}

func dur(m map[string]any, key string, def time.Duration, fail func(string, ...any)) time.Duration {
	v, ok := get(m, key)
	if !ok {
		return def
	}
	s, _ := v.(string)
	d, err := ParseTimeSpan(s)
	if err != nil {
		fail("host.json %s: %v", key, err)
		return def
	}
	return d
}

var timeSpanRE = regexp.MustCompile(`^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$`)

// ParseTimeSpan parses a .NET TimeSpan in its constant format,
// [d.]hh:mm:ss[.fffffff], as host.json writes durations.
func ParseTimeSpan(s string) (time.Duration, error) {
	m := timeSpanRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration of the form [d.]hh:mm:ss[.fffffff]", s)
	}
	n := func(i int) time.Duration {
		if m[i] == "" {
			return 0
		}
		v, _ := strconv.Atoi(m[i])
		return time.Duration(v)
	}
	d := n(1)*24*time.Hour + n(2)*time.Hour + n(3)*time.Minute + n(4)*time.Second
	if m[5] != "" {
		frac := (m[5] + "0000000")[:7]
		v, _ := strconv.Atoi(frac)
		d += time.Duration(v) * 100
	}
	return d, nil
}

var settingRE = regexp.MustCompile(`%([^%]+)%`)

// expand replaces %NAME% with the app setting NAME, as the Functions host
// does in binding expressions such as hubName.
func expand(s string, getenv func(string) string) string {
	return settingRE.ReplaceAllStringFunc(s, func(m string) string { return getenv(strings.Trim(m, "%")) })
}

// DefaultHubName derives a task hub name from the site name the way
// Durable Functions does: alphanumerics only, a leading digit prefixed
// with "t", at most 45 characters, padded with "Hub" when shorter than 3.
func DefaultHubName(site string) string {
	if site == "" {
		return DefaultTaskHub
	}
	var b strings.Builder
	for _, r := range site {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if s == "" {
		return "DefaultTaskHub"
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = "t" + s
	}
	if len(s) > 45 {
		s = s[:45]
	}
	if len(s) < 3 {
		s += "Hub"
	}
	return s
}

// BackendOptions are the Azure Storage backend options these settings
// describe, logging to log.
func (c *Config) BackendOptions(log *slog.Logger) azstorage.Options {
	o := azstorage.Options{
		TaskHub:                 c.TaskHub,
		PartitionCount:          c.PartitionCount,
		WorkerID:                c.WorkerID,
		ControlQueueBatchSize:   c.ControlQueueBatchSize,
		ControlQueueVisibility:  c.ControlQueueVisibility,
		WorkItemQueueVisibility: c.WorkItemQueueVisibility,
		MaxPollingInterval:      c.MaxQueuePollingInterval,
		Base64Messages:          c.UseBase64QueueMessages,
		MaxDequeueCount:         c.MaxDequeueCount,
		LeaseInterval:           c.LeaseInterval,
		LeaseRenewInterval:      c.LeaseRenewInterval,
		LeaseAcquireInterval:    c.LeaseAcquireInterval,
		PartitionManagement:     c.PartitionManagement(),
		UseAppLease:             c.UseAppLease,
		AppName:                 c.AppName,
		AppLease:                c.AppLease,
		WakeUpQueue:             c.WakeUpQueue,
		Logger:                  log,
	}
	if c.ExtendedSessions {
		o.ExtendedSessionIdleTimeout = c.ExtendedSessionIdleTimeout
	}
	return o
}

// PartitionManagement is the partition scheme the settings select.
func (c *Config) PartitionManagement() azstorage.PartitionManagement {
	switch {
	case c.UseTablePartitionManagement:
		return azstorage.TablePartitions
	case c.UseLegacyPartitionManagement:
		return azstorage.LegacyBlobLeases
	}
	return azstorage.BlobLeases
}

// WorkerOptions are the worker options these settings describe, logging
// to log.
func (c *Config) WorkerOptions(log *slog.Logger) durable.WorkerOptions {
	return durable.WorkerOptions{
		Logger:                      log,
		MaxConcurrentActivities:     c.MaxConcurrentActivities,
		MaxConcurrentOrchestrations: c.MaxConcurrentOrchestrations,
		ActivityRenewInterval:       min(30*time.Second, c.WorkItemQueueVisibility/2),

		StoreInputsInOrchestrationHistory: c.StoreInputsInOrchestrationHistory,
		EntityMessageReorderWindow:        c.EntityMessageReorderWindow,
		Versioning:                        c.Versioning,
		ExtendedSessions:                  c.ExtendedSessions,
		ExtendedSessionIdleTimeout:        c.ExtendedSessionIdleTimeout,
	}
}
