package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserPath finds Chromium. `make test` installs Debian's package where
// it can and sets DURABLE_REQUIRE_BROWSER=1, so there a missing browser
// fails the test instead of skipping it.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DURABLE_REQUIRE_BROWSER") != "" || os.Getenv("CI") != "" {
		t.Fatal("no Chromium found: `make test` installs Debian's chromium package; or set CHROMIUM to a Chromium binary")
	}
	t.Skip("no Chromium found (make test installs it; or set CHROMIUM)")
	return ""
}

// browser starts a headless Chromium for one test and returns a context
// for chromedp actions, bounded by within.
func browser(t *testing.T, within time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath(t)),
		chromedp.NoSandbox, // root in CI containers
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// This chromedp does not know every event a newer Chromium sends; those
	// decoding complaints are noise, not failures.
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(func(string, ...any) {}))
	ctx, cancelTimeout := context.WithTimeout(ctx, within)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Run(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// screenshotDir is where the test saves its screenshots (not committed):
// DASHBOARD_SCREENSHOTS, or .screenshots/ in the repository.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("DASHBOARD_SCREENSHOTS")
	if dir == "" {
		dir = ".screenshots"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitJS polls a JavaScript expression until it is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ok bool
		err := chromedp.Run(ctx, chromedp.Evaluate(expr, &ok))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			var body string
			_ = chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById("main").innerText + "\n" + document.getElementById("flash").innerText`, &body))
			t.Fatalf("waiting for %s: %v (page: %s)", what, err, body)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestDashboardInBrowser drives the dashboard in headless Chromium against
// the real handler on Azurite, as a person would: list, filter, open an
// instance and its timeline, raise an event, terminate, signal an entity,
// look at the task hub, and check that a wrong key shows no data.
func TestDashboardInBrowser(t *testing.T) {
	ctx := browser(t, 6*time.Minute)
	const key = "s3cret"
	a := startApp(t, uniqueHub("Dash"), "DURABLE_API_KEY="+key)
	withKey := []string{"Content-Type", "application/json", "x-functions-key", key}
	start := func(name, id, input string) string {
		code, _, body := a.do("POST", "/api/orchestrators/"+name+"/"+id, input, withKey...)
		if code != http.StatusAccepted {
			t.Fatalf("start %s: %d %s", name, code, body)
		}
		return id
	}
	statusOf := func(id string) string {
		code, _, body := a.do("GET", "/runtime/webhooks/durabletask/instances/"+id, "", withKey...)
		var st statusBody
		_ = json.Unmarshal(body, &st)
		if code != 200 && code != 202 {
			t.Fatalf("status of %s: %d %s", id, code, body)
		}
		return st.RuntimeStatus
	}
	waitAPI := func(id, want string) {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for statusOf(id) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s never became %s (is %s)", id, want, statusOf(id))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	hello := start("HelloCities", "hello-1", "")
	crash := start("Crash", "crash-1", "")
	approve := start("Approval", "approval-1", `{"timeoutSeconds":600}`)
	doomed := start("Approval", "approval-2", `{"timeoutSeconds":600}`)
	if code, _, body := a.do("POST", "/runtime/webhooks/durabletask/entities/Counter/k1?op=add", "5", withKey...); code != http.StatusAccepted {
		t.Fatalf("signal: %d %s", code, body)
	}
	waitAPI(hello, "Completed")
	waitAPI(crash, "Failed")
	waitAPI(approve, "Running")
	waitAPI(doomed, "Running")

	ui := a.base + "/runtime/webhooks/durabletask/ui/"

	// A wrong key gets no data: the page asks for a key and lists nothing.
	run(t, ctx, "open with a wrong key", chromedp.Navigate(ui+"?code=wrong#/instances"))
	waitJS(t, ctx, "the 401 message", `document.body.innerText.includes("HTTP 401")`)
	var leaked bool
	run(t, ctx, "look for data", chromedp.Evaluate(`document.body.innerText.includes("hello-1") || document.body.innerText.includes("crash-1") || !!document.getElementById("instances-table")`, &leaked))
	if leaked {
		t.Fatal("a wrong key showed instance data")
	}
	var keyDialog bool
	run(t, ctx, "key dialog", chromedp.Evaluate(`document.getElementById("dialog").open && document.getElementById("dialog-title").textContent === "API key"`, &keyDialog))
	if !keyDialog {
		t.Fatal("a 401 must open the key dialog")
	}
	screenshot(t, ctx, "wrong-key")

	// The right key, given once in the URL, is kept for the tab and removed
	// from the address bar.
	run(t, ctx, "open with the key", chromedp.Navigate(ui+"?code="+key+"#/instances"))
	waitJS(t, ctx, "the instances table", `!!document.querySelector('#instances-table tr[data-instance-id="crash-1"]')`)
	var href string
	run(t, ctx, "read the URL", chromedp.Evaluate(`location.href`, &href))
	if strings.Contains(href, key) {
		t.Fatalf("the key stayed in the address bar: %s", href)
	}
	for _, id := range []string{hello, crash, approve, doomed} {
		waitJS(t, ctx, id+" listed", `!!document.querySelector('#instances-table tr[data-instance-id=`+jsString(id)+`]')`)
	}
	waitJS(t, ctx, "status counts", `document.getElementById("status-counts").innerText.includes("Failed: 1")`)
	screenshot(t, ctx, "instances")

	// Filter to Failed.
	run(t, ctx, "filter to Failed",
		chromedp.Click(`input[name="status"][value="Failed"]`, chromedp.ByQuery),
		chromedp.Click(`#apply-filters`, chromedp.ByQuery))
	waitJS(t, ctx, "only failed instances", `(() => {
		const rows = [...document.querySelectorAll('#instances-table tbody tr')];
		return rows.length === 1 && rows[0].dataset.instanceId === "crash-1" && location.hash.includes("status=Failed");
	})()`)

	// Open the failed instance: failure details and its activity on the timeline.
	run(t, ctx, "open the failed instance", chromedp.Click(`#instances-table a[href="#/instance/crash-1"]`, chromedp.ByQuery))
	waitJS(t, ctx, "the failure", `!!document.getElementById("failure") && document.getElementById("failure").innerText.includes("this activity always fails")`)
	waitJS(t, ctx, "the failed activity bar", `!!document.querySelector('#timeline .tl-row[data-label="AlwaysFails"][data-kind="fail"]')`)

	// HelloCities' timeline shows each of its three activities.
	run(t, ctx, "open HelloCities", chromedp.Navigate(ui+"#/instance/"+hello))
	waitJS(t, ctx, "three SayHello bars", `document.querySelectorAll('#timeline .tl-row[data-label="SayHello"][data-kind="ok"]').length === 3`)
	waitJS(t, ctx, "the history table", `document.querySelectorAll('#history-table tbody tr').length >= 5`)
	screenshot(t, ctx, "instance")

	// Raise an event to the waiting Approval: bad input first, which
	// changes nothing, then the real event, and the page shows Completed.
	run(t, ctx, "open the approval", chromedp.Navigate(ui+"#/instance/"+approve))
	waitJS(t, ctx, "the approval page", `document.getElementById("runtime-status") && document.getElementById("runtime-status").textContent === "Running"`)
	run(t, ctx, "raise with no name", chromedp.Click(`#act-raise`, chromedp.ByQuery), chromedp.Click(`#dialog-ok`, chromedp.ByQuery))
	waitJS(t, ctx, "the empty-name message", `document.getElementById("dialog-error").textContent.includes("must not be empty")`)
	run(t, ctx, "raise with bad JSON",
		chromedp.SendKeys(`#event-name`, "Approval", chromedp.ByQuery),
		chromedp.SendKeys(`#event-data`, "{not json", chromedp.ByQuery),
		chromedp.Click(`#dialog-ok`, chromedp.ByQuery))
	waitJS(t, ctx, "the bad-JSON message", `document.getElementById("dialog-error").textContent.includes("not valid JSON")`)
	if st := statusOf(approve); st != "Running" {
		t.Fatalf("bad input changed the instance: %s", st)
	}
	run(t, ctx, "raise the event",
		chromedp.SetValue(`#event-data`, "true", chromedp.ByQuery),
		chromedp.Click(`#dialog-ok`, chromedp.ByQuery))
	waitJS(t, ctx, "the approval completed", `document.getElementById("runtime-status") && document.getElementById("runtime-status").textContent === "Completed"`)
	waitJS(t, ctx, "the approved output", `document.body.innerText.includes('"approved"')`)
	waitJS(t, ctx, "the event on the timeline", `!!document.querySelector('#timeline .tl-row[data-label="event Approval"]')`)

	// Terminate the other one.
	run(t, ctx, "open the doomed approval", chromedp.Navigate(ui+"#/instance/"+doomed))
	waitJS(t, ctx, "its page", `document.getElementById("runtime-status") && document.getElementById("runtime-status").textContent === "Running"`)
	run(t, ctx, "terminate", chromedp.Click(`#act-terminate`, chromedp.ByQuery), chromedp.Click(`#dialog-ok`, chromedp.ByQuery))
	waitJS(t, ctx, "terminated", `document.getElementById("runtime-status") && document.getElementById("runtime-status").textContent === "Terminated"`)
	if st := statusOf(doomed); st != "Terminated" {
		t.Fatalf("terminate from the page: API says %s", st)
	}

	// Signal the Counter entity and see its state change.
	run(t, ctx, "open the entities", chromedp.Navigate(ui+"#/entities"))
	waitJS(t, ctx, "the counter listed", `!!document.querySelector('#entities-table a[href="#/entity/counter/k1"]')`)
	screenshot(t, ctx, "entities")
	run(t, ctx, "open the counter", chromedp.Click(`#entities-table a[href="#/entity/counter/k1"]`, chromedp.ByQuery))
	waitJS(t, ctx, "state 5", `document.getElementById("entity-state") && document.getElementById("entity-state").textContent.trim() === "5"`)
	run(t, ctx, "signal add 3",
		chromedp.SendKeys(`#signal-op`, "add", chromedp.ByQuery),
		chromedp.SendKeys(`#signal-input`, "3", chromedp.ByQuery),
		chromedp.Click(`#signal-send`, chromedp.ByQuery))
	waitJS(t, ctx, "state 8", `document.getElementById("entity-state") && document.getElementById("entity-state").textContent.trim() === "8"`)

	// The task hub: partitions with their owner, and the queues.
	run(t, ctx, "open the hub", chromedp.Navigate(ui+"#/hub"))
	waitJS(t, ctx, "four partitions owned", `document.querySelectorAll('#partitions-table tbody tr').length === 4 && document.getElementById("workers").innerText.trim().length > 0`)
	waitJS(t, ctx, "the work-item queue", `!!document.querySelector('#queues-table tr[data-queue$="-workitems"]')`)
	screenshot(t, ctx, "hub")

	// Dark theme, on a phone-sized window.
	run(t, ctx, "dark, narrow", chromedp.EmulateViewport(390, 844), chromedp.Navigate(ui+"#/instance/"+approve))
	waitJS(t, ctx, "the approval page", `document.getElementById("runtime-status") !== null`)
	run(t, ctx, "dark theme", chromedp.Click(`#theme-toggle`, chromedp.ByQuery))
	waitJS(t, ctx, "dark", `document.documentElement.dataset.theme === "dark"`)
	screenshot(t, ctx, "instance-dark-phone")
	t.Logf("screenshots in %s", screenshotDir(t))
}
