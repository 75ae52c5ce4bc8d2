package dashboard

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestPageInlinesItsAssetsUnderANonce(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/runtime/webhooks/durabletask/ui/", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, leftover := range []string{"{{NONCE}}", "/*APP_JS*/", "/*APP_CSS*/"} {
		if strings.Contains(body, leftover) {
			t.Errorf("page still holds %s", leftover)
		}
	}
	m := regexp.MustCompile(`<script nonce="([A-Za-z0-9_-]{22})">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no nonce'd inline script in the page")
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'nonce-"+m[1]+"'") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q does not allow exactly the page's own script", csp)
	}
	if !strings.Contains(body, `<style nonce="`+m[1]+`">`) || !strings.Contains(body, "function route()") {
		t.Error("styles or script missing from the page")
	}
	for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := rec.Header().Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	// Each answer has a fresh nonce.
	rec2 := httptest.NewRecorder()
	h.ServeHTTP(rec2, httptest.NewRequest(http.MethodGet, "/ui/", nil))
	if rec2.Header().Get("Content-Security-Policy") == csp {
		t.Error("two answers share a nonce")
	}
}

func TestPageRefusesOtherMethods(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/ui/", strings.NewReader("x")))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/ui/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: %d with %d bytes", rec.Code, rec.Body.Len())
	}
}
