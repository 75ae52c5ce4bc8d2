package handler

import "testing"

func TestRequireKey(t *testing.T) {
	h := newTestRouter(nil, func(c *Config) { c.APIKey = "s3cret" })
	for _, target := range []string{"/api/durabletask/instances/x", "/runtime/webhooks/durabletask/instances/x", "/api/orchestrators/H"} {
		method := "GET"
		if target == "/api/orchestrators/H" {
			method = "POST"
		}
		wantJSONError(t, serve(h, method, target, ""), 401, "a valid key is required")
		wantJSONError(t, serve(h, method, target+"?code=wrong", ""), 401, "a valid key is required")
	}
	// The health probe needs no key.
	if rec := serve(h, "GET", "/", ""); rec.Code != 200 {
		t.Fatalf("health with a key configured: %d", rec.Code)
	}
	// With the key (header or query) the request gets through to routing:
	// an unknown management route is then the API's empty 404.
	for _, rec := range []struct{ target, hdr string }{{"/api/durabletask/nothing?code=s3cret", ""}, {"/api/durabletask/nothing", "s3cret"}} {
		r := serve(h, "GET", rec.target, "", "x-functions-key", rec.hdr)
		if r.Code != 404 || r.Body.Len() != 0 {
			t.Errorf("%s with key: %d %s", rec.target, r.Code, r.Body)
		}
	}
}
