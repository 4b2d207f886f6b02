package upstream_test

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/upstream"
)

// registry stands in for *catalog.Catalog.
type registry struct {
	mu sync.Mutex
	ns map[string]catalog.Namespace
}

func (r *registry) Put(owner string, ns catalog.Namespace) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ns[ns.Name] = ns
	return nil
}

func (r *registry) Remove(owner, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ns, name)
}

func (r *registry) get(name string) catalog.Namespace {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ns[name]
}

func Example() {
	// A real configuration names a server such as
	//   {Command: "npx", Args: []string{"-y", "@modelcontextprotocol/server-everything"}}
	// This example runs the package's fake test server instead.
	exe, _ := os.Executable()
	servers := map[string]config.Upstream{
		"fake": {Command: exe, Env: map[string]string{"PCTX_FAKE_UPSTREAM": "basic"}},
		"gone": {Command: "/nonexistent/server"},
	}
	reg := &registry{ns: map[string]catalog.Namespace{}}
	m := upstream.NewManager(reg, servers, nil)
	m.Start(context.Background())
	defer m.Close()

	for _, tool := range reg.get("fake").Tools {
		if tool.Name == "add" {
			// JSON results come back as json.RawMessage: the runtime
			// decodes them with exact numbers.
			sum, err := tool.Call(context.Background(), map[string]any{"a": 2, "b": 3})
			fmt.Printf("%s %v\n", sum, err)
		}
	}
	fmt.Println(reg.get("gone").Unavailable)
	for _, st := range m.Status() {
		fmt.Println(st.Name, st.Transport, st.State)
	}
	// Output:
	// {"sum":5} <nil>
	// start "/nonexistent/server": fork/exec /nonexistent/server: no such file or directory
	// fake stdio ready
	// gone stdio unavailable
}
