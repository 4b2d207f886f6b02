package oauth_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pctx-dev/pctx/internal/keyring"
	"github.com/pctx-dev/pctx/internal/oauth"
	"github.com/pctx-dev/pctx/internal/oauth/oauthtest"
)

// A Client's Transport makes an OAuth-protected server usable like any other: the first
// request's 401 leads to discovery, registration and an authorization (here through
// Follow, as the test server approves without a user), and the request is sent again.
func Example() {
	as := oauthtest.NewServer(nil)
	defer as.Close()
	c, err := oauth.New(oauth.Options{
		ServerName: "demo",
		ServerURL:  as.URL(),
		Store:      oauth.NewStore(keyring.NewMemory()),
		Agent:      &oauth.Follow{}, // nil in a running server: a *LoginRequiredError instead
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	hc := &http.Client{Transport: c.Transport(nil)}
	resp, err := hc.Post(as.URL(), "application/json", strings.NewReader(`{}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	st, _ := c.Status()
	fmt.Println(st.LoggedIn, st.Refreshable, st.Client)
	// Output:
	// 200 {"ok":true,"scopes":""}
	// true true dynamic
}
