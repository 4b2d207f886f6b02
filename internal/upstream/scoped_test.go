//go:build unix

package upstream

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/config"
)

// counterConfig is a session-scoped fake whose "count" tool counts its own calls.
func counterConfig(t testing.TB, name string) config.Upstream {
	t.Helper()
	cfg := fakeConfig(t, name, "counter")
	cfg.Scope = config.ScopeSession
	cfg.Args = []string{"--data=/tmp/" + config.SessionID}
	cfg.Env["FAKE_SESSION"] = config.SessionID
	return cfg
}

// callIn calls ns.tool as a program of session cs would.
func callIn(t testing.TB, reg *fakeRegistry, cs *clientsession.Session, ns, tool string) (map[string]any, error) {
	t.Helper()
	ctx := context.Background()
	if cs != nil {
		ctx = clientsession.NewContext(ctx, cs)
	}
	v, err := reg.tool(t, ns, tool).Call(ctx, nil)
	if err != nil {
		return nil, err
	}
	out, _ := plain(t, v).(map[string]any)
	return out, nil
}

// count calls counter's count in cs and returns the count and the instance's pid.
func count(t testing.TB, reg *fakeRegistry, cs *clientsession.Session) (n, pid int) {
	t.Helper()
	out, err := callIn(t, reg, cs, "counter", "count")
	if err != nil {
		t.Fatalf("count in session %s: %v", cs.Key(), err)
	}
	return int(out["count"].(float64)), int(out["pid"].(float64))
}

// exists reports whether process pid exists (a child pctx has reaped does not).
func exists(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestSessionScopedInstances(t *testing.T) {
	reg := newFakeRegistry()
	m, logs := startManager(t, reg, testTuning, counterConfig(t, "counter"))

	// The probe listed the tools and is gone.
	if st := statusOf(m, "counter"); st.State != StateReady || st.Scope != config.ScopeSession || st.Tools != 5 || st.Instances != 0 {
		t.Fatalf("status after Start = %+v", st)
	}
	if !strings.Contains(logs.String(), "session=probe") {
		t.Errorf("the probe did not log under session=probe:\n%s", logs)
	}

	a, b := clientsession.Begin("mcp:a"), clientsession.Begin("mcp:b")
	defer b.End()
	for want := 1; want <= 3; want++ {
		if n, _ := count(t, reg, a); n != want {
			t.Fatalf("session a: count = %d, want %d", n, want)
		}
	}
	nb, pidB := count(t, reg, b)
	na, pidA := count(t, reg, a)
	if na != 4 || nb != 1 || pidA == pidB {
		t.Fatalf("a counted %d (pid %d), b %d (pid %d): want 4 and 1 in two processes", na, pidA, nb, pidB)
	}
	if st := statusOf(m, "counter"); st.Instances != 2 {
		t.Errorf("Instances = %d, want 2", st.Instances)
	}

	// ${session.id} is the session's opaque id, in args and env.
	info, err := callIn(t, reg, a, "counter", "info")
	if err != nil {
		t.Fatal(err)
	}
	if args := info["args"].([]any); len(args) != 1 || args[0] != "--data=/tmp/"+a.ID() || info["session"] != a.ID() {
		t.Errorf("instance of a got args %v and FAKE_SESSION %v, want its id %s", args, info["session"], a.ID())
	}

	// Ending a session stops its process before End returns; the other session goes on.
	a.End()
	if exists(pidA) {
		t.Errorf("session a's process %d outlived End", pidA)
	}
	if _, err := callIn(t, reg, a, "counter", "count"); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("call in an ended session: %v, want ErrSessionEnded", err)
	}
	if n, pid := count(t, reg, b); n != 2 || pid != pidB {
		t.Errorf("session b after a ended: count %d in pid %d, want 2 in %d", n, pid, pidB)
	}
	if st := statusOf(m, "counter"); st.Instances != 1 {
		t.Errorf("Instances = %d after a ended, want 1", st.Instances)
	}

	// Without a session there is no instance to call.
	if _, err := callIn(t, reg, nil, "counter", "count"); !errors.Is(err, ErrNoSession) ||
		!strings.Contains(err.Error(), `upstream "counter": tool "count": the call belongs to no client session`) {
		t.Errorf("call without a session: %v", err)
	}

	// Close stops the rest.
	m.Close()
	if exists(pidB) {
		t.Errorf("session b's process %d outlived Close", pidB)
	}
	if _, err := m.servers[0].call(clientsession.NewContext(context.Background(), b), "count", nil); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("a call after Close: %v, want ErrConnectionLost", err)
	}
}

