package funcapp

import (
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
)

// newClient is the app's client on be: it starts the configured default
// version.
func (c *Config) newClient(be backend.Backend, reg *durable.Registry, opts ...durable.ClientOption) *durable.Client {
	client := durable.NewClient(be, reg, opts...)
	if c.Versioning != nil {
		client.UseVersioning(*c.Versioning)
	}
	return client
}

// readVersioning reads Durable Functions' orchestration versioning
// settings from extensions.durableTask: defaultVersion,
// versionMatchStrategy (None, Strict, CurrentOrOlder) and
// versionFailureStrategy (Reject, Fail). It returns nil when none is set.
func readVersioning(dt map[string]any, fail func(string, ...any)) *durable.Versioning {
	_, hasDefault := get(dt, "defaultVersion")
	_, hasMatch := get(dt, "versionMatchStrategy")
	_, hasFailure := get(dt, "versionFailureStrategy")
	if !hasDefault && !hasMatch && !hasFailure {
		return nil
	}
	v := &durable.Versioning{DefaultVersion: str(dt, "defaultVersion", "")}
	var ok bool
	if v.MatchStrategy, ok = durable.ParseVersionMatchStrategy(str(dt, "versionMatchStrategy", "")); !ok {
		fail("host.json versionMatchStrategy=%q is not None, Strict or CurrentOrOlder", str(dt, "versionMatchStrategy", ""))
	}
	if v.FailureStrategy, ok = durable.ParseVersionFailureStrategy(str(dt, "versionFailureStrategy", "")); !ok {
		fail("host.json versionFailureStrategy=%q is not Reject or Fail", str(dt, "versionFailureStrategy", ""))
	}
	return v
}

// readExtendedSessions reads extendedSessionsEnabled and
// extendedSessionIdleTimeoutInSeconds (default 30) from
// extensions.durableTask.
func readExtendedSessions(dt map[string]any, fail func(string, ...any)) (bool, time.Duration) {
	on := boolv(dt, "extendedSessionsEnabled", false)
	secs := intv(dt, "extendedSessionIdleTimeoutInSeconds", 30, fail)
	if secs < 1 {
		fail("host.json extendedSessionIdleTimeoutInSeconds=%d must be at least 1", secs)
		secs = 30
	}
	return on, time.Duration(secs) * time.Second
}
