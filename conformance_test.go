package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godurable/functions/internal/testazurite"
)

// TestNpmDurableClientConformance drives the running handler with the npm
// durable-functions DurableClient (pinned in package.json), in both of its
// URL modes, and fails on any failing client test.
func TestNpmDurableClientConformance(t *testing.T) {
	root, err := testazurite.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"legacy", "rpc"} {
		t.Run(mode, func(t *testing.T) {
			a := startApp(t, uniqueHub("Npm"+strings.ToUpper(mode[:1])))
			cmd := exec.Command("node", "--test", "--test-concurrency=1", filepath.Join(root, "conformance", "dfclient.test.js"))
			cmd.Dir = root
			cmd.Env = append(cmd.Environ(), "SERVER_URL="+a.base, "TASK_HUB="+a.hub)
			if mode == "rpc" {
				cmd.Env = append(cmd.Env, "FAST_PATH=1")
			}
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "# fail 0") {
				t.Fatalf("npm DurableClient conformance (%s mode) failed: %v\n%s", mode, err, out)
			}
			if !strings.Contains(string(out), "# pass 9") {
				t.Fatalf("expected 9 passing client tests:\n%s", out)
			}
		})
	}
}