func TestSessionScopedConcurrentFirstCalls(t *testing.T) {
	reg := newFakeRegistry()
	startManager(t, reg, testTuning, counterConfig(t, "counter"))
	cs := clientsession.Begin("ws:1")
	defer cs.End()
	const n = 20
	pids := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, pid := count(t, reg, cs)
			pids <- pid
		})
	}
	wg.Wait()
	close(pids)
	first := <-pids
	for pid := range pids {
		if pid != first {
			t.Fatalf("one session's concurrent first calls reached processes %d and %d", first, pid)
		}
	}
	if got, _ := count(t, reg, cs); got != n+1 {
		t.Errorf("count = %d after %d calls, want %d", got, n, n+1)
	}
}

func TestSessionScopedLimits(t *testing.T) {
	reg := newFakeRegistry()
	logger, _ := newTestLogger(t)
	one := counterConfig(t, "counter")
	one.MaxSessions = 1
	other := counterConfig(t, "other")
	m := newManager(reg, configMap(one, other), &Options{Logger: logger, MaxSessionInstances: 2}, testTuning)
	m.Start(context.Background())
	defer m.Close()

	a, b, c := clientsession.Begin("mcp:a"), clientsession.Begin("mcp:b"), clientsession.Begin("mcp:c")
	defer c.End()
	count(t, reg, a)
	_, err := callIn(t, reg, b, "counter", "count")
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), `busy: 1 instances of this server are running, one per client session, its limit ([servers.counter] max_sessions)`) {
		t.Fatalf("second session over max_sessions: %v", err)
	}
	if _, err := callIn(t, reg, b, "other", "count"); err != nil {
		t.Fatalf("another server within the global limit: %v", err)
	}
	_, err = callIn(t, reg, c, "other", "count")
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), `busy: 2 instances of session-scoped servers are running, pctx's limit ([server] max_session_upstreams)`) {
		t.Fatalf("third instance over the global limit: %v", err)
	}
	// Ending a session frees its instances' places at once.
	a.End()
	b.End()
	if n, _ := count(t, reg, c); n != 1 {
		t.Errorf("after the others ended: count %d, want 1", n)
	}
	if _, err := callIn(t, reg, c, "other", "count"); err != nil {
		t.Errorf("after the others ended: %v", err)
	}
}

func TestSessionScopedStartFailureAndCrash(t *testing.T) {
	reg := newFakeRegistry()
	cfg := counterConfig(t, "counter")
	failFile := filepath.Join(t.TempDir(), "fail")
	cfg.Env["FAKE_FAIL_IF_EXISTS"] = failFile
	startManager(t, reg, testTuning, cfg)
	cs := clientsession.Begin("mcp:a")
	defer cs.End()

	if err := os.WriteFile(failFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := callIn(t, reg, cs, "counter", "count")
	if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), `upstream "counter": tool "count": could not start an instance for this session: `) ||
		!strings.Contains(err.Error(), "exit status 7 (stderr: fatal: told to fail by") {
		t.Fatalf("start failure: %v", err)
	}
	// A failed start is not remembered: the next call tries again.
	if err := os.Remove(failFile); err != nil {
		t.Fatal(err)
	}
	_, pid := count(t, reg, cs)

	// A crashed instance fails the calls in flight; the session's next call starts another.
	if _, err := callIn(t, reg, cs, "counter", "crash"); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("crash: %v, want ErrConnectionLost", err)
	}
	if n, newPID := count(t, reg, cs); n != 1 || newPID == pid {
		t.Errorf("after the crash: count %d in pid %d (the crashed one was %d), want 1 in a new process", n, newPID, pid)
	}
}

func TestSessionEndsWhileCallsWait(t *testing.T) {
	reg := newFakeRegistry()
	_, logs := startManager(t, reg, testTuning, counterConfig(t, "counter"))
	cs := clientsession.Begin("mcp:a")
	_, pid := count(t, reg, cs)
	errc := make(chan error, 1)
	go func() {
		_, err := callIn(t, reg, cs, "counter", "hang")
		errc <- err
	}()
	eventually(t, "the hanging call to arrive", func() bool { return strings.Contains(logs.String(), "hang received") })
	cs.End()
	if err := <-errc; !errors.Is(err, ErrSessionEnded) {
		t.Errorf("call in flight when its session ended: %v, want ErrSessionEnded", err)
	}
	if exists(pid) {
		t.Errorf("process %d outlived its session", pid)
	}
}

