// Package storageproxy is a fault- and latency-injecting HTTP proxy for an
// Azure Storage account (or Azurite). It sits between the storage clients
// and the three service endpoints and, per request, adds a delay with
// jitter and, at a configurable rate, one of four faults:
//
//   - Busy: answers 503 ServerBusy without forwarding (nothing applied);
//   - AfterApply: forwards, then answers 500 InternalError (applied);
//   - Hold: forwards, then holds the response until the client gives up
//     (applied, the client times out);
//   - Reset: forwards, sends the status line, headers and half the body,
//     then resets the connection (applied, the body read fails); an
//     answer without a body is reset before anything is sent;
//   - Late (on request only): holds the request until the client gives
//     up, then forwards it (applied after the client saw it fail).
//
// Faults can be limited to one kind of operation (Only: "queue.enqueue",
// "table.batch", "table", ...). The tests of the storage backend and the
// chaos runs use it; it is not meant for production traffic.
package storageproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is one kind of injected failure.
type Fault int

// The faults the proxy injects.
const (
	Busy       Fault = iota // 503 ServerBusy, request not forwarded
	AfterApply              // forwarded and applied, then 500 InternalError
	Hold                    // forwarded and applied, response held past the client timeout
	Reset                   // forwarded and applied, connection reset mid-response
	// Late holds the request until the client gives up and only then
	// forwards it: applied after the client saw it fail. (Not in
	// AllFaults: ask for it by name.)
	Late
	numFaults
)

// AllFaults lists the four usual fault kinds.
var AllFaults = []Fault{Busy, AfterApply, Hold, Reset}

func (f Fault) String() string {
	switch f {
	case Busy:
		return "busy"
	case AfterApply:
		return "500-after-apply"
	case Hold:
		return "hold"
	case Reset:
		return "reset"
	case Late:
		return "late"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Config is what the proxy does to requests. The zero value forwards
// everything untouched.
type Config struct {
	// Latency is added before each request is forwarded, varied by up to
	// ±Jitter (uniformly).
	Latency, Jitter time.Duration
	// Rate is the probability (0..1) that a request gets a fault.
	Rate float64
	// Faults are the kinds chosen from (uniformly); empty means all.
	Faults []Fault
	// Only limits faults to operations whose kind (see Op) equals Only or
	// starts with Only + "."; "" means every operation.
	Only string
	// HoldFor caps how long a Hold fault keeps the response back when the
	// client does not give up first (default 2 minutes).
	HoldFor time.Duration
	// Limit stops injecting after this many faults (0: no limit); Set
	// starts the count again.
	Limit int
	// Observe, when set, is called with each request and its body before
	// it is forwarded (a bench counts the requests by kind with it). It
	// must not keep either.
	Observe func(r *http.Request, body []byte)
}

// Proxy fronts the blob, queue and table endpoints of one account.
type Proxy struct {
	cfg       atomic.Pointer[Config]
	servers   []*http.Server
	listeners []net.Listener
	endpoints map[string]string // service → proxy base URL
	conn      string
	client    *http.Client

	mu       sync.Mutex
	injected int // faults since the last Set
	requests map[string]int
	faults   map[string]map[Fault]int
	rng      *rand.Rand
}

// Start parses an account-key connection string with explicit
// BlobEndpoint, QueueEndpoint and TableEndpoint (as Azurite's), starts a
// loopback listener for each and returns the proxy. ConnectionString is
// the same account through the proxy.
func Start(connectionString string, cfg Config) (*Proxy, error) {
	p := &Proxy{endpoints: map[string]string{}, requests: map[string]int{}, faults: map[string]map[Fault]int{},
		rng:    rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 512, IdleConnTimeout: 90 * time.Second}}}
	p.Set(cfg)
	var parts []string
	for _, part := range strings.Split(connectionString, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		service := strings.TrimSuffix(strings.ToLower(k), "endpoint")
		if service == "blob" || service == "queue" || service == "table" {
			front, err := p.listen(service, v)
			if err != nil {
				_ = p.Close()
				return nil, err
			}
			parts = append(parts, k+"="+front)
			continue
		}
		parts = append(parts, part)
	}
	if len(p.endpoints) != 3 {
		_ = p.Close()
		return nil, errors.New("storageproxy: the connection string needs BlobEndpoint, QueueEndpoint and TableEndpoint")
	}
	p.conn = strings.Join(parts, ";") + ";"
	return p, nil
}

