package compat

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/clientsession"
	"github.com/pctx-dev/pctx/internal/codemode"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
)

// SessionTool is a tool the published pctx-client registers for its code-mode session
// (REST POST /register/tools). Session tools are visible only to that session's
// executions and are called over its compatibility websocket.
type SessionTool struct {
	Name         string          `json:"name"`
	Namespace    string          `json:"namespace"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
}

// session is one published-client session: its tools (POST /register/tools) and
// the MCP servers it started (POST /register/servers).
type session struct {
	// addMu serialises AddSessionTools on this session, which merges outside srv.mu.
	addMu sync.Mutex

	// Guarded by Bridge.mu. tools is never modified in place: readers may keep it.
	tools    []SessionTool
	servers  map[string]*clientServer
	lastUsed time.Time
	conns    int // open compatibility connections

	// life is the client session every execution of this session runs in, over all its
	// websockets; it ends with the session.
	life *clientsession.Session
}

// end stops the session's MCP servers and ends its client session, which stops its
// instances of session-scoped upstreams ([servers.NAME] scope = "session").
func (s *session) end() {
	var wg sync.WaitGroup
	wg.Go(s.stopServers)
	wg.Go(s.life.End)
	wg.Wait()
}

// maxSessions bounds the published-client sessions alive at once; each may hold up to
// sdkbridge.MaxNamespaces × sdkbridge.MaxToolsPerNamespace tools and start MCP servers.
const maxSessions = 1000

// CreateSession starts a code-mode session for the published client and returns its id
// (REST POST /code-mode/session/create). Sessions idle for Options.SessionIdleTTL end
// first; with maxSessions (1000) still alive it fails.
func (srv *Server) CreateSession() (string, error) {
	id := rand.Text()
	now := srv.now()
	var expired []*session
	srv.mu.Lock()
	for sid, s := range srv.sessions {
		if s.conns == 0 && now.Sub(s.lastUsed) > srv.opts.SessionIdleTTL {
			expired = append(expired, s)
			delete(srv.sessions, sid)
		}
	}
	full := len(srv.sessions) >= maxSessions
	if !full {
		srv.sessions[id] = &session{servers: map[string]*clientServer{}, lastUsed: now, life: clientsession.Begin("compat:" + id)}
	}
	srv.mu.Unlock()
	for _, s := range expired {
		s.end()
	}
	if len(expired) > 0 {
		srv.log.Info("compat: idle code-mode sessions ended", "count", len(expired))
	}
	if full {
		return "", fmt.Errorf("%d code-mode sessions are open, the limit: close finished ones with POST /code-mode/session/close (idle ones end after %v)", maxSessions, srv.opts.SessionIdleTTL)
	}
	return id, nil
}

// useSession marks session id as used now and counts delta open connections on it,
// reporting whether it exists.
func (srv *Server) useSession(id string, delta int) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	s, ok := srv.sessions[id]
	if ok {
		s.lastUsed = srv.now()
		s.conns += delta
	}
	return ok
}

// openSession counts a new connection on session id and returns the session, or nil
// when there is none.
func (srv *Server) openSession(id string) *session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	s := srv.sessions[id]
	if s != nil {
		s.lastUsed = srv.now()
		s.conns++
	}
	return s
}

// DefaultNamespace is the namespace of a session tool registered without one, as in the
// original pctx: the published client's default, which programs call as Tools.
const DefaultNamespace = "tools"

// AddSessionTools adds tools to session id (REST POST /register/tools). A tool with the
// namespace and name of an earlier one, in the session or earlier in tools, replaces it in
// its place; one without a namespace goes to DefaultNamespace. The limits of a worker's
// register apply (docs/protocol.md §6): names of at most 128 bytes, 1,000 tools per
// namespace, 100 namespaces per session, 1 MiB of names, descriptions and schemas per
// namespace and 4 MiB per session.
func (srv *Server) AddSessionTools(id string, tools []SessionTool) error {
	tools = slices.Clone(tools)
	for i, t := range tools {
		if t.Namespace == "" {
			tools[i].Namespace, t.Namespace = DefaultNamespace, DefaultNamespace
		}
		switch {
		case t.Name == "":
			return fmt.Errorf("session %q: tools[%d]: name is required", id, i)
		case len(t.Namespace) > sdkbridge.MaxNameBytes:
			return fmt.Errorf("session %q: tools[%d]: namespace %q is longer than %d bytes", id, i, clip(t.Namespace), sdkbridge.MaxNameBytes)
		case len(t.Name) > sdkbridge.MaxNameBytes:
			return fmt.Errorf("session %q: tools[%d]: name %q is longer than %d bytes", id, i, clip(t.Name), sdkbridge.MaxNameBytes)
		}
		if err := catalog.CheckNames(t.Namespace, t.Name); err != nil {
			return fmt.Errorf("session %q: tools[%d]: %w", id, i, err)
		}
	}
	srv.mu.Lock()
	s, ok := srv.sessions[id]
	srv.mu.Unlock()
	if !ok {
		return fmt.Errorf("unknown code-mode session %q", id)
	}
	s.addMu.Lock()
	defer s.addMu.Unlock()
	srv.mu.Lock()
	old := s.tools
	srv.mu.Unlock()
	merged, namespaces, err := mergeTools(old, tools)
	if err != nil {
		return fmt.Errorf("session %q: %w", id, err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[id] != s {
		return fmt.Errorf("code-mode session %q was closed meanwhile", id)
	}
	for _, ns := range namespaces {
		if s.servers[ns] != nil {
			return fmt.Errorf("session %q: namespace %q is an MCP server registered by this session", id, ns)
		}
	}
	s.tools = merged
	return nil
}

// mergeTools returns old with add merged in (an entry with the same namespace and name
// replaces the earlier one in its place) and the namespaces add names, refusing to pass
// the per-namespace and per-session limits. old is not modified.
func mergeTools(old, add []SessionTool) ([]SessionTool, []string, error) {
	type key struct{ ns, name string }
	out := make([]SessionTool, 0, len(old)+len(add))
	index := make(map[key]int, len(old)+len(add))
	perNS := map[string]int{}
	for _, t := range old {
		index[key{t.Namespace, t.Name}] = len(out)
		out = append(out, t)
		perNS[t.Namespace]++
	}
	var namespaces []string
	named := map[string]bool{}
	for _, t := range add {
		if !named[t.Namespace] {
			named[t.Namespace] = true
			namespaces = append(namespaces, t.Namespace)
		}
		k := key{t.Namespace, t.Name}
		if i, ok := index[k]; ok {
			out[i] = t
			continue
		}
		switch n := perNS[t.Namespace]; {
		case n == 0 && len(perNS) >= sdkbridge.MaxNamespaces:
			return nil, nil, fmt.Errorf("namespace %q: the session would have more than the limit of %d namespaces", t.Namespace, sdkbridge.MaxNamespaces)
		case n >= sdkbridge.MaxToolsPerNamespace:
			return nil, nil, fmt.Errorf("namespace %q would have more than the limit of %d tools", t.Namespace, sdkbridge.MaxToolsPerNamespace)
		}
		perNS[t.Namespace]++
		index[k] = len(out)
		out = append(out, t)
	}
	// The byte limits of a worker's register, counted over the merged result.
	total := 0
	nsBytes := map[string]int{}
	for _, t := range out {
		n := sdkbridge.ToolBytes(t.Name, t.Description, t.InputSchema, t.OutputSchema, nil)
		if nsBytes[t.Namespace] == 0 {
			n += len(t.Namespace)
		}
		nsBytes[t.Namespace] += n
		total += n
	}
	for _, ns := range namespaces {
		if n := nsBytes[ns]; n > sdkbridge.MaxNamespaceBytes {
			return nil, nil, fmt.Errorf("namespace %q: its names, descriptions and schemas would take %d bytes, more than the limit of %d bytes per namespace; shorten the descriptions or split the tools over several namespaces", ns, n, sdkbridge.MaxNamespaceBytes)
		}
	}
	if total > sdkbridge.MaxRegisteredBytes {
		return nil, nil, fmt.Errorf("the session's tools would take %d bytes of names, descriptions and schemas, more than the limit of %d bytes per session", total, sdkbridge.MaxRegisteredBytes)
	}
	return out, namespaces, nil
}

// CloseSession ends session id (REST POST /code-mode/session/close), reporting whether it
// existed, and stops the MCP servers it started and its instances of session-scoped
// upstreams. Its open compatibility connections keep running but see no tools.
func (srv *Server) CloseSession(id string) bool {
	srv.mu.Lock()
	s, ok := srv.sessions[id]
	delete(srv.sessions, id)
	srv.mu.Unlock()
	if ok {
		s.end()
	}
	return ok
}

// sessionTools returns session id's tools and the namespaces of its MCP servers.
func (srv *Server) sessionTools(id string) ([]SessionTool, []catalog.Namespace, bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	s, ok := srv.sessions[id]
	if !ok {
		return nil, nil, false
	}
	var servers []catalog.Namespace
	for _, name := range slices.Sorted(maps.Keys(s.servers)) {
		if ns, ok := s.servers[name].namespace(); ok {
			servers = append(servers, ns)
		}
	}
	return s.tools, servers, true
}

// legacyNamespaces groups session tools into namespaces whose calls go to call (the
// session's compatibility connection).
func legacyNamespaces(tools []SessionTool, call sdkbridge.CallFunc) []catalog.Namespace {
	var out []catalog.Namespace
	index := map[string]int{}
	for _, t := range tools {
		i, ok := index[t.Namespace]
		if !ok {
			i = len(out)
			index[t.Namespace] = i
			out = append(out, catalog.Namespace{Name: t.Namespace, RefuseReserved: true})
		}
		nsName, toolName := t.Namespace, t.Name
		out[i].Tools = append(out[i].Tools, catalog.Tool{
			Name: t.Name, Description: t.Description,
			InputSchema: nullToNil(t.InputSchema), OutputSchema: nullToNil(t.OutputSchema),
			Call: func(ctx context.Context, args map[string]any) (any, error) {
				return call(ctx, nsName, toolName, args)
			},
		})
	}
	return out
}

// legacyResult is the published client's execute result (docs/protocol.md §10.2). Its
// trace lists every call: upstream calls, and calls of the session's own MCP servers
// (sessionServers, by their names), as mcp_tool_call events, the rest as
// callback_invocation events. Arguments and outputs are left out: the published client
// reads them as optional, and they may be large.
func legacyResult(rec *codemode.Record, sessionServers map[string]bool) map[string]any {
	r := rec.Result
	var stdout, stderr []string
	for _, l := range r.Console {
		if l.Level == "warn" || l.Level == "error" {
			stderr = append(stderr, l.Text)
		} else {
			stdout = append(stdout, l.Text)
		}
	}
	if r.Error != nil {
		msg := r.Error.Message
		if r.Error.Line > 0 {
			msg = fmt.Sprintf("%s (line %d:%d)", msg, r.Error.Line, r.Error.Column)
		}
		stderr = append(stderr, msg)
	}
	events := make([]any, 0, len(rec.Calls))
	for _, c := range rec.Calls {
		outcome := map[string]any{"type": "success"}
		if c.Outcome != "ok" {
			msg := c.Error
			if msg == "" {
				msg = c.Outcome
			}
			outcome = map[string]any{"type": "error", "message": msg}
		}
		ev := map[string]any{"outcome": outcome, "started_at": systemTime(c.Started), "ended_at": systemTime(c.Ended)}
		// Named as registered, as the original's ids are, whatever the program called them.
		switch {
		case c.Backend == "upstream":
			ev["type"], ev["server"], ev["tool"], ev["cached_client"] = "mcp_tool_call", c.Source, c.RegisteredFunction, true
		case c.Backend == "session" && sessionServers[c.RegisteredNamespace]:
			ev["type"], ev["server"], ev["tool"], ev["cached_client"] = "mcp_tool_call", c.RegisteredNamespace, c.RegisteredFunction, true
		default:
			ev["type"], ev["id"] = "callback_invocation", c.RegisteredNamespace+"."+c.RegisteredFunction
		}
		events = append(events, ev)
	}
	return map[string]any{
		"success": r.Error == nil,
		"stdout":  strings.Join(stdout, "\n"),
		"stderr":  strings.Join(stderr, "\n"),
		"output":  r.Value,
		"trace": map[string]any{
			"code":       rec.Code,
			"started_at": systemTime(rec.Started),
			"ended_at":   systemTime(rec.Ended),
			"events":     events,
		},
	}
}

// systemTime renders t as Rust's serde SystemTime, which the published client parses.
func systemTime(t time.Time) map[string]int64 {
	return map[string]int64{"secs_since_epoch": t.Unix(), "nanos_since_epoch": int64(t.Nanosecond())}
}
