package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sandbox/sandboxtest"
)

func newTestDashboard(t *testing.T, opts *Options) (*Dashboard, *codemode.Service) {
	t.Helper()
	cat := catalog.New()
	echo := catalog.Tool{Name: "echo", Description: "Echo it.", InputSchema: []byte(`{"type":"object","properties":{"s":{"type":"string"}}}`),
		Call: func(_ context.Context, args map[string]any) (any, error) { return args["s"], nil }}
	if err := cat.Put("go:t", catalog.Namespace{Name: "t", Tools: []catalog.Tool{echo}}); err != nil {
		t.Fatal(err)
	}
	var d *Dashboard
	cm := codemode.New(cat, &codemode.Options{Executor: sandboxtest.New(t), Observer: func(r *codemode.Record) { d.Observe(r) }})
	d = New(cm, opts)
	return d, cm
}

func get(t *testing.T, h http.Handler, path string, v any) int {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	if v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, w.Body)
		}
	}
	return w.Code
}

func TestExecutionsAndDetail(t *testing.T) {
	d, cm := newTestDashboard(t, &Options{History: 2, MaxStoredBytes: 64})
	for _, code := range []string{`return 1`, `return await t.echo({s: "x".repeat(200)})`, `console.log("y".repeat(100)); throw new Error("boom")`} {
		if _, err := cm.Execute(context.Background(), code); err != nil {
			t.Fatal(err)
		}
	}
	var list struct{ Executions []summary }
	if code := get(t, d.Handler(), "/ui/api/executions", &list); code != 200 {
		t.Fatalf("status %d", code)
	}
	if len(list.Executions) != 2 || list.Executions[0].ID != 3 || list.Executions[1].ID != 2 || list.Executions[0].ErrorKind != "runtime" {
		t.Fatalf("kept %+v, want executions 3 and 2, newest first", list.Executions)
	}
	var full map[string]any
	get(t, d.Handler(), "/ui/api/executions/2", &full)
	calls := full["trace"].(map[string]any)["calls"].([]any)
	if len(calls) != 1 || calls[0].(map[string]any)["function"] != "echo" || calls[0].(map[string]any)["backend"] != "go" {
		t.Errorf("calls: %v", calls)
	}
	if cut, _ := full["cut"].([]any); len(cut) != 1 || cut[0] != "value" || len(full["value"].(string)) > 70 {
		t.Errorf("a 200-byte value kept under a 64-byte bound: cut=%v value=%v", full["cut"], full["value"])
	}
	if code := get(t, d.Handler(), "/ui/api/executions/1", nil); code != http.StatusNotFound {
		t.Errorf("dropped execution: status %d, want 404", code)
	}
}

func TestLongPoll(t *testing.T) {
	d, cm := newTestDashboard(t, &Options{PollWait: time.Minute})
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	got := make(chan []summary, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/ui/api/executions?wait=1&after=0")
		if err != nil {
			got <- nil
			return
		}
		defer resp.Body.Close()
		var list struct{ Executions []summary }
		_ = json.NewDecoder(resp.Body).Decode(&list)
		got <- list.Executions
	}()
	select {
	case <-got:
		t.Fatal("the poll answered before any execution")
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := cm.Execute(context.Background(), `return 2`); err != nil {
		t.Fatal(err)
	}
	select {
	case list := <-got:
		if len(list) != 1 || list[0].ID != 1 {
			t.Errorf("poll answered %+v", list)
		}
	case <-time.After(time.Minute):
		t.Fatal("the poll did not answer after an execution")
	}
}

func TestPlaygroundAndReadOnly(t *testing.T) {
	d, _ := newTestDashboard(t, &Options{Playground: true})
	post := func(h http.Handler, body string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/ui/api/execute", strings.NewReader(body)))
		return w
	}
	if w := post(d.ReadOnlyHandler(), `{"code":"return 1"}`); w.Code != http.StatusForbidden {
		t.Errorf("read-only playground: %d %s", w.Code, w.Body)
	}
	w := post(d.Handler(), `{"code":"return await t.echo({s: \"hi\"})"}`)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	if w.Code != 200 || out["value"] != "hi" || !strings.HasPrefix(fmt.Sprint(out["session"]), "ui:playground:") {
		t.Errorf("playground: %d %s", w.Code, w.Body)
	}
	if w := post(d.Handler(), `{"code":""}`); w.Code != http.StatusBadRequest {
		t.Errorf("empty program: %d", w.Code)
	}
	var state map[string]any
	get(t, d.ReadOnlyHandler(), "/ui/api/state", &state)
	if state["playground"] != false {
		t.Errorf("read-only state says playground %v", state["playground"])
	}
}

func TestCatalogAndAssets(t *testing.T) {
	d, _ := newTestDashboard(t, nil)
	var cat struct {
		Namespaces []struct {
			Name, Owner, Listing string
			Functions            []struct{ Name string }
		}
	}
	get(t, d.Handler(), "/ui/api/catalog", &cat)
	if len(cat.Namespaces) != 1 || cat.Namespaces[0].Owner != "go:t" || !strings.Contains(cat.Namespaces[0].Listing, "echo") {
		t.Errorf("catalog: %+v", cat)
	}
	var det struct{ Text string }
	get(t, d.Handler(), "/ui/api/details?fn=t.echo", &det)
	if !strings.Contains(det.Text, "function echo") {
		t.Errorf("details: %q", det.Text)
	}
	for _, path := range []string{"/ui/", "/ui/app.js", "/ui/app.css"} {
		w := httptest.NewRecorder()
		d.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != 200 || w.Body.Len() == 0 || !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: %d, CSP %q", path, w.Code, w.Header().Get("Content-Security-Policy"))
		}
	}
}

