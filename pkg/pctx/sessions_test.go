package pctx_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"go.uber.org/goleak"

	"github.com/pctx-dev/pctx/pkg/pctx"
)

// counterEnv, when set, makes the test binary a stateful stdio MCP server whose one tool,
// count, counts its own calls: the upstream of the session tests.
const counterEnv = "PCTX_TEST_COUNTER"

func TestMain(m *testing.M) {
	if os.Getenv(counterEnv) != "" {
		os.Exit(runCounter())
	}
	os.Exit(m.Run())
}

func runCounter() int {
	s := mcpserver.NewMCPServer("counter", "1", mcpserver.WithToolCapabilities(false))
	var mu sync.Mutex
	n := 0
	s.AddTool(mcp.NewTool("count", mcp.WithDescription("Counts its own calls.")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			mu.Lock()
			n++
			c := n
			mu.Unlock()
			return mcp.NewToolResultStructured(map[string]any{"count": c, "pid": os.Getpid(), "session": os.Getenv("COUNTER_SESSION")}, strconv.Itoa(c)), nil
		})
	if err := mcpserver.ServeStdio(s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// counterPCTX is a pctx whose upstream "counter" is session-scoped. With steady set, it
// runs one execution at a time in one sandbox worker that is never replaced, so that
// goroutines and file descriptors are the same after a run as before it unless something
// leaked (the sandbox pool otherwise starts and stops workers as it sees fit).
func counterPCTX(t *testing.T, steady bool) *pctx.PCTX {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := pctx.DefaultConfig()
	cfg.Servers = map[string]pctx.Upstream{"counter": {
		Name:    "counter",
		Command: exe,
		// A -race child otherwise sleeps a second at exit, waiting for race reports.
		Env:   map[string]string{counterEnv: "1", "COUNTER_SESSION": "${session.id}", "GORACE": "atexit_sleep_ms=0"},
		Scope: "session",
	}}
	if steady {
		cfg.Server.MaxExecutions = 1
		cfg.Sandbox.WarmWorkers = 1
	}
	p := newPCTX(t, cfg)
	if st := p.Upstreams(); len(st) != 1 || st[0].State != "ready" || st[0].Scope != "session" {
		t.Fatalf("upstreams: %+v", st)
	}
	return p
}

const countProgram = "return await counter.count({})"

// counted is what countProgram returns.
type counted struct {
	Count   int    `json:"count"`
	PID     int    `json:"pid"`
	Session string `json:"session"`
}

// parseCounted reads countProgram's result from execute_typescript's text, whose first
// line is the returned value.
func parseCounted(t testing.TB, text string) counted {
	t.Helper()
	var c counted
	first, _, _ := strings.Cut(text, "\n")
	if err := json.Unmarshal([]byte(first), &c); err != nil || c.PID == 0 {
		t.Fatalf("not a count: %q", text)
	}
	return c
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || !bytes.HasPrefix(b[i+1:], []byte(" Z"))
}

// counterChildren lists this process's children that are counter upstreams.
func counterChildren(t testing.TB) []int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f) // a thread may have ended meanwhile
		for _, field := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(field)
			env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			if bytes.Contains(env, []byte(counterEnv+"=1\x00")) {
				out = append(out, pid)
			}
		}
	}
	return out
}

