package durable

import (
	"fmt"
	"strings"
	"sync"
)

// Registry holds the orchestrators and activities of an app under their
// function names. Names are matched case-insensitively, as the Functions
// host matches function names; the registered spelling is kept.
type Registry struct {
	mu            sync.RWMutex
	orchestrators map[string]registered[OrchestratorFunc]
	activities    map[string]registered[ActivityFunc]
	entities      map[string]registered[EntityFunc]
}

type registered[F any] struct {
	name string
	fn   F
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		orchestrators: map[string]registered[OrchestratorFunc]{},
		activities:    map[string]registered[ActivityFunc]{},
		entities:      map[string]registered[EntityFunc]{},
	}
}

func key(name string) string { return strings.ToLower(name) }

// AddOrchestrator registers an orchestrator. It returns an error for an
// empty or already registered name.
func (r *Registry) AddOrchestrator(name string, fn OrchestratorFunc) error {
	if err := checkName("orchestrator", name, fn == nil); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.orchestrators[key(name)]; dup {
		return fmt.Errorf("durable: orchestrator %q is already registered", name)
	}
	r.orchestrators[key(name)] = registered[OrchestratorFunc]{name, fn}
	return nil
}

// AddActivity registers an activity. It returns an error for an empty or
// already registered name.
func (r *Registry) AddActivity(name string, fn ActivityFunc) error {
	if err := checkName("activity", name, fn == nil); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.activities[key(name)]; dup {
		return fmt.Errorf("durable: activity %q is already registered", name)
	}
	r.activities[key(name)] = registered[ActivityFunc]{name, fn}
	return nil
}

func checkName(kind, name string, nilFn bool) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("durable: %s name is empty", kind)
	}
	if nilFn {
		return fmt.Errorf("durable: %s %q has a nil function", kind, name)
	}
	return nil
}

// HasOrchestrator reports whether an orchestrator is registered under name.
func (r *Registry) HasOrchestrator(name string) bool {
	_, ok := r.orchestrator(name)
	return ok
}

func (r *Registry) orchestrator(name string) (OrchestratorFunc, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	o, ok := r.orchestrators[key(name)]
	return o.fn, ok
}

func (r *Registry) activity(name string) (ActivityFunc, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.activities[key(name)]
	return a.fn, ok
}

// AddEntity registers an entity under a case-insensitive name (entity
// names are stored lowercased).
func (r *Registry) AddEntity(name string, fn EntityFunc) error {
	if err := checkName("entity", name, fn == nil); err != nil {
		return err
	}
	if strings.Contains(name, "@") {
		return fmt.Errorf("durable: entity name %q must not contain '@'", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.entities[key(name)]; dup {
		return fmt.Errorf("durable: entity %q is already registered", name)
	}
	r.entities[key(name)] = registered[EntityFunc]{name, fn}
	return nil
}

func (r *Registry) entity(name string) (EntityFunc, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entities[key(name)]
	return e.fn, ok
}
