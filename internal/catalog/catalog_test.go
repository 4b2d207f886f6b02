package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// The runtime package (imported for its Functions type) sets a regexp2 match timeout
// at init, which starts regexp2's process-wide clock goroutine: not ours, not a leak.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/dlclark/regexp2/v2.runClock"))
}

// tool returns a tool with the given input schema and a call func that echoes its args.
func tool(name, schema string) Tool {
	t := Tool{Name: name, Description: "Does " + name + ".", Call: echoCall}
	if schema != "" {
		t.InputSchema = json.RawMessage(schema)
	}
	return t
}

func echoCall(_ context.Context, args map[string]any) (any, error) { return args, nil }

func mustPut(t *testing.T, c *Catalog, owner string, ns Namespace) {
	t.Helper()
	if err := c.Put(owner, ns); err != nil {
		t.Fatal(err)
	}
}

func TestPutConflicts(t *testing.T) {
	tests := []struct {
		name      string
		first     string // namespace name put by owner "a"
		owner     string // second owner
		second    string // namespace name put by the second owner
		wantTaken bool
	}{
		{"other owner, same name", "github", "b", "github", true},
		{"other owner, same sanitised name", "my-server", "b", "my_server", true},
		{"same owner replaces", "github", "a", "github", false},
		{"other owner, other name", "github", "b", "gitlab", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			mustPut(t, c, "a", Namespace{Name: tt.first, Tools: []Tool{tool("one", "")}})
			err := c.Put(tt.owner, Namespace{Name: tt.second, Tools: []Tool{tool("two", "")}})
			if got := errors.Is(err, ErrNamespaceTaken); got != tt.wantTaken {
				t.Fatalf("Put: err = %v, want ErrNamespaceTaken: %v", err, tt.wantTaken)
			}
			if tt.wantTaken && !strings.Contains(err.Error(), `held by "a"`) {
				t.Errorf("error %q does not name the current owner", err)
			}
			if !tt.wantTaken && tt.first == tt.second {
				if _, ok := c.Snapshot().Functions()[tt.first+".two"]; !ok {
					t.Errorf("replacement not visible: %v", c.Snapshot().Functions())
				}
				if _, ok := c.Snapshot().Functions()[tt.first+".one"]; ok {
					t.Errorf("replaced tool still visible")
				}
			}
		})
	}
}