func TestSessionScopedListChanged(t *testing.T) {
	reg := newFakeRegistry()
	startManager(t, reg, testTuning, counterConfig(t, "counter"))
	cs := clientsession.Begin("mcp:a")
	defer cs.End()
	if _, err := callIn(t, reg, cs, "counter", "change"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the listing to gain the added tool", func() bool {
		ns, _ := reg.get("counter")
		for _, tool := range ns.Tools {
			if tool.Name == "added" {
				return true
			}
		}
		return false
	})
}

// A session-scoped URL server gets one MCP session per client session: its own
// Mcp-Session-Id upstream (so the server's per-session state is per client), the
// session's id in the URL and headers, and a DELETE when the client session ends.
func TestSessionScopedHTTP(t *testing.T) {
	mcpSrv := mcpserver.NewMCPServer("counter", "1", mcpserver.WithToolCapabilities(false))
	var mu sync.Mutex
	counts := map[string]int{} // by upstream MCP session
	var deleted []string
	mcpSrv.AddTool(mcp.NewTool("count"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		id := mcpserver.ClientSessionFromContext(ctx).SessionID()
		mu.Lock()
		defer mu.Unlock()
		counts[id]++
		return mcp.NewToolResultStructured(map[string]any{"count": counts[id]}, "count"), nil
	})
	streamable := mcpserver.NewStreamableHTTPServer(mcpSrv, mcpserver.WithStateful(true))
	t.Cleanup(func() { streamable.Shutdown(context.Background()) })
	var seen sync.Map // X-Pctx-Session values and URL queries seen
	peer := startHTTPPeer(t, func(string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Store(r.Header.Get("X-Pctx-Session")+" "+r.URL.RawQuery, true)
			if r.Method == http.MethodDelete {
				mu.Lock()
				deleted = append(deleted, r.Header.Get("Mcp-Session-Id"))
				mu.Unlock()
			}
			streamable.ServeHTTP(w, r)
		})
	})
	cfg := httpConfig("web", "http://"+peer.addr+"/mcp?s="+config.SessionID, "streamable-http")
	cfg.Headers["X-Pctx-Session"] = config.SessionID
	cfg.Scope = config.ScopeSession
	reg := newFakeRegistry()
	startManager(t, reg, testTuning, cfg)

	a, b := clientsession.Begin("mcp:a"), clientsession.Begin("mcp:b")
	defer b.End()
	n := func(cs *clientsession.Session) int {
		t.Helper()
		out, err := callIn(t, reg, cs, "web", "count")
		if err != nil {
			t.Fatal(err)
		}
		return int(out["count"].(float64))
	}
	if got := []int{n(a), n(a), n(b), n(a)}; !reflect.DeepEqual(got, []int{1, 2, 1, 3}) {
		t.Fatalf("counts %v, want [1 2 1 3]", got)
	}
	for _, id := range []string{"probe", a.ID(), b.ID()} {
		if _, ok := seen.Load(id + " s=" + id); !ok {
			t.Errorf("no request carried session id %s in its header and URL", id)
		}
	}
	a.End()
	mu.Lock()
	ended := len(deleted)
	mu.Unlock()
	if ended != 2 { // the probe's, then a's
		t.Errorf("%d upstream sessions deleted after a ended, want 2 (the probe's and a's)", ended)
	}
	if got := n(b); got != 2 {
		t.Errorf("b after a ended: %d, want 2", got)
	}
}

// BenchmarkSessionScoped compares a call on a session's running instance (the same
// round trip as BenchmarkCallStdio) with a session's whole life: its first call starts
// the instance (spawn, initialize), then the session ends and the instance stops.
func BenchmarkSessionScoped(b *testing.B) {
	reg := newFakeRegistry()
	startManager(b, reg, testTuning, counterConfig(b, "counter"))
	tool := reg.tool(b, "counter", "count")
	b.Run("call", func(b *testing.B) {
		cs := clientsession.Begin("bench")
		defer cs.End()
		ctx := clientsession.NewContext(context.Background(), cs)
		if _, err := tool.Call(ctx, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tool.Call(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("session", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cs := clientsession.Begin("bench")
			if _, err := tool.Call(clientsession.NewContext(context.Background(), cs), nil); err != nil {
				b.Fatal(err)
			}
			cs.End()
		}
	})
}
