package handler

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/godurable/functions/durable"
	"github.com/godurable/functions/durable/backend"
)

// inspectable is a client with a hub view that answers a fixed HubInfo and
// records what was asked.
type inspectable struct {
	*durable.Client
	asked int
}

func (c *inspectable) InspectHub(_ context.Context, poison int) (*durable.HubInfo, error) {
	c.asked = poison
	return &durable.HubInfo{TaskHub: "TestHub", PartitionScheme: "table",
		Partitions: []backend.PartitionInfo{{Name: "testhub-control-00", CurrentOwner: "w1", ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
		Workers:    []string{"w1"},
		Queues:     []backend.QueueInfo{{Name: "testhub-workitems", Kind: "workitems", Exists: true, ApproximateMessages: 3}}}, nil
}

func TestHubRoute(t *testing.T) {
	c := &inspectable{Client: durable.NewClient(nil, nil, durable.WithTaskHubName("TestHub"))}
	h := newTestRouter(nil, func(cfg *Config) { cfg.Durable = c })
	rec := serve(h, "GET", "/runtime/webhooks/durabletask/hub?poison=5", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET hub: %d %s", rec.Code, rec.Body)
	}
	var got struct {
		TaskHub    string `json:"taskHub"`
		Partitions []struct {
			Name, CurrentOwner, ExpiresAt string
		} `json:"partitions"`
		Queues []struct {
			Name                string
			ApproximateMessages int
		} `json:"queues"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if c.asked != 5 || got.TaskHub != "TestHub" || len(got.Partitions) != 1 || got.Partitions[0].CurrentOwner != "w1" ||
		got.Partitions[0].ExpiresAt != "2026-01-02T03:04:05Z" || got.Queues[0].ApproximateMessages != 3 {
		t.Fatalf("asked %d, got %+v from %s", c.asked, got, rec.Body)
	}
	wantJSONError(t, serve(h, "GET", "/api/durabletask/hub?poison=33", ""), http.StatusBadRequest, "poison")
	if rec := serve(h, "POST", "/api/durabletask/hub", ""); rec.Code != http.StatusNotFound {
		t.Fatalf("POST hub: %d", rec.Code)
	}
}

func TestHubRouteWithoutAHubView(t *testing.T) {
	// A client over a backend with no hub view.
	wantJSONError(t, serve(newTestRouter(nil), "GET", "/runtime/webhooks/durabletask/hub", ""), http.StatusNotImplemented, "cannot be inspected")
}

func TestDashboardRoutes(t *testing.T) {
	h := newTestRouter(nil, func(cfg *Config) { cfg.APIKey = "k" })
	// The page itself holds no data, so it loads without the key; its API
	// calls need the key like any other client.
	for _, p := range []string{"/runtime/webhooks/durabletask/ui/", "/api/durabletask/ui/"} {
		if rec := serve(h, "GET", p, ""); rec.Code != http.StatusOK || rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
	if rec := serve(h, "GET", "/api/durabletask/hub", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("the API behind the page must still need the key: %d", rec.Code)
	}
	rec := serve(h, "GET", "/api/durabletask/ui?code=k", "")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/api/durabletask/ui/?code=k" {
		t.Errorf("GET .../ui: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	off := newTestRouter(nil, func(cfg *Config) { cfg.DisableDashboard = true })
	if rec := serve(off, "GET", "/runtime/webhooks/durabletask/ui/", ""); rec.Code != http.StatusNotFound {
		t.Errorf("disabled dashboard: %d", rec.Code)
	}
}
