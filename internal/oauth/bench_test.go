package oauth

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/oauth/oauthtest"
)

// BenchmarkRoundTrip measures what OAuth adds to one request to a protected server once
// logged in (the token is in memory): compare "oauth" with "bearer", the same request
// with the same token set by hand.
func BenchmarkRoundTrip(b *testing.B) {
	f := oauthtest.New(b, nil)
	h := newHarness(b, f, &Follow{}, nil, config.OAuth{})
	if _, err := h.call(b.Context()); err != nil {
		b.Fatal(err)
	}
	tok, err := h.c.Token(b.Context())
	if err != nil || tok == nil {
		b.Fatal(tok, err)
	}
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	send := func(b *testing.B, hc *http.Client, header string) {
		req, _ := http.NewRequest(http.MethodPost, f.URL(), bytes.NewReader(body))
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.Run("bearer", func(b *testing.B) {
		hc := &http.Client{}
		for b.Loop() {
			send(b, hc, "Bearer "+tok.AccessToken)
		}
	})
	b.Run("oauth", func(b *testing.B) {
		for b.Loop() {
			send(b, h.hc, "")
		}
	})
}
