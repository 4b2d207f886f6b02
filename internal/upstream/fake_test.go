package upstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
)

// The test binary doubles as a fake stdio MCP server: with PCTX_FAKE_UPSTREAM
// set it speaks raw JSON-RPC on stdin/stdout, so each test can make it
// misbehave in exactly one way.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PCTX_FAKE_UPSTREAM"); mode != "" {
		os.Exit(runFake(mode))
	}
	goleak.VerifyTestMain(m)
}

// fakeConfig returns a stdio config running the fake in mode.
func fakeConfig(t testing.TB, name, mode string) config.Upstream {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return config.Upstream{
		Name:    name,
		Command: exe,
		// A -race child otherwise sleeps a second at exit, waiting for race reports.
		Env: map[string]string{"PCTX_FAKE_UPSTREAM": mode, "GORACE": "atexit_sleep_ms=0"},
	}
}

type fakeServer struct {
	mode      string
	count     int // calls of "count" so far: the state of a "counter" fake
	out       *bufio.Writer
	added     bool // the "added" tool exists (after "change")
	listCalls int
}

func runFake(mode string) int {
	if mode == "sleep" {
		time.Sleep(time.Hour)
		return 0
	}
	if mode == "exit-at-start" {
		fmt.Fprintln(os.Stderr, "fatal: no configuration found")
		return 7
	}
	if path := os.Getenv("FAKE_FAIL_IF_EXISTS"); path != "" {
		if _, err := os.Stat(path); err == nil {
			fmt.Fprintln(os.Stderr, "fatal: told to fail by", path)
			return 7
		}
	}
	f := &fakeServer{mode: mode, out: bufio.NewWriterSize(os.Stdout, 1<<20)}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			f.handle(line)
		}
		if mode == "deaf" && f.listCalls == 2 {
			// Listed its tools, then stops reading stdin for good.
			time.Sleep(time.Hour)
		}
		if err != nil {
			return 0
		}
	}
}

type fakeRequest struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		ProtocolVersion string         `json:"protocolVersion"`
		Name            string         `json:"name"`
		Cursor          string         `json:"cursor"`
		Arguments       map[string]any `json:"arguments"`
		RequestID       any            `json:"requestId"`
	} `json:"params"`
}

func (f *fakeServer) send(v any) {
	b, _ := json.Marshal(v)
	f.out.Write(b)
	f.out.WriteByte('\n')
	f.out.Flush()
}

func (f *fakeServer) result(id json.RawMessage, result any) {
	f.send(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

func text(s string) map[string]any { return map[string]any{"type": "text", "text": s} }

func (f *fakeServer) tools() []any {
	names := []string{"echo", "add", "fail", "mixed", "crash", "hang", "garbage", "badshape", "half", "big", "change", "flood", "listcount", "env", "spawn"}
	if f.mode == "counter" {
		names = []string{"count", "info", "crash", "hang", "change"}
	}
	if f.added {
		names = append(names, "added")
	}
	var tools []any
	for _, n := range names {
		tools = append(tools, map[string]any{
			"name":        n,
			"description": "fake " + n,
			"inputSchema": map[string]any{"type": "object", "description": "kept verbatim", "properties": map[string]any{}},
		})
	}
	return tools
}

func (f *fakeServer) handle(line []byte) {
	var req fakeRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return
	}
	switch req.Method {
	case "initialize":
		f.result(req.ID, map[string]any{
			"protocolVersion": req.Params.ProtocolVersion,
			"capabilities":    map[string]any{"tools": map[string]any{"listChanged": true}},
			"serverInfo":      map[string]any{"name": "fake", "version": "1"},
			"instructions":    "A fake upstream for tests.\nSecond line.",
		})
	case "notifications/cancelled":
		fmt.Fprintf(os.Stderr, "cancelled request %v\n", req.Params.RequestID)
	case "ping":
		f.result(req.ID, map[string]any{})
	case "tools/list":
		f.listCalls++
		// Two pages, to exercise pagination.
		all := f.tools()
		if req.Params.Cursor == "" {
			f.result(req.ID, map[string]any{"tools": all[:3], "nextCursor": "page2"})
		} else {
			f.result(req.ID, map[string]any{"tools": all[3:]})
		}
	case "tools/call":
		f.call(req)
	default:
		if len(req.ID) > 0 {
			f.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -32601, "message": "no such method"}})
		}
	}
}

