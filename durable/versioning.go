package durable

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/godurable/functions/durable/backend"
	"github.com/godurable/functions/durable/history"
)

// VersionMatchStrategy says which orchestration versions a worker runs
// (host.json extensions.durableTask.versioning.versionMatchStrategy).
type VersionMatchStrategy int

const (
	// VersionMatchNone runs every version.
	VersionMatchNone VersionMatchStrategy = iota
	// VersionMatchStrict runs only the worker's own version.
	VersionMatchStrict
	// VersionMatchCurrentOrOlder runs the worker's version and older ones.
	VersionMatchCurrentOrOlder
)

// VersionFailureStrategy says what happens to an orchestration whose
// version the worker does not run
// (host.json extensions.durableTask.versioning.versionFailureStrategy).
type VersionFailureStrategy int

const (
	// VersionFailureReject leaves the work for another worker: the
	// messages go back to the queue (with delays doubling from 2 s to 5
	// minutes) and the instance stays as it is (a new one stays Pending,
	// with no history). A message rejected maxDequeueCount times is set
	// aside as poison and the instance fails, as for any message no
	// worker processes.
	VersionFailureReject VersionFailureStrategy = iota
	// VersionFailureFail fails the orchestration with error type
	// "VersionMismatch".
	VersionFailureFail
)

// Versioning holds Durable Functions' orchestration versioning settings.
// DefaultVersion is this app's version: StartNew without WithVersion
// starts it (Client.UseVersioning), and the match strategy compares
// instances' versions with it.
type Versioning struct {
	DefaultVersion  string
	MatchStrategy   VersionMatchStrategy
	FailureStrategy VersionFailureStrategy
}

// ParseVersionMatchStrategy reads "None", "Strict" or "CurrentOrOlder"
// (case-insensitive; empty is None).
func ParseVersionMatchStrategy(s string) (VersionMatchStrategy, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none":
		return VersionMatchNone, true
	case "strict":
		return VersionMatchStrict, true
	case "currentorolder":
		return VersionMatchCurrentOrOlder, true
	}
	return VersionMatchNone, false
}

// ParseVersionFailureStrategy reads "Reject" or "Fail" (case-insensitive;
// empty is Reject).
func ParseVersionFailureStrategy(s string) (VersionFailureStrategy, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "reject":
		return VersionFailureReject, true
	case "fail":
		return VersionFailureFail, true
	}
	return VersionFailureReject, false
}

// accepts reports whether an orchestration of version v may run here.
func (s *Versioning) accepts(v string) bool {
	switch s.MatchStrategy {
	case VersionMatchStrict:
		return v == s.DefaultVersion
	case VersionMatchCurrentOrOlder:
		return CompareVersions(v, s.DefaultVersion) <= 0
	}
	return true
}

// CompareVersions orders orchestration versions as Durable Task does: an
// empty version is the oldest; two versions that both parse as dotted
// numbers (2 to 4 parts, as .NET's System.Version) compare numerically;
// anything else compares as case-insensitive text. It returns -1, 0 or 1.
func CompareVersions(a, b string) int {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	if va, ok := parseDotted(a); ok {
		if vb, ok := parseDotted(b); ok {
			for i := range va {
				if va[i] != vb[i] {
					if va[i] < vb[i] {
						return -1
					}
					return 1
				}
			}
			return 0
		}
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// parseDotted parses "major.minor[.build[.revision]]"; missing parts are
// -1, as System.Version leaves them undefined (and orders them first).
func parseDotted(s string) ([4]int, bool) {
	v := [4]int{-1, -1, -1, -1}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || strings.TrimSpace(p) != p {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

// WithVersion starts the instance with the given orchestration version
// (default: the client's default version, see UseVersioning).
func WithVersion(v string) StartOption { return func(o *startOptions) { o.version = v } }

// WithTags attaches tags (string key/value pairs) to the instance; they
// are stored with it and returned by GetStatus.
func WithTags(tags map[string]string) StartOption {
	return func(o *startOptions) {
		o.tags = make(map[string]string, len(tags))
		for k, v := range tags {
			o.tags[k] = v
		}
	}
}

// OverwriteExisting lets StartNew replace an instance with the same id
// whatever its status, also a pending, running or suspended one (Durable
// Functions' OverridableExistingInstanceStates.AnyState). The old
// execution ends where it is; the new one starts from its first event.
func OverwriteExisting() StartOption { return func(o *startOptions) { o.overwrite = true } }

// UseVersioning makes StartNew without WithVersion start v.DefaultVersion.
// Call it before the client is shared.
func (c *Client) UseVersioning(v Versioning) { c.defaultVersion = v.DefaultVersion }

func (c *Client) startVersion(v string) string {
	if v == "" {
		return c.defaultVersion
	}
	return v
}

// Version is the orchestration version this instance was started with.
func (c *OrchestrationContext) Version() string { return c.rt.Version() }

// versionRejected reports an orchestration work item that the worker's
// versioning settings reject (failure strategy Reject); its messages are
// returned to the queue.
func (w *Worker) versionRejected(ctx context.Context, wi *backend.OrchestrationWorkItem) bool {
	v := w.opts.Versioning
	if v == nil || v.FailureStrategy != VersionFailureReject || IsEntityInstance(wi.InstanceID) || wi.PoisonReason != "" {
		return false
	}
	started := findStarted(wi.History)
	if started == nil {
		started = findStarted(wi.NewEvents)
	}
	if started == nil || isFinished(wi.History) || v.accepts(started.Version) {
		return false
	}
	deliveries := 1
	for _, m := range wi.Messages {
		deliveries = max(deliveries, m.DequeueCount)
	}
	delay := min(time.Duration(1<<min(deliveries, 9))*time.Second, 5*time.Minute)
	w.log.Warn("orchestration version rejected by this worker's versioning settings; the work goes back to the queue",
		"instanceId", wi.InstanceID, "version", started.Version, "workerVersion", v.DefaultVersion, "retryIn", delay)
	if err := w.be.AbandonOrchestrationWorkItem(ctx, wi, delay); err != nil {
		w.log.Warn("abandoning a rejected orchestration work item failed", "instanceId", wi.InstanceID, "error", err)
	}
	return true
}

// versionFailure fails an execution whose version the worker's versioning
// settings do not accept (failure strategy Fail).
func (w *Worker) versionFailure(started *history.Event, past, news []*history.Event, now time.Time) (*backend.Checkpoint, bool) {
	v := w.opts.Versioning
	if v == nil || v.FailureStrategy != VersionFailureFail || v.accepts(started.Version) {
		return nil, false
	}
	w.log.Warn("failing an orchestration whose version this worker's versioning settings do not accept",
		"instanceId", started.Instance.InstanceID, "version", started.Version, "workerVersion", v.DefaultVersion)
	cp, _ := w.failEpisodeAs(started, past, news, now, "VersionMismatch", "Orchestration version did not comply with Worker Versioning")
	return cp, true
}
