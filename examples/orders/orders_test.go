package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godurable/functions/funcapp"
	"github.com/godurable/functions/funcapp/funcapptest"
)

// These tests run the app as the Functions host would (host.json of this
// folder, a real Azurite behind it) and drive it over HTTP only: the
// HttpStart route, the status, event and entity routes of the durable
// management API.

func TestMain(m *testing.M) { os.Exit(funcapptest.Main(m)) }

func setup(app *funcapp.App) error {
	return app.Register(ProcessOrder, ChargePayment, ShipLine, Inventory)
}

type client struct {
	t    *testing.T
	base string
}

func start(t *testing.T) *client {
	app := funcapptest.Start(t, ".", setup)
	if got := app.Config().PartitionCount; got != 2 {
		t.Fatalf("host.json partitionCount not honoured: %d", got)
	}
	return &client{t: t, base: app.URL}
}

func (c *client) do(method, url string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	if !strings.HasPrefix(url, "http") {
		url = c.base + url
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// stock adds units of sku and waits until the entity holds want.
func (c *client) stock(sku string, units, want int) {
	c.t.Helper()
	if code, b := c.do("POST", "/api/durabletask/entities/Inventory/"+sku+"?op=add", units); code != http.StatusAccepted {
		c.t.Fatalf("signal add: %d %s", code, b)
	}
	c.waitStock(sku, want)
}

func (c *client) waitStock(sku string, want int) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		code, b := c.do("GET", "/api/durabletask/entities/Inventory/"+sku, nil)
		got = strconv.Itoa(code) + " " + string(b)
		if code == http.StatusOK && string(b) == strconv.Itoa(want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("stock of %s: %s, want %d", sku, got, want)
}

// order starts ProcessOrder through HttpStart and returns its
// check-status links.
func (c *client) order(o Order) map[string]string {
	c.t.Helper()
	code, b := c.do("POST", "/api/orchestrators/ProcessOrder", o)
	if code != http.StatusAccepted {
		c.t.Fatalf("start: %d %s", code, b)
	}
	var links map[string]string
	if err := json.Unmarshal(b, &links); err != nil {
		c.t.Fatal(err)
	}
	return links
}

type status struct {
	RuntimeStatus string          `json:"runtimeStatus"`
	CustomStatus  any             `json:"customStatus"`
	Output        json.RawMessage `json:"output"`
	History       []struct {
		EventType    string `json:"EventType"`
		FunctionName string `json:"FunctionName"`
	} `json:"historyEvents"`
}

// wait polls the status URL until until holds.
func (c *client) wait(statusURL string, until func(status) bool) status {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var st status
	for time.Now().Before(deadline) {
		code, b := c.do("GET", statusURL+"&showHistory=true", nil)
		if code != http.StatusOK && code != http.StatusAccepted {
			c.t.Fatalf("status: %d %s", code, b)
		}
		st = status{}
		if err := json.Unmarshal(b, &st); err != nil {
			c.t.Fatalf("status %s: %v", b, err)
		}
		if until(st) {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("status still %+v", st)
	return st
}

func finished(st status) bool {
	return st.RuntimeStatus == "Completed" || st.RuntimeStatus == "Failed" || st.RuntimeStatus == "Terminated"
}

func result(t *testing.T, st status) Result {
	t.Helper()
	if st.RuntimeStatus != "Completed" {
		t.Fatalf("instance %s: %s", st.RuntimeStatus, st.Output)
	}
	var r Result
	if err := json.Unmarshal(st.Output, &r); err != nil {
		t.Fatalf("output %s: %v", st.Output, err)
	}
	return r
}

func TestOrderShipsAfterAPaymentRetry(t *testing.T) {
	c := start(t)
	c.stock("widget", 5, 5)
	c.stock("gadget", 1, 1)
	links := c.order(Order{ID: "small-1", Lines: []Line{{SKU: "widget", Qty: 2, Price: 10}, {SKU: "gadget", Qty: 1, Price: 20}}})
	st := c.wait(links["statusQueryGetUri"], finished)
	r := result(t, st)
	if r.Status != "shipped" || r.Payment != "pay-small-1-40.00" || strings.Join(r.Shipments, ",") != "track-widget-2,track-gadget-1" {
		t.Fatalf("result %+v", r)
	}
	// The gateway turned the first charge away; the retry policy charged again.
	failed, scheduled := 0, 0
	for _, e := range st.History {
		if e.FunctionName == "ChargePayment" {
			switch e.EventType {
			case "TaskFailed":
				failed++
			case "TaskCompleted":
				scheduled++
			}
		}
	}
	if failed != 1 || scheduled != 1 {
		t.Fatalf("ChargePayment failed %d and completed %d times; want 1 and 1; history %+v", failed, scheduled, st.History)
	}
	c.waitStock("widget", 3)
	c.waitStock("gadget", 0)
}

func TestLargeOrderShipsOnceApproved(t *testing.T) {
	c := start(t)
	c.stock("piano", 2, 2)
	links := c.order(Order{ID: "large-1", Lines: []Line{{SKU: "piano", Qty: 1, Price: 4000}}, ApprovalTimeout: "5m"})
	c.wait(links["statusQueryGetUri"], func(st status) bool { return st.CustomStatus == "awaiting approval" })
	raise := strings.Replace(links["sendEventPostUri"], "{eventName}", "Approval", 1)
	if code, b := c.do("POST", raise, true); code != http.StatusAccepted {
		t.Fatalf("raise Approval: %d %s", code, b)
	}
	r := result(t, c.wait(links["statusQueryGetUri"], finished))
	if r.Status != "shipped" || r.Payment != "pay-large-1-4000.00" {
		t.Fatalf("result %+v", r)
	}
	c.waitStock("piano", 1)
}

func TestUnapprovedOrderIsCancelledAndItsStockReturned(t *testing.T) {
	c := start(t)
	c.stock("harp", 3, 3)
	links := c.order(Order{ID: "large-2", Lines: []Line{{SKU: "harp", Qty: 2, Price: 900}}, ApprovalTimeout: "1s"})
	r := result(t, c.wait(links["statusQueryGetUri"], finished))
	if r.Status != "cancelled" || r.Reason != "not approved within 1s" || r.Payment != "" {
		t.Fatalf("result %+v", r)
	}
	c.waitStock("harp", 3)
}

func TestOrderBeyondStockIsRejected(t *testing.T) {
	c := start(t)
	c.stock("lamp", 1, 1)
	c.stock("desk", 4, 4)
	links := c.order(Order{ID: "short-1", Lines: []Line{{SKU: "desk", Qty: 2, Price: 50}, {SKU: "lamp", Qty: 3, Price: 5}}})
	r := result(t, c.wait(links["statusQueryGetUri"], finished))
	if r.Status != "rejected" || r.Reason != "out of stock: lamp" {
		t.Fatalf("result %+v", r)
	}
	c.waitStock("desk", 4) // the desks reserved are put back
	c.waitStock("lamp", 1)
}
