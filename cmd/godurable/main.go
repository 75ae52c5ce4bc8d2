// Command godurable creates a new Durable Functions app in Go:
//
//	go run github.com/godurable/functions/cmd/godurable@latest init [-module path] <dir>
//
// writes into <dir> (which must not exist or be empty) a go.mod requiring
// this module, a main.go of a few lines over package funcapp, a sample
// orchestrator (HelloCities) with its test, host.json,
// local.settings.json, the HttpStart and DurableTaskApi function folders
// the Functions host needs, and a Makefile: `make run` serves the app on
// :7071 over a local Azurite, `make test` runs its tests.
package main

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"text/template"

	"github.com/godurable/functions/funcapp"
)

//go:embed template
var files embed.FS

// defaultVersion is the version of this module a new app requires when the
// command does not run from a published version.
const defaultVersion = "v0.1.0"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "godurable:", err)
		os.Exit(2)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: godurable init [-module path] [-replace dir] [-tidy=false] <dir>

Creates a Durable Functions app in <dir>. Then: cd <dir> && make run`)
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "init" {
		usage(stderr)
		return errors.New("the only command is init")
	}
	fl := flag.NewFlagSet("init", flag.ContinueOnError)
	fl.SetOutput(stderr)
	module := fl.String("module", "", "module path of the new app (default: the folder's name)")
	replace := fl.String("replace", "", "use a local copy of github.com/godurable/functions at this folder (a replace directive)")
	tidy := fl.Bool("tidy", true, "run go mod tidy in the new app")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		usage(stderr)
		return errors.New("init takes one folder")
	}
	dir := fl.Arg(0)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if *module == "" {
		*module = filepath.Base(abs)
	}
	if *replace != "" {
		if *replace, err = filepath.Abs(*replace); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(*replace, "go.mod")); err != nil {
			return fmt.Errorf("-replace %s: no go.mod there", *replace)
		}
	}
	data := templateData{
		Module:    *module,
		HubName:   funcapp.DefaultHubName(filepath.Base(abs)),
		GoVersion: languageVersion(runtime.Version()),
		Version:   moduleVersion(),
		Replace:   filepath.ToSlash(*replace),
	}
	data.WakeUpQueue = strings.ToLower(data.HubName) + "-wakeup"
	if err := write(abs, data); err != nil {
		return err
	}
	if *tidy {
		cmd := exec.Command("go", "mod", "tidy")
		cmd.Dir, cmd.Stdout, cmd.Stderr = abs, stderr, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go mod tidy in %s: %w", dir, err)
		}
	}
	fmt.Fprintf(stdout, "created %s (module %s, task hub %s)\nnext: cd %s && make run\n", dir, data.Module, data.HubName, dir)
	return nil
}

// languageVersion turns a toolchain version (go1.26.8) into the go
// directive of a new module (1.26), so the app does not demand a patch
// release.
func languageVersion(toolchain string) string {
	v := strings.TrimPrefix(toolchain, "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i] // 26rc1 → 26
	}
	return parts[0] + "." + minor
}

type templateData struct {
	Module, HubName, GoVersion, Version, Replace string
	WakeUpQueue                                  string // the DurableWakeUp function's queue
}

// moduleVersion is the published version this command was built from, so
// an app made by `go run .../cmd/godurable@vX.Y.Z` requires vX.Y.Z.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && strings.HasPrefix(bi.Main.Version, "v") {
		return bi.Main.Version
	}
	return defaultVersion
}

// write renders the template folder into dir: files ending in .tmpl are
// Go templates (the suffix is dropped), "gitignore" becomes .gitignore.
func write(dir string, data templateData) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty", dir)
	}
	return fs.WalkDir(files, "template", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "template/")
		if rel == "gitignore" {
			rel = ".gitignore"
		}
		if strings.HasSuffix(rel, ".tmpl") {
			rel = strings.TrimSuffix(rel, ".tmpl")
			t, err := template.New(path.Base(p)).Option("missingkey=error").Parse(string(b))
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			var out bytes.Buffer
			if err := t.Execute(&out, data); err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			b = out.Bytes()
		}
		target := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
