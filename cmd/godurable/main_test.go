package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godurable/functions/internal/testazurite"
	"github.com/godurable/functions/internal/testsupport"
)

func TestMain(m *testing.M) { os.Exit(testazurite.Main(m)) }

// The new app's function folders and local settings are the project's own.
func TestTemplateFoldersMatchTheProject(t *testing.T) {
	root, err := testazurite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"HttpStart/function.json", "DurableTaskApi/function.json", "local.settings.json"} {
		want, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := files.ReadFile("template/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("template/%s differs from the project's %s", f, f)
		}
	}
}

// init writes an app that builds, starts as the Functions host starts it,
// serves HelloCities over HTTP and stops cleanly on SIGTERM.
func TestInitWritesAnAppThatBuildsAndServes(t *testing.T) {
	root, err := testazurite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "my-orders")
	var out, errOut bytes.Buffer
	if err := run([]string{"init", "-module", "example.com/myorders", "-replace", root, dir}, &out, &errOut); err != nil {
		t.Fatalf("init: %v\n%s", err, errOut.String())
	}
	for _, f := range []string{"go.mod", "go.sum", "main.go", "hello.go", "hello_test.go", "host.json", "local.settings.json",
		"HttpStart/function.json", "DurableTaskApi/function.json", "DurableWakeUp/function.json", "Makefile", "package.json", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	host, _ := os.ReadFile(filepath.Join(dir, "host.json"))
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !json.Valid(host) || !strings.Contains(string(host), `"hubName": "myorders"`) ||
		!strings.Contains(string(gomod), "module example.com/myorders") || !strings.Contains(string(gomod), "=> "+filepath.ToSlash(root)) {
		t.Fatalf("host.json:\n%s\ngo.mod:\n%s", host, gomod)
	}
	if main, _ := os.ReadFile(filepath.Join(dir, "main.go")); strings.Count(string(main), "\n") > 15 {
		t.Errorf("main.go has %d lines:\n%s", strings.Count(string(main), "\n"), main)
	}

	build := exec.Command("go", "build", "-o", "app", ".")
	build.Dir = dir
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	port, err := testazurite.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	app := exec.Command(filepath.Join(dir, "app"))
	app.Dir = dir
	app.Env = append(os.Environ(), "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port), "FUNCTIONS_APP_ROOT_PATH="+dir,
		"FUNCTIONS_WORKER_RUNTIME=custom", "AzureWebJobsStorage="+testazurite.Shared(t).ConnectionString())
	var logs testsupport.SyncBuffer
	app.Stdout, app.Stderr = &logs, &logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- app.Wait() }()
	t.Cleanup(func() {
		_ = app.Process.Kill()
		if t.Failed() {
			t.Logf("app output:\n%s", logs.String())
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(25 * time.Millisecond) {
		if resp, err = http.Post(base+"/api/orchestrators/HelloCities", "application/json", nil); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("app not listening: %v", err)
		}
	}
	var links map[string]string
	err = json.NewDecoder(resp.Body).Decode(&links)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %d %v", resp.StatusCode, err)
	}
	body := ""
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(body, `"runtimeStatus":"Completed"`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("status: %s", body)
		}
		resp, err := http.Get(links["statusQueryGetUri"])
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	if !strings.Contains(body, `"output":["Hello Tokyo!","Hello Seattle!","Hello London!"]`) {
		t.Fatalf("status: %s", body)
	}
	_ = app.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("app did not stop within 20s of SIGTERM")
	}
}

func TestInitRefusesAFolderInUse(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := run([]string{"init", "-tidy=false", dir}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the folder was written to: %d entries", len(entries))
	}
	if err := run([]string{"serve"}, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "usage") {
		t.Fatalf("unknown command: %v %q", err, errOut.String())
	}
}

func TestLanguageVersion(t *testing.T) {
	for in, want := range map[string]string{"go1.26.8": "1.26", "go1.27": "1.27", "go1.27rc1": "1.27"} {
		if got := languageVersion(in); got != want {
			t.Errorf("languageVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
