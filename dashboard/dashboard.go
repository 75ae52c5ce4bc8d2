// Package dashboard is the browser dashboard the handler serves at
// {base}/ui/ beside the Durable Functions management API: instances with
// filters, paging and bulk actions; one instance's status, history
// timeline and commands; entities; and the task hub's partitions, queues
// and poison messages.
//
// The page is one HTML document with its script and styles inlined (the
// assets are embedded with go:embed; nothing is fetched from elsewhere),
// so behind the Functions host, where every request under the API's
// function route needs a key, a single request with ?code= loads it. The
// script then keeps the key in the tab's sessionStorage, removes it from
// the address bar, and sends it as the x-functions-key header on each API
// call. The page itself holds no data: every read and every action is a
// call to the management API, under the same key rules as any other
// client.
package dashboard

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"net/http"
	"strings"
)

//go:embed assets/index.html assets/app.css assets/app.js
var assets embed.FS

// page is index.html with the styles and script inlined, split at the
// nonce placeholders.
var page = func() []string {
	read := func(name string) string {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			panic("dashboard: embedded asset missing: " + name)
		}
		return string(b)
	}
	html := read("index.html")
	html = strings.Replace(html, "/*APP_CSS*/", read("app.css"), 1)
	html = strings.Replace(html, "/*APP_JS*/", read("app.js"), 1)
	return strings.Split(html, "{{NONCE}}")
}()

// Handler serves the dashboard page for GET and HEAD requests. The page
// finds the management API from its own URL: the path before /ui/.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		nonce := newNonce()
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+
			"'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write([]byte(strings.Join(page, nonce)))
	})
}

func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
