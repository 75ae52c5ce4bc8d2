package handler

import (
	"fmt"
	"testing"
)

func TestConfigDefaults(t *testing.T) {
	for _, c := range []struct {
		in     Config
		prefix string
		paths  []string
	}{
		{Config{}, "api", []string{WebhookBasePath, "/api/durabletask"}},
		{Config{RoutePrefix: "/fn/"}, "fn", []string{WebhookBasePath, "/fn/durabletask"}},
		{Config{RoutePrefix: "/"}, "", []string{WebhookBasePath, "/durabletask"}},
		{Config{ManagementPaths: []string{"mgmt/", "/", "/runtime/webhooks/durabletask/"}}, "api", []string{"/mgmt", WebhookBasePath}},
	} {
		got := c.in.withDefaults()
		if got.RoutePrefix != c.prefix || fmt.Sprint(got.ManagementPaths) != fmt.Sprint(c.paths) ||
			got.ConnectionName != "Storage" || got.MaxBodyBytes != 8<<20 || got.Logger == nil {
			t.Errorf("%+v → prefix %q, paths %v, %q %d", c.in, got.RoutePrefix, got.ManagementPaths, got.ConnectionName, got.MaxBodyBytes)
		}
	}
}

// The routes move with the route prefix and the configured bases.
func TestRoutesFollowConfig(t *testing.T) {
	f := &outcomeDurable{startID: "x"}
	h := New(Config{Durable: f, Logger: quietLogger(), RoutePrefix: "/", ManagementPaths: []string{"/mgmt"}})
	if rec := serve(h, "POST", "/orchestrators/H", ""); rec.Code != 202 || rec.Header().Get("Location") != "http://example.com/mgmt/instances/x?taskHub=TestHub&connection=Storage" {
		t.Fatalf("HttpStart without prefix: %d %s %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if rec := serve(h, "POST", "/mgmt/orchestrators/H", ""); rec.Code != 202 {
		t.Fatalf("start under /mgmt: %d", rec.Code)
	}
	for _, gone := range []string{"/api/orchestrators/H", "/runtime/webhooks/durabletask/orchestrators/H"} {
		if rec := serve(h, "POST", gone, ""); rec.Code != 404 {
			t.Errorf("%s is still served: %d", gone, rec.Code)
		}
	}
}
