package typecheck_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
	"github.com/pctx-dev/pctx/internal/typecheck"
	"github.com/pctx-dev/pctx/pkg/pctx"
)

// need returns a test peer's path, skipping the test when it is missing, except under
// CI, where that is a failure.
func need(t *testing.T, what, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found at %s and CI is set: run make deps", what, path)
		}
		t.Skipf("%s not found at %s: run make deps-fast", what, path)
	}
	return path
}

func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// corpusStack is the corpus's world: pctx serving MCP over HTTP, in front of the real
// npm servers everything, memory and filesystem, the Python stand-ins for GitHub, Stripe
// and Zendesk, and a Python worker with the seed's tools. Every MCP server sits behind a
// recording proxy and the worker logs its calls, so a test can see what reached a
// backend.
type corpusStack struct {
	url   string
	mcp   *client.Client
	calls []string // files that record the backends' calls
}

func startCorpusStack(t *testing.T) *corpusStack {
	t.Helper()
	tsgo := typecheck.TsgoPath(t)
	npmDir := os.Getenv("PCTX_NPM_DIR")
	if npmDir == "" {
		npmDir = repoPath(t, ".cache/npm")
	}
	npm := func(name string) string {
		return need(t, "npm MCP server "+name, filepath.Join(npmDir, "node_modules", ".bin", name))
	}
	python := os.Getenv("PCTX_PYTHON")
	if python == "" {
		python = repoPath(t, ".cache/venv/bin/python")
	}
	need(t, "the Python venv ($PCTX_PYTHON)", python)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	root := filepath.Join(dir, "files")
	for path, text := range map[string]string{
		"notes/todo.md":  "# Todo\n- [ ] ship type check\n- [x] write corpus\n- [ ] benchmark\n",
		"data/sales.csv": "region,amount\nnorth,120\nsouth,80\neast,45.5\n",
		"README.md":      "files for the type-check corpus\n",
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := &corpusStack{}
	fixtures := repoPath(t, "sdk/python/tests/fixtures")
	servers := map[string][]string{
		"everything": {npm("mcp-server-everything")},
		"memory":     {npm("mcp-server-memory")},
		"filesystem": {npm("mcp-server-filesystem"), root},
		"github":     {python, filepath.Join(fixtures, "github_server.py")},
		"stripe":     {python, filepath.Join(fixtures, "stripe_server.py")},
		"zendesk":    {python, filepath.Join(fixtures, "zendesk_server.py")},
	}
	cfg := pctx.DefaultConfig()
	cfg.Server.HTTP = "127.0.0.1:0"
	cfg.Runtime.Tsgo = tsgo
	cfg.Runtime.Timeout = time.Minute
	cfg.CodeMode.Disclosure = "catalog" // list_functions, which the test waits on
	cfg.Servers = map[string]pctx.Upstream{}
	for name, argv := range servers {
		log := filepath.Join(dir, name+".calls")
		s.calls = append(s.calls, log)
		cfg.Servers[name] = pctx.Upstream{
			Name: name, Command: self, Args: argv, Timeout: time.Minute,
			Env: map[string]string{"PCTX_TYPECHECK_PROXY_LOG": log, "MEMORY_FILE_PATH": filepath.Join(dir, "memory.jsonl")},
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := pctx.New(ctx, cfg, &pctx.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	s.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		_ = p.Close()
	})

	// The seed's Python tools, over the SDK websocket.
	workerLog := filepath.Join(dir, "worker.calls")
	s.calls = append(s.calls, workerLog)
	worker := exec.Command(python, "testdata/seed_worker.py", srv.URL, workerLog)
	stdin, err := worker.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	worker.Stderr = os.Stderr
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	workerDone := make(chan error, 1)
	go func() { workerDone <- worker.Wait() }()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-workerDone:
		case <-time.After(10 * time.Second):
			_ = worker.Process.Kill()
			<-workerDone
		}
	})

	c, err := client.NewStreamableHttpClient(srv.URL + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = "2025-06-18"
	init.Params.ClientInfo = mcp.Implementation{Name: "typecheck-corpus", Version: "1"}
	if _, err := c.Initialize(context.Background(), init); err != nil {
		t.Fatal(err)
	}
	s.mcp = c
	want := []string{"everything", "memory", "filesystem", "github", "stripe", "zendesk", "data", "ml", "search", "tools"}
	deadline := time.Now().Add(90 * time.Second)
	for {
		listing, _ := s.call(t, "list_functions", map[string]any{}, nil)
		missing := []string{}
		for _, ns := range want {
			if !strings.Contains(listing, "namespace "+ns+" {") {
				missing = append(missing, ns)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespaces %v did not appear:\n%s", missing, listing)
		}
		select {
		case err := <-workerDone:
			workerDone <- err // for the cleanup
			t.Fatalf("the seed worker exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return s
}

// call calls one of pctx's tools over MCP and returns its text and whether it is an error.
func (s *corpusStack) call(t *testing.T, tool string, args map[string]any, meta map[string]any) (string, bool) {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	if meta != nil {
		req.Params.Meta = &mcp.Meta{AdditionalFields: meta}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.mcp.CallTool(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var b strings.Builder
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// publishedClient speaks to pctx as the published pctx-client does (docs/protocol.md
// §10): a session from POST /code-mode/session/create, then execute_typescript over the
// websocket that names it.
type publishedClient struct {
	ws  *websocket.Conn
	seq int
}

func (s *corpusStack) publishedClient(t *testing.T) *publishedClient {
	t.Helper()
	resp, err := http.Post(s.url+"/code-mode/session/create", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		SessionID string `json:"session_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || created.SessionID == "" {
		t.Fatalf("session/create: %v %+v", err, created)
	}
	ws, resp, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(s.url, "http")+"/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{sdkbridge.SessionHeader: {created.SessionID}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	ws.SetReadLimit(16 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return &publishedClient{ws: ws}
}

// execute runs code as the published client's execute_typescript does.
func (c *publishedClient) execute(t *testing.T, code string) (success bool, stderr string) {
	t.Helper()
	c.seq++
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": c.seq, "method": "execute_typescript",
		"params": map[string]any{"code": code, "disclosure": "catalog", "tool_timeout_secs": 60}})
	if err := c.ws.Write(ctx, websocket.MessageText, req); err != nil {
		t.Fatal(err)
	}
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			ID     int `json:"id"`
			Result struct {
				Success bool   `json:"success"`
				Stderr  string `json:"stderr"`
			} `json:"result"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &f) != nil || f.ID != c.seq {
			continue
		}
		if f.Error != nil {
			t.Fatalf("execute_typescript: %s", f.Error)
		}
		return f.Result.Success, f.Result.Stderr
	}
}

// camelNames maps every "ns.fn" of the corpus catalog to its name under the original
// pctx's convention, which published-client sessions see (Everything.getSum).
func camelNames(t *testing.T) map[string]string {
	t.Helper()
	snap := typecheck.CorpusCatalog(t)
	camel := map[[2]string]string{}
	for _, ns := range snap.Named(catalog.NamingCamel).Namespaces() {
		for _, f := range ns.Functions {
			camel[[2]string{ns.Original, f.Original}] = ns.Name + "." + f.Name
		}
	}
	out := map[string]string{}
	for _, ns := range snap.Namespaces() {
		for _, f := range ns.Functions {
			out[ns.Name+"."+f.Name] = camel[[2]string{ns.Original, f.Original}]
		}
	}
	return out
}

var qualified = regexp.MustCompile(`[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*`)

// toCamel rewrites a corpus program for a published-client session: every call of a
// catalog function by its registered name becomes a call by its camel name. Lines keep
// their numbers; columns after a rename move.
func toCamel(code string, names map[string]string) string {
	return qualified.ReplaceAllStringFunc(code, func(m string) string {
		if camel, ok := names[m]; ok {
			return camel
		}
		return m
	})
}

// backendCalls is every call the backends have seen so far, one "file: name" per call.
func (s *corpusStack) backendCalls(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, f := range s.calls {
		raw, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, line := range strings.Fields(string(raw)) {
			out = append(out, filepath.Base(f)+": "+line)
		}
	}
	return out
}

// TestCorpusOverMCP is the acceptance run: through MCP over HTTP with real upstreams, and
// through the published client's execute path, every correct program of the corpus
// passes the check and runs, and every wrong one is refused with its errors at the right
// line:column before any backend sees a call.
func TestCorpusOverMCP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the npm and Python test peers")
	}
	s := startCorpusStack(t)
	published := s.publishedClient(t)
	camel := camelNames(t)
	for _, p := range typecheck.LoadCorpus(t, "ok") {
		text, isErr := s.call(t, "execute_typescript", map[string]any{"code": p.Code}, nil)
		if isErr {
			t.Errorf("ok/%s failed:\n%s", p.Name, text)
		}
		if ok, stderr := published.execute(t, toCamel(p.Code, camel)); !ok {
			t.Errorf("ok/%s failed through the published client's path:\n%s", p.Name, stderr)
		}
	}
	// Every backend's log saw the correct programs' calls, so a silent log below means
	// no call, not a broken log.
	for _, f := range s.calls {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Fatalf("the correct programs left no call in %s: the call logs do not work (%v)", filepath.Base(f), err)
		}
	}
	for _, p := range typecheck.LoadCorpus(t, "bad") {
		before := len(s.backendCalls(t))
		text, isErr := s.call(t, "execute_typescript", map[string]any{"code": p.Code}, nil)
		if !isErr || !strings.HasPrefix(text, "Error (typecheck): ") || !strings.Contains(text, ", 0 calls ---") {
			t.Errorf("bad/%s was not refused by the type check:\n%s", p.Name, text)
			continue
		}
		for _, want := range p.Expect {
			if !strings.Contains(text, "\n"+want+" ") {
				t.Errorf("bad/%s: refusal lacks %q:\n%s", p.Name, want, text)
			}
		}
		// Renaming moves columns (and a misspelling's suggestion may change), so this
		// path checks the lines of the errors.
		ok, stderr := published.execute(t, toCamel(p.Code, camel))
		if ok || !strings.HasPrefix(stderr, "the program does not type-check, so nothing ran") {
			t.Errorf("bad/%s was not refused through the published client's path:\n%s", p.Name, stderr)
		}
		for _, want := range p.Expect {
			line, _, _ := strings.Cut(want, ":")
			if !strings.Contains(stderr, "\n"+line+":") {
				t.Errorf("bad/%s: the published client's refusal has no error on line %s:\n%s", p.Name, line, stderr)
			}
		}
		if after := s.backendCalls(t); len(after) != before {
			t.Errorf("bad/%s reached a backend: %v", p.Name, after[before:])
		}
	}

	// The same wrong program runs when the client turns the check off for one call, and
	// with // @ts-nocheck; its first call then reaches GitHub.
	bad := "await github.create_issue({ repo: \"corpus/meta\", title: \"unchecked\" });\nlet a: string = 5;\nreturn a;"
	for name, call := range map[string]func() (string, bool){
		"_meta off": func() (string, bool) {
			return s.call(t, "execute_typescript", map[string]any{"code": bad}, map[string]any{"pctx/typecheck": "off"})
		},
		"@ts-nocheck": func() (string, bool) {
			return s.call(t, "execute_typescript", map[string]any{"code": "// @ts-nocheck\n" + bad}, nil)
		},
		"_meta warn": func() (string, bool) {
			return s.call(t, "execute_typescript", map[string]any{"code": bad}, map[string]any{"pctx/typecheck": "warn"})
		},
	} {
		before := len(s.backendCalls(t))
		text, isErr := call()
		if isErr || !strings.HasPrefix(text, "5\n") {
			t.Errorf("%s: %s", name, text)
		}
		if name == "_meta warn" && !strings.Contains(text, "[warn] type check: 1 error (it ran anyway):\n2:5 TS2322 ") {
			t.Errorf("%s: no appended diagnostics:\n%s", name, text)
		}
		if after := s.backendCalls(t); len(after) != before+1 {
			t.Errorf("%s: backend calls %v", name, after[before:])
		}
	}
	if text, isErr := s.call(t, "execute_typescript", map[string]any{"code": "return 1"}, map[string]any{"pctx/typecheck": "loose"}); !isErr || !strings.Contains(text, "pctx/typecheck") {
		t.Errorf("a bad mode in _meta: %s", text)
	}
}