func (p *Proxy) listen(service, upstream string) (string, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("storageproxy: %s endpoint %q is not a URL", service, upstream)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("storageproxy: listen for %s: %w", service, err)
	}
	srv := &http.Server{Handler: &handler{p: p, service: service, upstream: u}, ReadHeaderTimeout: 10 * time.Second}
	p.servers = append(p.servers, srv)
	p.listeners = append(p.listeners, ln)
	go func() { _ = srv.Serve(ln) }()
	front := "http://" + ln.Addr().String() + u.Path
	p.endpoints[service] = front
	return front, nil
}

// ConnectionString is the account's connection string through the proxy.
func (p *Proxy) ConnectionString() string { return p.conn }

// Set replaces the configuration; it applies to requests that arrive
// afterwards.
func (p *Proxy) Set(cfg Config) {
	if cfg.HoldFor <= 0 {
		cfg.HoldFor = 2 * time.Minute
	}
	if len(cfg.Faults) == 0 {
		cfg.Faults = AllFaults
	}
	p.mu.Lock()
	p.injected = 0
	p.cfg.Store(&cfg)
	p.mu.Unlock()
}

// Config returns the current configuration.
func (p *Proxy) Config() Config { return *p.cfg.Load() }

// Close stops the listeners and drops open connections.
func (p *Proxy) Close() error {
	var errs []error
	for _, s := range p.servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Stats counts requests and injected faults by operation kind.
type Stats struct {
	Requests map[string]int
	Faults   map[string]map[Fault]int
}

// TotalFaults is the number of faults injected, by kind.
func (s Stats) TotalFaults() map[Fault]int {
	out := map[Fault]int{}
	for _, byKind := range s.Faults {
		for f, n := range byKind {
			out[f] += n
		}
	}
	return out
}

// TotalRequests is the number of requests seen.
func (s Stats) TotalRequests() int {
	n := 0
	for _, v := range s.Requests {
		n += v
	}
	return n
}

// Stats returns a copy of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Requests: map[string]int{}, Faults: map[string]map[Fault]int{}}
	for k, v := range p.requests {
		s.Requests[k] = v
	}
	for k, m := range p.faults {
		s.Faults[k] = map[Fault]int{}
		for f, n := range m {
			s.Faults[k][f] = n
		}
	}
	return s
}

// decide draws the delay and the fault (-1 for none) of one request.
func (p *Proxy) decide(op string) (time.Duration, Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cfg := p.cfg.Load()
	p.requests[op]++
	delay := cfg.Latency
	if cfg.Jitter > 0 {
		delay += time.Duration((p.rng.Float64()*2 - 1) * float64(cfg.Jitter))
	}
	fault := Fault(-1)
	if cfg.Rate > 0 && matches(op, cfg.Only) && (cfg.Limit == 0 || p.injected < cfg.Limit) && p.rng.Float64() < cfg.Rate {
		p.injected++
		fault = cfg.Faults[p.rng.IntN(len(cfg.Faults))]
		if p.faults[op] == nil {
			p.faults[op] = map[Fault]int{}
		}
		p.faults[op][fault]++
	}
	return max(delay, 0), fault
}

func matches(op, only string) bool {
	return only == "" || op == only || strings.HasPrefix(op, only+".")
}