func (f *fakeServer) call(req fakeRequest) {
	args := req.Params.Arguments
	num := func(k string) float64 { v, _ := args[k].(float64); return v }
	switch req.Params.Name {
	case "count":
		f.count++
		f.result(req.ID, map[string]any{"structuredContent": map[string]any{"count": f.count, "pid": os.Getpid()}, "content": []any{}})
	case "info":
		f.result(req.ID, map[string]any{"structuredContent": map[string]any{
			"pid": os.Getpid(), "args": os.Args[1:], "session": os.Getenv("FAKE_SESSION"),
		}, "content": []any{}})
	case "echo":
		b, _ := json.Marshal(args)
		f.result(req.ID, map[string]any{"content": []any{text(string(b))}})
	case "add":
		sum := num("a") + num("b")
		f.result(req.ID, map[string]any{
			"content":           []any{text(fmt.Sprintf("sum is %v", sum))},
			"structuredContent": map[string]any{"sum": sum},
		})
	case "fail":
		f.result(req.ID, map[string]any{"isError": true, "content": []any{text("boom: " + fmt.Sprint(args["msg"]))}})
	case "mixed":
		f.result(req.ID, map[string]any{"content": []any{
			text("1"),
			map[string]any{"type": "image", "data": "aGk=", "mimeType": "image/png"},
			text("hello"),
		}})
	case "crash":
		fmt.Fprintln(os.Stderr, "crashing on purpose")
		os.Exit(3)
	case "hang":
		fmt.Fprintln(os.Stderr, "hang received") // never answers
	case "garbage":
		f.out.WriteString("this is {not json\n")
		f.out.Flush()
	case "badshape":
		f.result(req.ID, "not an object")
	case "half":
		fmt.Fprintf(f.out, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"te`, req.ID)
		f.out.Flush()
		os.Exit(0)
	case "big":
		f.result(req.ID, map[string]any{"content": []any{text(strings.Repeat("x", int(num("n"))))}})
	case "change":
		f.added = true
		f.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
		f.result(req.ID, map[string]any{"content": []any{text("changed")}})
	case "flood":
		for i := range int(num("n")) {
			if i%2 == 0 {
				f.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
			} else {
				f.send(map[string]any{"jsonrpc": "2.0", "method": "notifications/message", "params": map[string]any{"level": "info", "data": i}})
			}
		}
		f.result(req.ID, map[string]any{"content": []any{text("flooded")}})
	case "listcount":
		f.result(req.ID, map[string]any{"structuredContent": map[string]any{"count": f.listCalls}, "content": []any{}})
	case "env":
		wd, _ := os.Getwd()
		f.result(req.ID, map[string]any{"structuredContent": map[string]any{
			"env": os.Getenv("FAKE_ENV"), "cwd": wd,
			"secret": os.Getenv("PCTX_TEST_SECRET"), "node": os.Getenv("NODE_PCTX_TEST"), "path": os.Getenv("PATH") != "",
			"npm_token": os.Getenv("NODE_AUTH_TOKEN") + os.Getenv("npm_config__authToken"),
		}, "content": []any{}})
	case "spawn":
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "PCTX_FAKE_UPSTREAM=sleep")
		if err := cmd.Start(); err != nil {
			f.result(req.ID, map[string]any{"isError": true, "content": []any{text(err.Error())}})
			return
		}
		f.result(req.ID, map[string]any{"structuredContent": map[string]any{"pid": cmd.Process.Pid}, "content": []any{}})
	default:
		f.send(map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": map[string]any{"code": -32602, "message": "unknown tool " + req.Params.Name}})
	}
}

// fakeRegistry records what a Manager registers.
type fakeRegistry struct {
	mu  sync.Mutex
	ns  map[string]catalog.Namespace // by owner
	log []string
}

func newFakeRegistry() *fakeRegistry { return &fakeRegistry{ns: map[string]catalog.Namespace{}} }

func (r *fakeRegistry) Put(owner string, ns catalog.Namespace) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ns[owner] = ns
	r.log = append(r.log, "put "+owner)
	return nil
}

func (r *fakeRegistry) Remove(owner, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ns, owner)
	r.log = append(r.log, "remove "+owner)
}

func (r *fakeRegistry) get(name string) (catalog.Namespace, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ns, ok := r.ns["upstream:"+name]
	return ns, ok
}

// tool returns the callable tool, failing the test if it is not registered.
func (r *fakeRegistry) tool(t testing.TB, ns, name string) catalog.Tool {
	t.Helper()
	n, ok := r.get(ns)
	if !ok {
		t.Fatalf("namespace %q not registered", ns)
	}
	if n.Unavailable != "" {
		t.Fatalf("namespace %q unavailable: %s", ns, n.Unavailable)
	}
	for _, tool := range n.Tools {
		if tool.Name == name {
			return tool
		}
	}
	t.Fatalf("namespace %q has no tool %q", ns, name)
	return catalog.Tool{}
}

// call calls ns.name through the registry.
func (r *fakeRegistry) call(t testing.TB, ns, name string, args map[string]any) (any, error) {
	t.Helper()
	v, err := r.tool(t, ns, name).Call(context.Background(), args)
	return plain(t, v), err
}

// plain decodes the json.RawMessage parts of a tool result the way a JSON
// consumer without exact numbers would, so assertions can compare with
// literals (numbers as float64).
func plain(t testing.TB, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("result %#v is not JSON data: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	var w io.Writer = b
	if testing.Verbose() {
		w = io.MultiWriter(b, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// testTuning keeps tests quick; behaviour is the same as production's.
var testTuning = tuning{
	startTimeout:   20 * time.Second,
	backoffMin:     50 * time.Millisecond,
	backoffMax:     500 * time.Millisecond,
	debounce:       50 * time.Millisecond,
	maxResultBytes: DefaultMaxResultBytes,
	stopGrace:      500 * time.Millisecond,
	loginPoll:      20 * time.Millisecond,
}

// startManager starts a Manager for servers and closes it when t ends.
func startManager(t testing.TB, reg Registry, tune tuning, servers ...config.Upstream) (*Manager, *logBuffer) {
	t.Helper()
	logger, logs := newTestLogger(t)
	m := newManager(reg, configMap(servers...), &Options{Logger: logger}, tune)
	m.Start(context.Background())
	t.Cleanup(func() { m.Close() })
	return m, logs
}

func configMap(servers ...config.Upstream) map[string]config.Upstream {
	out := map[string]config.Upstream{}
	for _, s := range servers {
		out[s.Name] = s
	}
	return out
}

// eventually waits for cond, failing the test if it never holds. The limit
// is generous: it is a hang detector, not a speed assertion.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func statusOf(m *Manager, name string) ServerStatus {
	for _, s := range m.Status() {
		if s.Name == name {
			return s
		}
	}
	return ServerStatus{}
}
