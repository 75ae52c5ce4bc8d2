package funcapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// durableBindingTypes are the binding types for which the Functions host
// loads the Durable Functions extension of the extension bundle.
var durableBindingTypes = []string{"orchestrationTrigger", "activityTrigger", "entityTrigger", "durableClient", "orchestrationClient"}

// DurableBindingError is returned by New (and CheckFunctionJSON) when a
// function.json of the app declares a Durable Functions binding. With one,
// the Functions host loads the bundle's Durable extension, which runs a
// .NET worker on the same storage that competes with this app for its
// task hub; this app runs its durable functions itself and declares only
// HTTP, queue and timer triggers.
type DurableBindingError struct {
	File    string // the function.json path
	Binding string // the binding's type as written
}

func (e *DurableBindingError) Error() string {
	return fmt.Sprintf("%s declares a %q binding: the Functions host would then load the Durable Functions extension, "+
		"whose own worker would compete with this app for the task hub; declare durable functions in Go only "+
		"(an httpTrigger function forwarding to the app) and remove the binding", e.File, e.Binding)
}

// CheckFunctionJSON reads every function.json in the app root's function
// folders and returns a *DurableBindingError for the first (by folder
// name) that declares a durable binding. A function.json that cannot be
// read or parsed is logged and skipped: the host reports it.
func CheckFunctionJSON(appRoot string, log *slog.Logger) error {
	files, err := filepath.Glob(filepath.Join(appRoot, "*", "function.json"))
	if err != nil {
		return fmt.Errorf("list function.json files in %s: %w", appRoot, err)
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) && log != nil {
				log.Warn("cannot read function.json", "file", f, "error", err)
			}
			continue
		}
		var fn struct {
			Bindings []struct {
				Type string `json:"type"`
			} `json:"bindings"`
		}
		if err := json.Unmarshal(data, &fn); err != nil {
			if log != nil {
				log.Warn("function.json is not valid JSON", "file", f, "error", err)
			}
			continue
		}
		for _, b := range fn.Bindings {
			for _, d := range durableBindingTypes {
				if strings.EqualFold(b.Type, d) {
					return &DurableBindingError{File: f, Binding: b.Type}
				}
			}
		}
	}
	return nil
}