func openFDs(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// within polls cond until it holds, failing after a deadline that only catches hangs.
func within(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noLeakedGoroutines fails if goroutines beyond base are still running once a deadline
// that only catches hangs has passed (connections wind down asynchronously).
func noLeakedGoroutines(t testing.TB, base goleak.Option) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := goleak.Find(base)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines left: %v", err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// requireLinux skips where /proc, which the process checks read, does not exist.
func requireLinux(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("needs /proc")
	}
}

// mcpSession is one MCP client session over streamable HTTP.
type mcpSession struct {
	t   testing.TB
	c   *client.Client
	url string
	hc  *http.Client
}

func openMCP(t testing.TB, url string, hc *http.Client) *mcpSession {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url+"/mcp", transport.WithHTTPBasicClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = "2025-06-18"
	req.Params.ClientInfo = mcp.Implementation{Name: "session-test", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatal(err)
	}
	return &mcpSession{t: t, c: c, url: url, hc: hc}
}

// execute runs code in the session and returns the result text; a tool error fails.
func (s *mcpSession) execute(code string) string {
	s.t.Helper()
	text, isErr := s.try(code)
	if isErr {
		s.t.Fatalf("execute_typescript: %s", text)
	}
	return text
}

func (s *mcpSession) try(code string) (string, bool) {
	s.t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = "execute_typescript"
	req.Params.Arguments = map[string]any{"code": code}
	res, err := s.c.CallTool(context.Background(), req)
	if err != nil {
		s.t.Fatalf("execute_typescript: %v", err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

func (s *mcpSession) count() counted { return parseCounted(s.t, s.execute(countProgram)) }

// raw sends method to /mcp with the session's id and returns the status.
func (s *mcpSession) raw(method, body string) int {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", s.c.GetSessionId())
	resp, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (s *mcpSession) delete() int { return s.raw(http.MethodDelete, "") }

// TestSessionsOverHTTP: two MCP sessions against a stateful session-scoped upstream each
// see only their own count; DELETE of one stops its child process (before DELETE is
// answered) while the other keeps counting; the deleted id then gets 404.
func TestSessionsOverHTTP(t *testing.T) {
	requireLinux(t)
	p := counterPCTX(t, false)
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

	a, b := openMCP(t, srv.URL, hc), openMCP(t, srv.URL, hc)
	defer b.c.Close()
	for want := 1; want <= 3; want++ {
		if c := a.count(); c.Count != want {
			t.Fatalf("session a: count %d, want %d", c.Count, want)
		}
	}
	cb, ca := b.count(), a.count()
	if ca.Count != 4 || cb.Count != 1 || ca.PID == cb.PID || ca.Session == cb.Session || ca.Session == "" {
		t.Fatalf("a: %+v, b: %+v; want counts 4 and 1 from two processes with their own ${session.id}", ca, cb)
	}
	if !alive(ca.PID) || !alive(cb.PID) {
		t.Fatal("an upstream process is not running")
	}
	if st := p.Upstreams()[0]; st.Instances != 2 {
		t.Errorf("Instances = %d, want 2", st.Instances)
	}

	started := time.Now()
	if status := a.delete(); status != http.StatusOK {
		t.Fatalf("DELETE: %d", status)
	}
	// DELETE is answered once the session's instances are stopped, so this is no race.
	if alive(ca.PID) {
		t.Errorf("session a's upstream process %d is still running after DELETE was answered", ca.PID)
	}
	t.Logf("DELETE answered in %v, child %d gone", time.Since(started), ca.PID)
	if c := b.count(); c.Count != 2 || c.PID != cb.PID {
		t.Errorf("session b after a's DELETE: %+v, want count 2 from pid %d", c, cb.PID)
	}
	for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		body := `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`
		if status := a.raw(method, body); status != http.StatusNotFound {
			t.Errorf("%s with the deleted session id: %d, want 404", method, status)
		}
	}
	if st := p.Upstreams()[0]; st.Instances != 1 {
		t.Errorf("Instances = %d after a's DELETE, want 1", st.Instances)
	}
	a.c.Close()
}

// TestSessionLoopLeavesNothing: 50 MCP sessions opened, used and deleted one after
// another leave no upstream process, goroutine or file descriptor behind.
func TestSessionLoopLeavesNothing(t *testing.T) {
	requireLinux(t)
	p := counterPCTX(t, true)
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	hc := &http.Client{Transport: tr}

	// Warm up, so that what exists once per server (the sweeper, pools) is in the baseline.
	warm := openMCP(t, srv.URL, hc)
	warm.count()
	warm.c.Close()
	tr.CloseIdleConnections()
	within(t, "the warm-up session's process to go", func() bool { return len(counterChildren(t)) == 0 })
	baseFDs := openFDs(t)
	baseGoroutines := goleak.IgnoreCurrent()

	pids := map[int]bool{}
	for i := range 50 {
		s := openMCP(t, srv.URL, hc)
		if c := s.count(); c.Count != 1 || pids[c.PID] {
			t.Fatalf("session %d: %+v, want a fresh count from a new process", i, c)
		} else {
			pids[c.PID] = true
		}
		if status := s.delete(); status != http.StatusOK {
			t.Fatalf("session %d: DELETE: %d", i, status)
		}
		_ = s.c.Close()
	}
	for pid := range pids {
		if alive(pid) {
			t.Errorf("upstream process %d outlived its session", pid)
		}
	}
	if kids := counterChildren(t); len(kids) != 0 {
		t.Errorf("counter processes left: %v", kids)
	}
	if st := p.Upstreams()[0]; st.Instances != 0 {
		t.Errorf("Instances = %d, want 0", st.Instances)
	}
	tr.CloseIdleConnections()
	noLeakedGoroutines(t, baseGoroutines)
	fds := openFDs(t)
	within(t, fmt.Sprintf("open file descriptors (%d) to return to %d", fds, baseFDs), func() bool {
		fds = openFDs(t)
		return fds <= baseFDs
	})
}

// TestSessionOverStdio: a stdio client is one session: its executions share a count, the
// next pipe has its own, and closing a pipe stops its process before ServeStdio returns.
func TestSessionOverStdio(t *testing.T) {
	requireLinux(t)
	p := counterPCTX(t, false)
	type pipe struct {
		in   io.WriteCloser
		out  *bufio.Reader
		done chan error
		next int
	}
	open := func() *pipe {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		pp := &pipe{in: inW, out: bufio.NewReader(outR), done: make(chan error, 1)}
		go func() {
			pp.done <- p.ServeStdio(context.Background(), inR, outW)
			outW.Close()
		}()
		return pp
	}
	send := func(pp *pipe, method string, params any) json.RawMessage {
		t.Helper()
		pp.next++
		msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": pp.next, "method": method, "params": params})
		if _, err := pp.in.Write(append(msg, '\n')); err != nil {
			t.Fatal(err)
		}
		line, err := pp.out.ReadBytes('\n')
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Result struct {
				Content []struct{ Text string }
				IsError bool
			}
		}
		if err := json.Unmarshal(line, &resp); err != nil {
			t.Fatalf("%s: %s", method, line)
		}
		if method == "tools/call" {
			if resp.Result.IsError || len(resp.Result.Content) != 1 {
				t.Fatalf("tools/call: %s", line)
			}
			return json.RawMessage(resp.Result.Content[0].Text)
		}
		return line
	}
	count := func(pp *pipe) counted {
		t.Helper()
		return parseCounted(t, string(send(pp, "tools/call", map[string]any{"name": "execute_typescript", "arguments": map[string]any{"code": countProgram}})))
	}
	init := map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "t", "version": "1"}}
	// One pipe at a time: mcp-go's stdio server keeps its one session in a package variable.
	var last counted
	for i := range 2 {
		x := open()
		send(x, "initialize", init)
		x1, x2 := count(x), count(x)
		if x1.Count != 1 || x2.Count != 2 || x2.PID != x1.PID || x1.PID == last.PID {
			t.Fatalf("pipe %d: %+v then %+v; want 1 and 2 from one process of its own", i, x1, x2)
		}
		x.in.Close()
		if err := <-x.done; err != nil {
			t.Fatal(err)
		}
		if alive(x1.PID) {
			t.Errorf("pipe %d's process %d outlived ServeStdio", i, x1.PID)
		}
		last = x1
	}
}

// sdkConn is a pctx/1 worker connection (docs/protocol.md) that drives Code Mode.
type sdkConn struct {
	t    testing.TB
	ws   *websocket.Conn
	next int
}

func dialSDK(t testing.TB, url string, header http.Header) *sdkConn {
	t.Helper()
	ws, resp, err := websocket.Dial(context.Background(), strings.Replace(url, "http", "ws", 1)+"/ws", &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c := &sdkConn{t: t, ws: ws}
	if header == nil {
		c.request("initialize", map[string]any{"protocolVersion": "pctx/1", "client": map[string]any{"name": "session-test", "version": "1"}})
	}
	return c
}

func (c *sdkConn) request(method string, params any) json.RawMessage {
	c.t.Helper()
	c.next++
	id := fmt.Sprintf(`"r%d"`, c.next)
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": json.RawMessage(id), "method": method, "params": params})
	ctx := context.Background()
	if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		c.t.Fatal(err)
	}
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatal(err)
		}
		var f struct {
			ID     json.RawMessage
			Result json.RawMessage
			Error  json.RawMessage
		}
		if json.Unmarshal(data, &f) == nil && string(f.ID) == id {
			if len(f.Error) > 0 {
				c.t.Fatalf("%s: %s", method, f.Error)
			}
			return f.Result
		}
	}
}

