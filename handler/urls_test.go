package handler

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"

	"github.com/godurable/functions/durable"
)

func urlServer(mutate ...func(*Config)) *server {
	cfg := Config{Durable: durable.NewClient(nil, nil, durable.WithTaskHubName("My Hub"))}
	for _, m := range mutate {
		m(&cfg)
	}
	return &server{cfg: cfg.withDefaults()}
}

// All nine URLs, as Durable Functions builds them (GetClientResponseLinks),
// with the id path-escaped and the hub query-escaped.
func TestCheckStatusPayload(t *testing.T) {
	s := urlServer()
	req := httptest.NewRequest("POST", "http://localhost:7071/api/orchestrators/HelloCities", nil)
	inst := "http://localhost:7071/api/durabletask/instances/a%20b%2Fc%3F"
	q := "taskHub=My+Hub&connection=Storage"
	want := checkStatus{
		ID:                    "a b/c?",
		StatusQueryGetURI:     inst + "?" + q,
		SendEventPostURI:      inst + "/raiseEvent/{eventName}?" + q,
		TerminatePostURI:      inst + "/terminate?reason={text}&" + q,
		RewindPostURI:         inst + "/rewind?reason={text}&" + q,
		PurgeHistoryDeleteURI: inst + "?" + q,
		RestartPostURI:        inst + "/restart?" + q,
		SuspendPostURI:        inst + "/suspend?reason={text}&" + q,
		ResumePostURI:         inst + "/resume?reason={text}&" + q,
	}
	if got := s.checkStatusFor(req, "a b/c?"); got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// A configured key rides along as code.
	s = urlServer(func(c *Config) { c.APIKey = "k&y"; c.ConnectionName = "MyStorage" })
	if got := s.checkStatusFor(req, "i").StatusQueryGetURI; got != "http://localhost:7071/api/durabletask/instances/i?taskHub=My+Hub&connection=MyStorage&code=k%26y" {
		t.Fatalf("with key: %s", got)
	}
}

func TestLinkBaseFollowsTheRequest(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    func(*Config)
		target string
		want   string
	}{
		{"HttpStart links to the forwarded API", nil, "http://h/api/orchestrators/H", "http://h/api/durabletask"},
		{"the webhook base links to itself", nil, "http://h/runtime/webhooks/durabletask/orchestrators/H", "http://h/runtime/webhooks/durabletask"},
		{"the forwarded base links to itself", nil, "http://h/api/durabletask/orchestrators/H", "http://h/api/durabletask"},
		{"base paths match case-insensitively", nil, "http://h/Runtime/Webhooks/DurableTask/instances/x", "http://h/runtime/webhooks/durabletask"},
		{"a longer segment is not the base", nil, "http://h/runtime/webhooks/durabletaskX/orchestrators/H", "http://h/api/durabletask"},
		{"another route prefix", func(c *Config) { c.RoutePrefix = "/fn/" }, "http://h/fn/orchestrators/H", "http://h/fn/durabletask"},
		{"no route prefix", func(c *Config) { c.RoutePrefix = "/" }, "http://h/orchestrators/H", "http://h/durabletask"},
		{"configured bases", func(c *Config) { c.ManagementPaths = []string{"/runtime/webhooks/durabletask", "/mgmt/"} }, "http://h/api/orchestrators/H", "http://h/mgmt"},
		{"only the webhook base", func(c *Config) { c.ManagementPaths = []string{"/runtime/webhooks/durabletask"} }, "http://h/api/orchestrators/H", "http://h/runtime/webhooks/durabletask"},
	} {
		var mutate []func(*Config)
		if c.cfg != nil {
			mutate = append(mutate, c.cfg)
		}
		if got := urlServer(mutate...).apiBase(httptest.NewRequest("POST", c.target, nil)); got != c.want {
			t.Errorf("%s: %s; want %s", c.name, got, c.want)
		}
	}
}

func TestOriginHonoursProxies(t *testing.T) {
	for _, c := range []struct {
		name   string
		hdr    []string
		tls    bool
		public string
		want   string
	}{
		{"the request's own host", nil, false, "", "http://127.0.0.1:5000"},
		{"TLS", nil, true, "", "https://127.0.0.1:5000"},
		{"X-Forwarded-*", []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "myapp.azurewebsites.net, proxy"}, false, "", "https://myapp.azurewebsites.net"},
		{"Forwarded", []string{"Forwarded", `for=1.2.3.4;proto=https;host="front.example:8443", for=5.6.7.8;host=inner`}, false, "", "https://front.example:8443"},
		{"X-Forwarded-* wins over Forwarded", []string{"Forwarded", "proto=http;host=a", "X-Forwarded-Host", "b"}, false, "", "http://b"},
		{"only the proto", []string{"X-Forwarded-Proto", "HTTPS"}, false, "", "https://127.0.0.1:5000"},
		{"hostile values are ignored", []string{"X-Forwarded-Proto", "javascript", "X-Forwarded-Host", "evil.example/path", "Forwarded", "host=a@b"}, false, "", "http://127.0.0.1:5000"},
		{"the configured public URL wins", []string{"X-Forwarded-Host", "b"}, false, "https://configured.example/", "https://configured.example"},
	} {
		req := httptest.NewRequest("GET", "http://127.0.0.1:5000/api/x", nil)
		for i := 0; i+1 < len(c.hdr); i += 2 {
			req.Header.Set(c.hdr[i], c.hdr[i+1])
		}
		if c.tls {
			req.TLS = &tls.ConnectionState{}
		}
		s := urlServer(func(cfg *Config) { cfg.PublicBaseURL = c.public })
		if got := s.origin(req); got != c.want {
			t.Errorf("%s: %s; want %s", c.name, got, c.want)
		}
	}
}
