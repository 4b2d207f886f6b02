package upstream

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
)

// TestWithCatalog registers into the real catalog: names as the agent sees
// them, unavailable servers in the listing, and a namespace another owner
// holds.
func TestWithCatalog(t *testing.T) {
	c := catalog.New()
	if err := c.Put("sdk:worker", catalog.Namespace{Name: "taken"}); err != nil {
		t.Fatal(err)
	}
	missing := fakeConfig(t, "missing", "basic")
	missing.Command = "/nonexistent/pctx-no-such-server"
	m, logs := startManager(t, c, testTuning, fakeConfig(t, "fake-server", "basic"), missing, fakeConfig(t, "taken", "basic"))

	byName := map[string]catalog.NamespaceInfo{}
	for _, ns := range c.Snapshot().Namespaces() {
		byName[ns.Original] = ns
	}
	fake := byName["fake-server"]
	if fake.Owner != "upstream:fake-server" || fake.Unavailable != "" || len(fake.Functions) != 15 {
		t.Fatalf("fake-server = %+v", fake)
	}
	if _, ok := c.Snapshot().Functions()[fake.Name+".add"]; !ok {
		t.Fatalf("no function %s.add in %v", fake.Name, c.Snapshot().Functions())
	}
	if !strings.Contains(byName["missing"].Unavailable, "no such file or directory") {
		t.Fatalf("missing = %+v", byName["missing"])
	}
	if list := c.Snapshot().List(catalog.ListOptions{}); !strings.Contains(list, "missing: unavailable") {
		t.Fatalf("listing does not show the unavailable server:\n%s", list)
	}
	if byName["taken"].Owner != "sdk:worker" {
		t.Fatalf("taken = %+v", byName["taken"])
	}
	if st := statusOf(m, "taken"); !strings.Contains(st.LastError, "namespace taken") || !strings.Contains(logs.String(), "cannot register namespace") {
		t.Fatalf("status = %+v", st)
	}

	m.Close()
	for _, ns := range c.Snapshot().Namespaces() {
		if strings.HasPrefix(ns.Owner, "upstream:") {
			t.Fatalf("%s still registered after Close", ns.Original)
		}
	}
	if _, err := m.servers[0].call(t.Context(), "add", nil); !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("call after Close: %v", err)
	}
}

// TestNamespaceCollision: server names that sanitise to one namespace do not
// race for it; the first in name order gets it and the others never start.
func TestNamespaceCollision(t *testing.T) {
	tests := []struct{ winner, loser, ns string }{
		{"my-srv", "my_srv", "my_srv"},
		{"1a", "_1a", catalog.NamespaceName("1a")},
	}
	for _, tt := range tests {
		t.Run(tt.winner+"/"+tt.loser, func(t *testing.T) {
			c := catalog.New()
			loser := fakeConfig(t, tt.loser, "basic")
			loser.Command = "/nonexistent/pctx-never-started"
			m, logs := startManager(t, c, testTuning, fakeConfig(t, tt.winner, "basic"), loser)
			want := `namespace "` + tt.ns + `" is already used by server "` + tt.winner + `"`
			if st := statusOf(m, tt.loser); st.State != StateUnavailable || st.LastError != want {
				t.Fatalf("%s status = %+v, want unavailable: %s", tt.loser, st, want)
			}
			if st := statusOf(m, tt.winner); st.State != StateReady {
				t.Fatalf("%s status = %+v", tt.winner, st)
			}
			infos := c.Snapshot().Namespaces()
			if len(infos) != 1 || infos[0].Owner != "upstream:"+tt.winner || infos[0].Name != tt.ns {
				t.Fatalf("namespaces = %+v", infos)
			}
			if !strings.Contains(logs.String(), `msg="upstream: not started" upstream=`+tt.loser) {
				t.Fatalf("log does not say why %s did not start:\n%s", tt.loser, logs)
			}
		})
	}
}

// TestCallTimeoutsReplaceTheServers: an execution's per-call limit (the published
// client's tool_timeout_secs) bounds upstream calls in place of the server's own timeout,
// shorter or longer, and the error names the function and the limit.
func TestCallTimeoutsReplaceTheServers(t *testing.T) {
	c := catalog.New()
	short := fakeConfig(t, "short", "basic")
	short.Timeout = 200 * time.Millisecond
	startManager(t, c, testTuning, short, fakeConfig(t, "long", "basic")) // long: the 60 s default
	fns := c.Snapshot().Named(catalog.NamingCamel).Functions()
	for _, fn := range []string{"Short.hang", "Long.hang"} {
		ctx := catalog.WithCallTimeouts(context.Background(), catalog.CallTimeouts{Default: catalog.ClampCallTimeout(1)})
		_, err := fns[fn](ctx, nil)
		if want := fn + ": call timed out after 1s (the per-call limit tool_timeout_secs = 1)"; err == nil || err.Error() != want || !errors.Is(err, catalog.ErrCallTimeout) {
			t.Errorf("%s: err = %v, want %q", fn, err, want)
		}
	}
	// Without a limit the server's own timeout applies.
	if _, err := fns["Short.hang"](context.Background(), nil); !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Errorf("without a limit: %v", err)
	}
}