func (c *sdkConn) count() counted {
	c.t.Helper()
	var res struct {
		Value counted
		Error any
	}
	raw := c.request("execute_typescript", map[string]any{"code": countProgram})
	if err := json.Unmarshal(raw, &res); err != nil || res.Error != nil || res.Value.PID == 0 {
		c.t.Fatalf("execute_typescript: %s", raw)
	}
	return res.Value
}

// countLegacy is count for a published-client connection: its naming (Counter.count)
// and its result shape.
func (c *sdkConn) countLegacy() counted {
	c.t.Helper()
	var res struct {
		Success bool
		Output  counted
	}
	raw := c.request("execute_typescript", map[string]any{"code": "return await Counter.count({})"})
	if err := json.Unmarshal(raw, &res); err != nil || !res.Success || res.Output.PID == 0 {
		c.t.Fatalf("execute_typescript: %s", raw)
	}
	return res.Output
}

func (c *sdkConn) close() { c.ws.Close(websocket.StatusNormalClosure, "done") }

// TestSessionsOverSDKConnections: an SDK worker connection is a session: its executions
// share a count, another connection has its own, closing the connection stops its
// process, and 50 connections leave nothing behind. A published-client session is one
// session over its websockets, stopped by session/close.
func TestSessionsOverSDKConnections(t *testing.T) {
	requireLinux(t)
	p := counterPCTX(t, true)
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()

	a, b := dialSDK(t, srv.URL, nil), dialSDK(t, srv.URL, nil)
	a1, a2, b1 := a.count(), a.count(), b.count()
	if a1.Count != 1 || a2.Count != 2 || a2.PID != a1.PID || b1.Count != 1 || b1.PID == a1.PID {
		t.Fatalf("connection a: %+v then %+v, b: %+v", a1, a2, b1)
	}
	a.close()
	within(t, "the closed connection's process to stop", func() bool { return !alive(a1.PID) })
	if c := b.count(); c.Count != 2 || c.PID != b1.PID {
		t.Errorf("connection b after a closed: %+v", c)
	}
	b.close()
	within(t, "no counter process", func() bool { return len(counterChildren(t)) == 0 })

	baseGoroutines := goleak.IgnoreCurrent()
	baseFDs := openFDs(t)
	for i := range 50 {
		c := dialSDK(t, srv.URL, nil)
		if got := c.count(); got.Count != 1 {
			t.Fatalf("connection %d: %+v", i, got)
		}
		c.close()
	}
	within(t, "no counter process", func() bool { return len(counterChildren(t)) == 0 })
	noLeakedGoroutines(t, baseGoroutines)
	within(t, "open file descriptors to return to the baseline", func() bool { return openFDs(t) <= baseFDs })

	t.Run("published client", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/code-mode/session/create", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		var created struct {
			SessionID string `json:"session_id"`
		}
		json.NewDecoder(resp.Body).Decode(&created)
		resp.Body.Close()
		header := http.Header{"X-Code-Mode-Session": {created.SessionID}}
		// The published client opens one websocket per execution; the session spans them.
		first := dialSDK(t, srv.URL, header)
		c1 := first.countLegacy()
		first.close()
		second := dialSDK(t, srv.URL, header)
		c2 := second.countLegacy()
		second.close()
		if c1.Count != 1 || c2.Count != 2 || c2.PID != c1.PID {
			t.Fatalf("two websockets of one session: %+v then %+v, want 1 and 2 from one process", c1, c2)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/code-mode/session/close", nil)
		req.Header.Set("X-Code-Mode-Session", created.SessionID)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("session/close: %d", resp.StatusCode)
		}
		if alive(c1.PID) {
			t.Errorf("the published-client session's process %d outlived session/close", c1.PID)
		}
	})
}