// Op names the storage operation of a request: "queue.enqueue",
// "queue.dequeue", "queue.peek", "queue.update", "queue.delete",
// "queue.create", "table.batch", "table.insert", "table.get",
// "table.query", "table.merge", "table.update", "table.delete",
// "table.create", "blob.get", "blob.put", "blob.delete", or
// "{service}.other".
func Op(service, method string, u *url.URL) string {
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) > 0 && strings.HasPrefix(segs[0], "devstoreaccount") {
		segs = segs[1:] // Azurite puts the account in the path
	}
	q := u.Query()
	switch service {
	case "queue":
		switch {
		case len(segs) == 2 && segs[1] == "messages":
			switch method {
			case http.MethodPost:
				return "queue.enqueue"
			case http.MethodGet:
				if strings.EqualFold(q.Get("peekonly"), "true") {
					return "queue.peek"
				}
				return "queue.dequeue"
			case http.MethodDelete:
				return "queue.clear"
			}
		case len(segs) == 3 && segs[1] == "messages":
			switch method {
			case http.MethodPut:
				return "queue.update"
			case http.MethodDelete:
				return "queue.delete"
			}
		case len(segs) == 1 && method == http.MethodPut:
			return "queue.create"
		}
		return "queue.other"
	case "table":
		first := ""
		if len(segs) > 0 {
			first = segs[0]
		}
		switch {
		case first == "$batch":
			return "table.batch"
		case strings.HasPrefix(first, "Tables"):
			if method == http.MethodPost {
				return "table.create"
			}
			return "table.other"
		}
		switch method {
		case http.MethodPost:
			return "table.insert"
		case http.MethodGet:
			if strings.Contains(first, "PartitionKey=") {
				return "table.get"
			}
			return "table.query"
		case "MERGE", http.MethodPatch:
			return "table.merge"
		case http.MethodPut:
			return "table.update"
		case http.MethodDelete:
			return "table.delete"
		}
		return "table.other"
	case "blob":
		if q.Get("comp") != "" || len(segs) < 2 {
			return "blob.other"
		}
		switch method {
		case http.MethodGet, http.MethodHead:
			return "blob.get"
		case http.MethodPut:
			return "blob.put"
		case http.MethodDelete:
			return "blob.delete"
		}
		return "blob.other"
	}
	return service + ".other"
}

type handler struct {
	p        *Proxy
	service  string
	upstream *url.URL
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := Op(h.service, r.Method, r.URL)
	delay, fault := h.p.decide(op)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	in, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away
	}
	if observe := h.p.cfg.Load().Observe; observe != nil {
		observe(r, in)
	}
	if fault == Busy {
		h.writeError(w, http.StatusServiceUnavailable, "ServerBusy", "The server is busy (injected by storageproxy).")
		return
	}
	if fault == Late {
		t := time.NewTimer(h.p.cfg.Load().HoldFor)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		time.Sleep(300 * time.Millisecond) // after the client's own next step, typically
		_, _, _ = h.forward(r, in)
		panic(http.ErrAbortHandler)
	}
	resp, body, err := h.forward(r, in)
	if err != nil {
		h.writeError(w, http.StatusBadGateway, "ProxyError", err.Error())
		return
	}
	switch fault {
	case AfterApply:
		h.writeError(w, http.StatusInternalServerError, "InternalError", "The server encountered an internal error (injected by storageproxy after the operation was applied).")
		return
	case Hold:
		t := time.NewTimer(h.p.cfg.Load().HoldFor)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		panic(http.ErrAbortHandler) // drop the connection without an answer
	}
	if fault == Reset && len(body) == 0 {
		resetConnection(w) // nothing to cut in half: reset before the answer
		return
	}
	copyHeader(w.Header(), resp.Header)
	if fault == Reset {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body[:len(body)/2])
		resetConnection(w)
		return
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// forward sends the request upstream and reads the whole response.
func (h *handler) forward(r *http.Request, in []byte) (*http.Response, []byte, error) {
	u := *h.upstream
	u.Path = r.URL.Path
	u.RawPath = r.URL.RawPath
	u.RawQuery = r.URL.RawQuery
	// The forwarded request must complete even if the client gives up:
	// the fault is about the answer, not about whether it was applied.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(in))
	if err != nil {
		return nil, nil, err
	}
	copyHeader(out.Header, r.Header)
	out.ContentLength = int64(len(in))
	resp, err := h.p.client.Do(out)
	if err != nil {
		return nil, nil, fmt.Errorf("forward %s: %w", r.Method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read upstream response: %w", err)
	}
	return resp, body, nil
}

func (h *handler) writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("x-ms-error-code", code)
	if h.service == "table" {
		w.Header().Set("Content-Type", "application/json;odata=minimalmetadata")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"odata.error":{"code":%q,"message":{"lang":"en-US","value":%q}}}`, code, msg)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		switch strings.ToLower(k) {
		case "connection", "keep-alive", "transfer-encoding", "content-length", "upgrade":
			continue
		}
		dst[k] = append([]string(nil), vs...)
	}
}

// resetConnection flushes what was written and closes the connection with
// a TCP reset.
func resetConnection(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
