package oauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Loopback is the Agent of pctx auth login (RFC 8252 §7.3): it listens for the
// redirect on the loopback interface, prints the authorization URL, opens a browser
// where there is one, and accepts the address the browser ended at pasted on In, for
// a browser on another machine (a login over SSH, where the redirect to this
// machine's loopback cannot arrive).
type Loopback struct {
	// Out receives the URL and instructions; required.
	Out io.Writer
	// In, if set, is read for a pasted redirect address.
	In io.Reader
	// Browser opens the URL in the user's browser when there is one.
	Browser bool
	// ServerName names the server in the instructions.
	ServerName string
	// Path is the redirect's path; default "/callback".
	Path string
	// Timeout bounds the wait for one redirect, whatever the request's context says
	// (an SSE stream's request has none); 0 means no bound but the context's.
	Timeout time.Duration
	// open replaces OpenBrowser in tests.
	open func(string) error
}

// Begin listens on the port of the first preferred loopback redirect URI it can
// bind, else on a free port of 127.0.0.1.
func (l *Loopback) Begin(ctx context.Context, preferred []string) (Pending, error) {
	path := l.Path
	if path == "" {
		path = "/callback"
	}
	for _, p := range preferred {
		u, err := url.Parse(p)
		if err != nil || u.Scheme != "http" || u.Port() == "" || !isLoopbackHost(u.Hostname()) {
			continue
		}
		lns := listenLoopback(u.Hostname(), u.Port())
		if len(lns) > 0 {
			return l.serve(lns, p, u.EscapedPath()), nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the redirect: %w", err)
	}
	uri := "http://" + ln.Addr().String() + path
	return l.serve([]net.Listener{ln}, uri, path), nil
}

// listenLoopback binds host:port; "localhost" binds both IPv4 and IPv6 loopback,
// since a browser may resolve it to either.
func listenLoopback(host, port string) []net.Listener {
	hosts := []string{host}
	if host == "localhost" {
		hosts = []string{"127.0.0.1", "::1"}
	}
	var out []net.Listener
	for _, h := range hosts {
		if ln, err := net.Listen("tcp", net.JoinHostPort(h, port)); err == nil {
			out = append(out, ln)
		}
	}
	return out
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

type loopbackPending struct {
	l    *Loopback
	uri  string
	path string
	srv  *http.Server
	got  chan url.Values
	once sync.Once
}

func (l *Loopback) serve(lns []net.Listener, uri, path string) *loopbackPending {
	if path == "" {
		path = "/"
	}
	p := &loopbackPending{l: l, uri: uri, path: path, got: make(chan url.Values, 1)}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.handle), ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range lns {
		go func() { _ = p.srv.Serve(ln) }()
	}
	return p
}

func (p *loopbackPending) RedirectURI() string { return p.uri }

func (p *loopbackPending) Close() { _ = p.srv.Close() }

// handle takes the first request to the redirect path that carries a code or an
// error; anything else (a favicon, a scanner) gets a 404.
func (p *loopbackPending) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.URL.Path != p.path || (q.Get("code") == "" && q.Get("error") == "") {
		http.NotFound(w, r)
		return
	}
	p.deliver(q)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	msg := "You are logged in. You can close this tab and return to the terminal."
	if e := q.Get("error"); e != "" {
		msg = "The authorization server answered: " + e + " " + q.Get("error_description")
	}
	fmt.Fprintf(w, "<!doctype html><title>pctx</title><p>pctx: %s</p>\n", html.EscapeString(msg))
}

func (p *loopbackPending) deliver(q url.Values) {
	p.once.Do(func() { p.got <- q })
}

// Wait prints the URL, opens a browser if asked to, and waits for the redirect (or a
// pasted address).
func (p *loopbackPending) Wait(ctx context.Context, authURL string) (url.Values, error) {
	l := p.l
	name := l.ServerName
	if name == "" {
		name = "the server"
	}
	fmt.Fprintf(l.Out, "To log in to %s, open this URL in a browser:\n\n    %s\n\n", name, authURL)
	opened := false
	if l.Browser {
		open := l.open
		if open == nil {
			open = OpenBrowser
		}
		opened = open(authURL) == nil
	}
	if opened {
		fmt.Fprintf(l.Out, "(opened in your browser)\n")
	}
	fmt.Fprintf(l.Out, "Waiting for the browser to come back to %s ...\n", p.uri)
	if l.In != nil {
		fmt.Fprintf(l.Out, "If the browser runs on another machine (over SSH, say), the page it ends on will not load:\ncopy that page's address from the browser's address bar and paste it here.\n")
		go p.readPasted(l.In)
	}
	if l.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.Timeout)
		defer cancel()
	}
	select {
	case q := <-p.got:
		return q, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no redirect arrived: %w", ctx.Err())
	}
}

// readPasted takes the first pasted line that is an address with a code or an error.
func (p *loopbackPending) readPasted(in io.Reader) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		u, err := url.Parse(line)
		if err != nil || u.RawQuery == "" {
			continue
		}
		if q := u.Query(); q.Get("code") != "" || q.Get("error") != "" {
			p.deliver(q)
			return
		}
	}
}

// Follow is an Agent for authorization servers that approve without a user (test
// servers, the conformance suite): it requests the authorization URL itself and
// follows redirects until one points at RedirectURI, whose query it returns.
type Follow struct {
	// HTTP sends the requests; default: a client with a 30-second timeout.
	HTTP *http.Client
	// RedirectURI is registered and sent; default "http://127.0.0.1:8976/callback"
	// (nothing listens there: the redirect is read, not followed).
	RedirectURI string
}

func (f *Follow) Begin(ctx context.Context, preferred []string) (Pending, error) {
	uri := f.RedirectURI
	if uri == "" {
		uri = "http://127.0.0.1:8976/callback"
		if len(preferred) > 0 {
			uri = preferred[0]
		}
	}
	return &followPending{f: f, uri: uri}, nil
}

type followPending struct {
	f   *Follow
	uri string
}

func (p *followPending) RedirectURI() string { return p.uri }
func (p *followPending) Close()              {}

func (p *followPending) Wait(ctx context.Context, authURL string) (url.Values, error) {
	base := p.f.HTTP
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	var final *url.URL
	hc := *base
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), p.uri) {
			final = req.URL
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if final == nil {
		return nil, fmt.Errorf("the authorization endpoint answered %d without redirecting to %s", resp.StatusCode, p.uri)
	}
	return final.Query(), nil
}
