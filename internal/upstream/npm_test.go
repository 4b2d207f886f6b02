package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/config"
)

// npmBin returns the path of an npm-installed server binary. The packages
// live in ../../.cache/npm (the Makefile installs them), or in $PCTX_NPM_DIR.
// Without them the test is skipped, except in CI where that is a failure.
func npmBin(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("PCTX_NPM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".cache", "npm")
	}
	bin, err := filepath.Abs(filepath.Join(dir, "node_modules", ".bin", name))
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat(bin)
	_, nodeErr := exec.LookPath("node")
	if statErr != nil || nodeErr != nil {
		msg := fmt.Sprintf("%s or node missing (install with: npm install --prefix %s @modelcontextprotocol/server-everything @modelcontextprotocol/server-memory)", bin, dir)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

func toolNames(reg *fakeRegistry, ns string) []string {
	n, _ := reg.get(ns)
	var names []string
	for _, tool := range n.Tools {
		names = append(names, tool.Name)
	}
	return names
}

// checkEverything runs the same calls against server-everything over any
// transport.
func checkEverything(t *testing.T, reg *fakeRegistry, ns string) {
	t.Helper()
	names := toolNames(reg, ns)
	for _, want := range []string{"echo", "get-sum", "get-structured-content", "get-tiny-image"} {
		if !slices.Contains(names, want) {
			t.Fatalf("tools %v lack %q", names, want)
		}
	}
	got, err := reg.call(t, ns, "get-sum", map[string]any{"a": 2.0, "b": 3.0})
	if err != nil || got != "The sum of 2 and 3 is 5." {
		t.Fatalf("get-sum: %#v, %v", got, err)
	}
	got, err = reg.call(t, ns, "get-structured-content", map[string]any{"location": "Chicago"})
	if err != nil || !reflect.DeepEqual(got, map[string]any{"temperature": 36.0, "conditions": "Light rain / drizzle", "humidity": 82.0}) {
		t.Fatalf("get-structured-content: %#v, %v", got, err)
	}
	got, err = reg.call(t, ns, "get-tiny-image", nil)
	items, _ := got.([]any)
	if err != nil || len(items) < 2 {
		t.Fatalf("get-tiny-image: %#v, %v", got, err)
	}
	image, _ := items[1].(map[string]any)
	if image["type"] != "image" || image["mimeType"] != "image/png" || image["data"] == "" {
		t.Fatalf("get-tiny-image item 1: %#v", items[1])
	}
	// Arguments that fail the server's validation come back as isError.
	_, err = reg.call(t, ns, "get-sum", map[string]any{"a": "two", "b": 3.0})
	if !errors.Is(err, ErrToolFailed) || !strings.HasPrefix(err.Error(), fmt.Sprintf(`upstream %q: tool "get-sum": `, ns)) || !strings.Contains(err.Error(), "a") {
		t.Fatalf("get-sum with a bad argument: %v", err)
	}
}

func TestNPMEverythingStdio(t *testing.T) {
	bin := npmBin(t, "mcp-server-everything")
	reg := newFakeRegistry()
	m, _ := startManager(t, reg, testTuning, config.Upstream{Name: "everything", Command: bin, Args: []string{"stdio"}})
	if st := statusOf(m, "everything"); st.State != StateReady {
		t.Fatalf("status = %+v", st)
	}
	checkEverything(t, reg, "everything")
}

func TestNPMEverythingHTTP(t *testing.T) {
	bin := npmBin(t, "mcp-server-everything")
	for _, tt := range []struct {
		arg, path, transport, want string
	}{
		{"streamableHttp", "/mcp", "", "streamable-http"},
		{"streamableHttp", "/mcp", "streamable-http", "streamable-http"},
		{"sse", "/sse", "", "sse"},
	} {
		t.Run(tt.arg+"/"+tt.want+"/"+tt.transport, func(t *testing.T) {
			port := startNodeServer(t, bin, tt.arg)
			reg := newFakeRegistry()
			url := fmt.Sprintf("http://127.0.0.1:%d%s", port, tt.path)
			m, _ := startManager(t, reg, testTuning, config.Upstream{Name: "everything", URL: url, Transport: tt.transport})
			if st := statusOf(m, "everything"); st.State != StateReady || st.Transport != tt.want {
				t.Fatalf("status = %+v", st)
			}
			checkEverything(t, reg, "everything")
		})
	}
}

// startNodeServer runs server-everything over HTTP on a free loopback port
// and waits until it accepts connections.
func startNodeServer(t *testing.T, bin, transport string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, transport)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	cmd.SysProcAttr = sysProcAttr()
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		signalGroup(cmd.Process, true)
		_ = cmd.Wait()
	})
	eventually(t, "server-everything listening", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return port
}

