package upstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/catalog"
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