func TestPutRejectsBadNamespaces(t *testing.T) {
	tests := []struct {
		name string
		ns   Namespace
		want string
	}{
		{"empty name", Namespace{Name: " "}, "namespace name is empty"},
		{"tool without call", Namespace{Name: "x", Tools: []Tool{{Name: "t"}}}, `tool "t" has no call func`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Put("a", tt.ns)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Put: err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	c := New()
	mustPut(t, c, "a", Namespace{Name: "my-ns", Tools: []Tool{tool("t", "")}})
	mustPut(t, c, "a", Namespace{Name: "other", Tools: []Tool{tool("t", "")}})
	mustPut(t, c, "b", Namespace{Name: "third", Tools: []Tool{tool("t", "")}})

	c.Remove("b", "my-ns") // not b's: no effect
	if got := len(c.Snapshot().Namespaces()); got != 3 {
		t.Fatalf("after foreign Remove: %d namespaces, want 3", got)
	}
	c.Remove("a", "my_ns") // sanitised name works too
	if got := names(c.Snapshot()); got != "other third" {
		t.Fatalf("after Remove: %s", got)
	}
	c.RemoveOwner("a")
	if got := names(c.Snapshot()); got != "third" {
		t.Fatalf("after RemoveOwner: %s", got)
	}
	// The freed name can be taken by another owner now.
	mustPut(t, c, "b", Namespace{Name: "my-ns", Tools: []Tool{tool("t", "")}})
}

func names(s *Snapshot) string {
	var out []string
	for _, n := range s.Namespaces() {
		out = append(out, n.Name)
	}
	return strings.Join(out, " ")
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestChanged(t *testing.T) {
	c := New()
	ns := Namespace{Name: "n", Tools: []Tool{tool("t", `{"type":"object"}`)}}
	steps := []struct {
		name        string
		do          func()
		wantChanged bool
	}{
		{"put", func() { mustPut(t, c, "a", ns) }, true},
		{"same put again (a reconnect)", func() { mustPut(t, c, "a", ns) }, false},
		{"refused put", func() { _ = c.Put("b", ns) }, false},
		{"description changes", func() {
			ns2 := ns
			ns2.Description = "new"
			mustPut(t, c, "a", ns2)
		}, true},
		{"becomes unavailable", func() { mustPut(t, c, "a", Namespace{Name: "n", Unavailable: "down"}) }, true},
		{"foreign remove", func() { c.Remove("b", "n") }, false},
		{"remove", func() { c.Remove("a", "n") }, true},
		{"remove owner with nothing", func() { c.RemoveOwner("a") }, false},
	}
	for _, st := range steps {
		ch := c.Changed()
		v := c.Snapshot().Version()
		st.do()
		if got := closed(ch); got != st.wantChanged {
			t.Errorf("%s: Changed closed = %v, want %v", st.name, got, st.wantChanged)
		}
		if got := c.Snapshot().Version() != v; got != st.wantChanged {
			t.Errorf("%s: version moved = %v, want %v", st.name, got, st.wantChanged)
		}
	}
}

func TestSnapshotIsImmutable(t *testing.T) {
	c := New()
	mustPut(t, c, "a", Namespace{Name: "n", Tools: []Tool{tool("t", "")}})
	before := c.Snapshot()
	list := before.List(ListOptions{})
	mustPut(t, c, "a", Namespace{Name: "n", Tools: []Tool{tool("u", "")}})
	mustPut(t, c, "a", Namespace{Name: "m", Tools: []Tool{tool("v", "")}})
	if got := before.List(ListOptions{}); got != list {
		t.Fatalf("old snapshot changed:\n%s\nwas:\n%s", got, list)
	}
}

func TestWith(t *testing.T) {
	c := New()
	mustPut(t, c, "a", Namespace{Name: "github", Tools: []Tool{tool("t", "")}})
	base := c.Snapshot()

	over, err := base.With(Namespace{Name: "session", Tools: []Tool{tool("mine", "")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := over.Functions()["session.mine"]; !ok {
		t.Errorf("overlay lacks session.mine: %v", over.Functions())
	}
	if _, ok := over.Functions()["github.t"]; !ok {
		t.Errorf("overlay lacks the base's github.t")
	}
	if _, ok := base.Functions()["session.mine"]; ok {
		t.Errorf("With changed its base")
	}
	if !strings.Contains(over.List(ListOptions{}), "namespace session {") {
		t.Errorf("overlay listing lacks the session namespace:\n%s", over.List(ListOptions{}))
	}

	tests := []struct {
		name  string
		extra []Namespace
		want  string
	}{
		{"conflict with base", []Namespace{{Name: "github"}}, `held by "a"`},
		{"conflict within extra", []Namespace{{Name: "s-1"}, {Name: "s_1"}}, "another session-scoped namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := base.With(tt.extra...)
			if !errors.Is(err, ErrNamespaceTaken) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("With: err = %v, want ErrNamespaceTaken mentioning %q", err, tt.want)
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	c := New()
	mustPut(t, c, "a", Namespace{Name: "github", Unavailable: "connection refused", Tools: []Tool{tool("t", "")}})
	mustPut(t, c, "b", Namespace{Name: "fs", Tools: []Tool{tool("read", "")}})
	s := c.Snapshot()
	if got, want := s.List(ListOptions{}), "// namespace github: unavailable (connection refused)\n"; !strings.Contains(got, want) {
		t.Errorf("listing lacks %q:\n%s", want, got)
	}
	if _, ok := s.Functions()["github.t"]; ok {
		t.Errorf("unavailable namespace has functions")
	}
	if _, err := s.Details([]string{"github.t"}); err == nil || !strings.Contains(err.Error(), "namespace github is unavailable (connection refused)") {
		t.Errorf("Details: err = %v", err)
	}
	infos := s.Namespaces()
	if infos[1].Name != "github" || infos[1].Unavailable != "connection refused" || len(infos[1].Functions) != 0 {
		t.Errorf("Namespaces()[1] = %+v", infos[1])
	}
}

func TestNamespacesInfo(t *testing.T) {
	c := New()
	mustPut(t, c, "owner", Namespace{Name: "my-ns", Tools: []Tool{
		tool("ok", `{"type":"object","properties":{"a":{"type":"string"}}}`),
		// Go's regexp has no lookahead: the schema does not compile.
		tool("lookahead", `{"type":"object","properties":{"a":{"type":"string","pattern":"^(?=x)"}}}`),
		tool("broken", `{"type":`),
	}})
	infos := c.Snapshot().Namespaces()
	if len(infos) != 1 || infos[0].Name != "my_ns" || infos[0].Original != "my-ns" || infos[0].Owner != "owner" {
		t.Fatalf("Namespaces() = %+v", infos)
	}
	notes := map[string]string{}
	for _, f := range infos[0].Functions {
		notes[f.Name] = f.Unvalidated
	}
	if notes["ok"] != "" {
		t.Errorf("ok: unexpected note %q", notes["ok"])
	}
	if !strings.Contains(notes["lookahead"], "does not compile") {
		t.Errorf("lookahead: note = %q", notes["lookahead"])
	}
	if !strings.Contains(notes["broken"], "invalid JSON") {
		t.Errorf("broken: note = %q", notes["broken"])
	}
}

// TestConcurrency has writers Put and Remove while readers take snapshots and use them;
// run with -race. Every snapshot must be internally consistent: a namespace is listed
// with all of its functions or not at all.
func TestConcurrency(t *testing.T) {
	c := New()
	const writers, readers, rounds = 4, 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("w%d", w)
			for i := range rounds {
				name := fmt.Sprintf("ns%d", i%5)
				ns := Namespace{Name: name, Tools: []Tool{tool("a", ""), tool("b", `{"type":"object"}`)}}
				if err := c.Put(owner, ns); err != nil && !errors.Is(err, ErrNamespaceTaken) {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					c.Remove(owner, name)
				}
				if i%50 == 0 {
					c.RemoveOwner(owner)
				}
			}
		}()
	}
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				s := c.Snapshot()
				fns := s.Functions()
				for _, n := range s.Namespaces() {
					_, okA := fns[n.Name+".a"]
					_, okB := fns[n.Name+".b"]
					if !okA || !okB || len(n.Functions) != 2 {
						t.Errorf("inconsistent snapshot: %+v", n)
						return
					}
				}
				_ = s.List(ListOptions{Query: "a"})
				if f, ok := fns["ns0.a"]; ok {
					if _, err := f(context.Background(), nil); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestZeroCatalog(t *testing.T) {
	var c Catalog
	if got := c.Snapshot().List(ListOptions{}); got != "// no functions are available\n" {
		t.Fatalf("zero catalog lists %q", got)
	}
	ch := c.Changed()
	mustPut(t, &c, "a", Namespace{Name: "n", Tools: []Tool{tool("t", "")}})
	if !closed(ch) || c.Snapshot().Version() != 1 {
		t.Fatalf("zero catalog: Changed closed = %v, version %d", closed(ch), c.Snapshot().Version())
	}
}

// TestUnavailableNamespaceCalls: a namespace that cannot serve binds a catch-all whose
// every call rejects with the reason, so a program learns why (say, a needed login)
// rather than meeting a ReferenceError.
func TestUnavailableNamespaceCalls(t *testing.T) {
	c := New()
	if err := c.Put("upstream:gh", Namespace{Name: "gh", Unavailable: "needs login: run `pctx auth login gh`"}); err != nil {
		t.Fatal(err)
	}
	fns := c.Snapshot().Functions()
	fn := fns["gh.*"]
	if fn == nil || len(fns) != 1 {
		t.Fatalf("functions: %v", fns)
	}
	_, err := fn(context.Background(), nil)
	if err == nil || err.Error() != "namespace gh is unavailable: needs login: run `pctx auth login gh`" {
		t.Fatalf("call: %v", err)
	}
}