func TestNPMMemoryStdio(t *testing.T) {
	bin := npmBin(t, "mcp-server-memory")
	reg := newFakeRegistry()
	cfg := config.Upstream{Name: "memory", Command: bin, Env: map[string]string{"MEMORY_FILE_PATH": filepath.Join(t.TempDir(), "memory.jsonl")}}
	startManager(t, reg, testTuning, cfg)

	entity := map[string]any{"name": "pctx", "entityType": "project", "observations": []any{"written in Go"}}
	got, err := reg.call(t, "memory", "create_entities", map[string]any{"entities": []any{entity}})
	if err != nil || !reflect.DeepEqual(got, map[string]any{"entities": []any{entity}}) {
		t.Fatalf("create_entities: %#v, %v", got, err)
	}
	got, err = reg.call(t, "memory", "read_graph", nil)
	graph, _ := got.(map[string]any)
	if err != nil || !reflect.DeepEqual(graph["entities"], []any{entity}) {
		t.Fatalf("read_graph: %#v, %v", got, err)
	}
}

// TestNPMMemoryPerSession: the stateful reference server, session-scoped: each client
// session has its own process and, through ${session.id}, its own memory file.
func TestNPMMemoryPerSession(t *testing.T) {
	bin := npmBin(t, "mcp-server-memory")
	reg := newFakeRegistry()
	dir := t.TempDir()
	cfg := config.Upstream{Name: "memory", Command: bin, Scope: config.ScopeSession,
		Env: map[string]string{"MEMORY_FILE_PATH": filepath.Join(dir, "memory-"+config.SessionID+".jsonl")}}
	startManager(t, reg, testTuning, cfg)

	a, b := clientsession.Begin("mcp:a"), clientsession.Begin("mcp:b")
	defer a.End()
	defer b.End()
	call := func(cs *clientsession.Session, tool string, args map[string]any) any {
		t.Helper()
		v, err := reg.tool(t, "memory", tool).Call(clientsession.NewContext(context.Background(), cs), args)
		if err != nil {
			t.Fatalf("%s in %s: %v", tool, cs.Key(), err)
		}
		return plain(t, v)
	}
	for _, s := range []struct {
		cs   *clientsession.Session
		name string
	}{{a, "alpha"}, {b, "beta"}} {
		entity := map[string]any{"name": s.name, "entityType": "project", "observations": []any{"seen by " + s.cs.Key()}}
		call(s.cs, "create_entities", map[string]any{"entities": []any{entity}})
	}
	for _, s := range []struct {
		cs   *clientsession.Session
		name string
	}{{a, "alpha"}, {b, "beta"}} {
		graph, _ := call(s.cs, "read_graph", nil).(map[string]any)
		entities, _ := graph["entities"].([]any)
		if len(entities) != 1 || entities[0].(map[string]any)["name"] != s.name {
			t.Errorf("session %s reads %v, want only %s", s.cs.Key(), entities, s.name)
		}
		if _, err := os.Stat(filepath.Join(dir, "memory-"+s.cs.ID()+".jsonl")); err != nil {
			t.Errorf("session %s has no memory file of its own: %v", s.cs.Key(), err)
		}
	}
}