// TestStateSandbox: the status carries the sandbox pool as Options.Sandbox reports it,
// and leaves it out without one.
func TestStateSandbox(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts *Options
		want *Sandbox
	}{
		{"none", nil, nil},
		{"pool", &Options{Sandbox: func() Sandbox { return Sandbox{Workers: 3, Busy: 1, Started: 5, Crashed: 1, Recycled: 1} }},
			&Sandbox{Workers: 3, Busy: 1, Started: 5, Crashed: 1, Recycled: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := newTestDashboard(t, tt.opts)
			var state struct{ Sandbox *Sandbox }
			get(t, d.Handler(), "/ui/api/state", &state)
			if (state.Sandbox == nil) != (tt.want == nil) || (tt.want != nil && *state.Sandbox != *tt.want) {
				t.Errorf("state sandbox %+v, want %+v", state.Sandbox, tt.want)
			}
		})
	}
}

// TestCatalogNaming: the catalog tab names functions as the service's agents call them.
func TestCatalogNaming(t *testing.T) {
	cat := catalog.New()
	tool := catalog.Tool{Name: "get_sum", Call: func(context.Context, map[string]any) (any, error) { return 1, nil }}
	if err := cat.Put("go:my_tools", catalog.Namespace{Name: "my_tools", Tools: []catalog.Tool{tool}}); err != nil {
		t.Fatal(err)
	}
	d := New(codemode.New(cat, &codemode.Options{Executor: codemode.InProcess, Naming: catalog.NamingCamel}), nil)
	var out struct {
		Namespaces []struct {
			Name, Original string
			Functions      []struct{ Name, Original string }
		}
	}
	get(t, d.Handler(), "/ui/api/catalog", &out)
	if len(out.Namespaces) != 1 || out.Namespaces[0].Name != "MyTools" || out.Namespaces[0].Original != "my_tools" ||
		len(out.Namespaces[0].Functions) != 1 || out.Namespaces[0].Functions[0].Name != "getSum" || out.Namespaces[0].Functions[0].Original != "get_sum" {
		t.Errorf("catalog %+v, want MyTools.getSum (my_tools.get_sum)", out)
	}
}

// TestPlaygroundSessionEnds: a playground run is a client session of its own, ended by
// the time the run's answer is written, so backends holding state for it (session-scoped
// upstream instances) release it.
func TestPlaygroundSessionEnds(t *testing.T) {
	cat := catalog.New()
	seen := make(chan *clientsession.Session, 2)
	tool := catalog.Tool{Name: "who", Call: func(ctx context.Context, _ map[string]any) (any, error) {
		seen <- clientsession.FromContext(ctx)
		return nil, nil
	}}
	if err := cat.Put("go:t", catalog.Namespace{Name: "t", Tools: []catalog.Tool{tool}}); err != nil {
		t.Fatal(err)
	}
	d := New(codemode.New(cat, &codemode.Options{Executor: codemode.InProcess}), &Options{Playground: true})
	var sessions []*clientsession.Session
	for range 2 {
		w := httptest.NewRecorder()
		d.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/ui/api/execute", strings.NewReader(`{"code":"await t.who({})"}`)))
		if w.Code != 200 {
			t.Fatalf("playground: %d %s", w.Code, w.Body)
		}
		sessions = append(sessions, <-seen)
	}
	for i, s := range sessions {
		if s == nil || !s.Ended() || !strings.HasPrefix(s.Key(), "ui:playground:") {
			t.Errorf("run %d: session %+v, want an ended ui:playground: session", i, s)
		}
	}
	if sessions[0] == sessions[1] || sessions[0].Key() == sessions[1].Key() {
		t.Error("two playground runs shared a session")
	}
}