// TestSessionAPI: an embedder's Session shares one instance between its executions;
// Execute alone gets a fresh one each time.
func TestSessionAPI(t *testing.T) {
	requireLinux(t)
	p := counterPCTX(t, false)
	ctx := context.Background()
	run := func(exec func(context.Context, string) (*pctx.Result, error)) counted {
		t.Helper()
		res, err := exec(ctx, countProgram)
		if err != nil || res.Error != nil {
			t.Fatalf("execute: %v %+v", err, res.Error)
		}
		return parseCounted(t, res.Text())
	}
	s := p.NewSession()
	c1, c2 := run(s.Execute), run(s.Execute)
	if c1.Count != 1 || c2.Count != 2 || c1.Session != s.ID() {
		t.Errorf("one session: %+v then %+v (session id %s)", c1, c2, s.ID())
	}
	s.Close()
	if alive(c1.PID) {
		t.Errorf("process %d outlived Session.Close", c1.PID)
	}
	if res, err := s.Execute(ctx, countProgram); err != nil || res.Error == nil || !strings.Contains(res.Error.Message, "the client session has ended") {
		t.Errorf("execution in a closed session: %v %+v", err, res)
	}
	e1 := run(p.Execute)
	if e1.Count != 1 || alive(e1.PID) {
		t.Errorf("a lone Execute: %+v (alive %v), want count 1 from a process stopped when it ended", e1, alive(e1.PID))
	}
}
