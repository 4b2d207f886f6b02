package oauth

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/pctxlog"
)

func TestLoopbackRedirect(t *testing.T) {
	var out pctxlog.Buffer
	var opened []string
	l := &Loopback{Out: &out, Browser: true, ServerName: "gh", open: func(u string) error { opened = append(opened, u); return nil }}
	p, err := l.Begin(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.RedirectURI(), "http://127.0.0.1:") || !strings.HasSuffix(p.RedirectURI(), "/callback") {
		t.Fatalf("redirect URI %s", p.RedirectURI())
	}
	got := make(chan map[string][]string, 1)
	go func() {
		q, err := p.Wait(ctxT(t), "https://as.example/authorize?x=1")
		if err != nil {
			t.Error(err)
		}
		got <- q
	}()
	// Stray requests are turned away; the real redirect is taken.
	for _, u := range []string{"/favicon.ico", "/callback", "/callback?code=c1&state=s1"} {
		resp, err := http.Get(strings.TrimSuffix(p.RedirectURI(), "/callback") + u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := u == "/callback?code=c1&state=s1"; (resp.StatusCode == 200) != want {
			t.Errorf("%s: %d %s", u, resp.StatusCode, body)
		}
	}
	q := <-got
	if q["code"][0] != "c1" || q["state"][0] != "s1" {
		t.Errorf("query %v", q)
	}
	if len(opened) != 1 || !strings.Contains(out.String(), "    https://as.example/authorize?x=1\n") || !strings.Contains(out.String(), "To log in to gh") {
		t.Errorf("opened %v; output:\n%s", opened, out.String())
	}
}

func TestLoopbackPasteAndPreferredPort(t *testing.T) {
	// Find a free port, then prefer it as a registered redirect URI would.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	preferred := "http://localhost:" + itoa(port) + "/cb"
	pr, pw := io.Pipe()
	l := &Loopback{Out: io.Discard, In: pr}
	p, err := l.Begin(ctxT(t), []string{"https://not-loopback.example/cb", preferred})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.RedirectURI() != preferred {
		t.Fatalf("redirect %s, want the preferred %s", p.RedirectURI(), preferred)
	}
	go func() {
		io.WriteString(pw, "not a url\nhttp://localhost:"+itoa(port)+"/cb?code=pasted&state=s\n")
	}()
	q, err := p.Wait(ctxT(t), "https://as.example/authorize")
	if err != nil || q.Get("code") != "pasted" {
		t.Fatalf("pasted: %v, %v", q, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
