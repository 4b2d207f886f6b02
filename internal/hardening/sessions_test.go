package hardening

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
)

// sessionConfig has one session-scoped upstream, "counter", that counts its calls and
// gets its session's id as its one argument.
var sessionConfig = upstreamConfig("counter", "counter", "scope = \"session\"\nargs = [\"${session.id}\"]")

type count struct {
	Count int
	PID   int
	Args  []string
}

func countIn(t *testing.T, c *client.Client) count {
	t.Helper()
	var n count
	if err := json.Unmarshal([]byte(mustValue(t, c, "return await counter.count({})")), &n); err != nil || n.PID == 0 || len(n.Args) != 1 {
		t.Fatalf("count: %+v, %v", n, err)
	}
	return n
}

// gone waits until pid has exited, failing after a deadline that only catches leaks.
func gone(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: process %d still running", what, pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSessionScopedUpstream runs a session-scoped upstream under the real binary, from
// pctx.toml: over HTTP each MCP session has its own process, which DELETE stops; over
// stdio the process is the one session, and the upstream stops with it.
func TestSessionScopedUpstream(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		p := startHTTP(t, sessionConfig)
		a, b := p.httpClient(t), p.httpClient(t)
		a1, a2, b1 := countIn(t, a), countIn(t, a), countIn(t, b)
		if a1.Count != 1 || a2.Count != 2 || a2.PID != a1.PID || b1.Count != 1 || b1.PID == a1.PID || a1.Args[0] == b1.Args[0] {
			t.Fatalf("a: %+v then %+v, b: %+v; want per-session processes, counts and ids", a1, a2, b1)
		}
		req, _ := http.NewRequest(http.MethodDelete, p.url+"/mcp", nil)
		req.Header.Set("Mcp-Session-Id", a.GetSessionId())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
		if alive(a1.PID) {
			t.Errorf("session a's upstream %d still runs after DELETE was answered", a1.PID)
		}
		if b2 := countIn(t, b); b2.Count != 2 || b2.PID != b1.PID {
			t.Errorf("session b after a's DELETE: %+v", b2)
		}
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("DELETE of a deleted session: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("stdio", func(t *testing.T) {
		p, c := startStdio(t, sessionConfig)
		c1, c2 := countIn(t, c), countIn(t, c)
		if c1.Count != 1 || c2.Count != 2 || c2.PID != c1.PID {
			t.Fatalf("one stdio client: %+v then %+v, want one process counting 1, 2", c1, c2)
		}
		// Closing the client closes pctx's stdin (the session ends, pctx exits) and its
		// stderr: pctx must still stop cleanly, not die of SIGPIPE logging the shutdown.
		if err := c.Close(); err != nil {
			t.Errorf("pctx did not exit cleanly when its client closed its pipes: %v", err)
		}
		gone(t, p.pid, "pctx after its stdin closed")
		gone(t, c1.PID, "the stdio session's upstream")
	})
}
