package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pctx-dev/pctx/internal/apikey"
	"github.com/pctx-dev/pctx/internal/catalog"
	"github.com/pctx-dev/pctx/internal/config"
	"github.com/pctx-dev/pctx/internal/sdkbridge"
	"github.com/pctx-dev/pctx/internal/upstream"
	"github.com/pctx-dev/pctx/internal/vshell"
)

// Handler serves the REST endpoints of the published pctx-client
// (docs/protocol.md §10.1): session create and close, tool and server registration, and
// the function listing and details. Mount it at /code-mode/ and /register/, behind the
// same authentication as /ws.
func (srv *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /code-mode/session/create", srv.restCreate)
	mux.HandleFunc("POST /code-mode/session/close", srv.withSession(srv.restClose))
	mux.HandleFunc("POST /register/tools", srv.withSession(srv.restTools))
	mux.HandleFunc("POST /register/servers", srv.withSession(srv.restServers))
	mux.HandleFunc("POST /code-mode/functions/list", srv.withSession(srv.restList))
	mux.HandleFunc("POST /code-mode/functions/details", srv.withSession(srv.restDetails))
	mux.HandleFunc("POST /code-mode/execute-bash", srv.withSession(srv.restBash))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		restError(w, http.StatusNotFound, fmt.Sprintf("%s %s: no such endpoint (docs/protocol.md §10 lists the published client's endpoints pctx serves)", r.Method, r.URL.Path))
	})
	return mux
}

func restError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeBody reads a JSON request body into v; an empty body leaves v as it is.
func (srv *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, srv.opts.MaxBodyBytes))
	if err != nil {
		return fmt.Errorf("reading the body: %w", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("the body is not the expected JSON: %w", err)
	}
	return nil
}

func (srv *Server) restCreate(w http.ResponseWriter, _ *http.Request) {
	if srv.isClosed() {
		restError(w, http.StatusServiceUnavailable, "pctx is shutting down")
		return
	}
	id, err := srv.CreateSession()
	if err != nil {
		restError(w, http.StatusServiceUnavailable, "create session: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"session_id": id})
}

// withSession resolves the x-code-mode-session header before calling h.
func (srv *Server) withSession(h func(w http.ResponseWriter, r *http.Request, id string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(sdkbridge.SessionHeader)
		switch {
		case id == "":
			restError(w, http.StatusBadRequest, "missing x-code-mode-session header: create a session with POST /code-mode/session/create and send its session_id")
		case !srv.useSession(id, 0):
			restError(w, http.StatusNotFound, fmt.Sprintf("unknown code-mode session %q: it was closed or never created; create one with POST /code-mode/session/create", id))
		default:
			h(w, r, id)
		}
	}
}

func (srv *Server) restClose(w http.ResponseWriter, _ *http.Request, id string) {
	srv.CloseSession(id)
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

func (srv *Server) restTools(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Tools []SessionTool `json:"tools"`
	}
	if err := srv.decodeBody(w, r, &body); err != nil {
		restError(w, http.StatusBadRequest, "register tools: "+err.Error())
		return
	}
	for i, t := range body.Tools {
		if msg := sdkbridge.CheckTool(t.Name, t.InputSchema, t.OutputSchema); msg != "" {
			restError(w, http.StatusBadRequest, fmt.Sprintf("register tools: tools[%d] %s.%s: %s", i, t.Namespace, t.Name, msg))
			return
		}
	}
	if err := srv.AddSessionTools(id, body.Tools); err != nil {
		restError(w, http.StatusBadRequest, "register tools: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"registered": len(body.Tools)})
}

// clientServerSpec is one entry of POST /register/servers.
type clientServerSpec struct {
	Name    string            `json:"name"`
	URL     string            `json:"url"`
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
	Auth    *struct {
		Type    string            `json:"type"`
		Token   string            `json:"token"`
		Headers map[string]string `json:"headers"`
	} `json:"auth"`
}

var serverName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// upstreamConfig turns a client's server entry into an upstream config.
func (s clientServerSpec) upstreamConfig() (config.Upstream, error) {
	u := config.Upstream{Name: s.Name, Command: s.Command, Args: s.Args, Env: s.Env, URL: s.URL}
	switch {
	case !serverName.MatchString(s.Name):
		return u, fmt.Errorf("server name %q: want 1-64 letters, digits, '_' or '-'", s.Name)
	case (s.URL == "") == (s.Command == ""):
		return u, fmt.Errorf("server %q: give exactly one of url and command", s.Name)
	case s.URL != "" && !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://"):
		return u, fmt.Errorf("server %q: url %q must start with http:// or https://", s.Name, s.URL)
	}
	if s.Auth != nil {
		switch s.Auth.Type {
		case "bearer":
			u.Headers = map[string]string{"Authorization": "Bearer " + s.Auth.Token}
		case "headers":
			u.Headers = s.Auth.Headers
		default:
			return u, fmt.Errorf("server %q: auth.type %q: want \"bearer\" or \"headers\"", s.Name, s.Auth.Type)
		}
	}
	return u, nil
}

func (srv *Server) restServers(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Servers []clientServerSpec `json:"servers"`
	}
	if err := srv.decodeBody(w, r, &body); err != nil {
		restError(w, http.StatusBadRequest, "register servers: "+err.Error())
		return
	}
	if len(body.Servers) == 0 { // the 0.1 clients always send the list, often empty
		writeJSON(w, http.StatusOK, map[string][]string{"registered": {}})
		return
	}
	if why := srv.serversRefused(r); why != "" {
		restError(w, http.StatusForbidden, refusal(body.Servers[0], why))
		return
	}
	if len(body.Servers) > sdkbridge.MaxNamespaces {
		restError(w, http.StatusBadRequest, fmt.Sprintf("register servers: %d servers, more than the limit of %d per session", len(body.Servers), sdkbridge.MaxNamespaces))
		return
	}
	cfgs := make([]config.Upstream, 0, len(body.Servers))
	seen := map[string]bool{}
	for _, s := range body.Servers {
		if seen[s.Name] {
			restError(w, http.StatusBadRequest, fmt.Sprintf("register servers: server %q is listed twice", s.Name))
			return
		}
		seen[s.Name] = true
		u, err := s.upstreamConfig()
		if err != nil {
			restError(w, http.StatusBadRequest, "register servers: "+err.Error())
			return
		}
		cfgs = append(cfgs, u)
	}
	if err := srv.addSessionServers(r.Context(), id, cfgs); err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, errBadServer) {
			status = http.StatusBadRequest
		}
		restError(w, status, "register servers: "+strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	names := make([]string, len(cfgs))
	for i, u := range cfgs {
		names[i] = u.Name
	}
	writeJSON(w, http.StatusOK, map[string][]string{"registered": names})
}

// serversRefused says why r may not register MCP servers, or "" when it may: pctx.toml
// allows client servers and either the server has an API key that r carries or it has
// none and r came over loopback (a server without a key listens only there).
func (srv *Server) serversRefused(r *http.Request) string {
	switch {
	case !srv.opts.AllowClientServers:
		return "pctx.toml does not set [server] allow_client_servers = true"
	case srv.opts.APIKey != "":
		if !apikey.Matches(r, srv.opts.APIKey) {
			return "this request does not carry the server's API key (Authorization: Bearer KEY or X-API-Key: KEY)"
		}
	case !overLoopback(r):
		return "pctx has no [server] api_key and this request did not come over loopback; beyond loopback client servers need an api_key and requests that carry it"
	}
	return ""
}

// overLoopback reports whether r came from this machine to a loopback address.
func overLoopback(r *http.Request) bool {
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && !loopbackAddr(local.String()) {
		return false
	}
	return loopbackAddr(r.RemoteAddr)
}

func loopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// refusal explains why client-registered servers are refused and how to allow them.
func refusal(s clientServerSpec, why string) string {
	what := fmt.Sprintf("server %q has a url: pctx would connect to it from its own network on the client's behalf", s.Name)
	if s.Command != "" {
		what = fmt.Sprintf("server %q has a command: starting it would run a program on the pctx host, which is remote command execution", s.Name)
	}
	return fmt.Sprintf("register servers refused: %s, and %s. To accept client-registered MCP servers, set [server] allow_client_servers = true in pctx.toml: a pctx listening on loopback without an api_key then accepts them from local clients, one with an api_key (required beyond loopback) from requests that carry it. Alternatively add it to pctx.toml as [servers.%s]", what, why, s.Name)
}

var errBadServer = errors.New("invalid server")

// clientServer is an MCP server a published-client session started; an upstream.Manager
// of its own publishes the namespace here instead of into the catalog.
type clientServer struct {
	mgr *upstream.Manager

	mu sync.Mutex
	ns *catalog.Namespace
}

func (s *clientServer) Put(_ string, ns catalog.Namespace) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ns = &ns
	return nil
}

func (s *clientServer) Remove(string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ns = nil
}

func (s *clientServer) namespace() (catalog.Namespace, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ns == nil {
		return catalog.Namespace{}, false
	}
	return *s.ns, true
}

// addSessionServers starts every server of cfgs for session id at once, each waiting
// for its first connection attempt, and publishes them to the session only if all
// started: on any failure none is kept running.
func (srv *Server) addSessionServers(ctx context.Context, id string, cfgs []config.Upstream) error {
	if err := srv.serverClash(id, cfgs); err != nil { // fail early, before starting anything
		return err
	}
	started := make([]*clientServer, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i, u := range cfgs {
		wg.Go(func() { started[i], errs[i] = srv.startServer(ctx, id, u) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		closeServers(started)
		return err
	}
	// Recheck under the lock that publishes: a /register/tools may have run meanwhile.
	srv.mu.Lock()
	err := srv.serverClashLocked(id, cfgs)
	var old []*clientServer
	if err == nil {
		s := srv.sessions[id]
		for i, u := range cfgs {
			old = append(old, s.servers[u.Name])
			s.servers[u.Name] = started[i]
		}
	}
	srv.mu.Unlock()
	if err != nil {
		closeServers(started)
		return err
	}
	closeServers(old)
	for _, u := range cfgs {
		srv.log.Info("compat: session server started", "server", u.Name, "stdio", u.Command != "")
	}
	return nil
}

func (srv *Server) serverClash(id string, cfgs []config.Upstream) error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.serverClashLocked(id, cfgs)
}

// serverClashLocked reports why cfgs cannot be published to session id: the session (or
// pctx) is gone, or it has tools in a server's namespace. srv.mu is held.
func (srv *Server) serverClashLocked(id string, cfgs []config.Upstream) error {
	s, ok := srv.sessions[id]
	switch {
	case srv.closed:
		return errors.New("pctx is shutting down")
	case !ok:
		return fmt.Errorf("%w %q: it was closed", errUnknownSession, id)
	}
	for _, u := range cfgs {
		if slices.ContainsFunc(s.tools, func(t SessionTool) bool { return t.Namespace == u.Name }) {
			return fmt.Errorf("%w: server %q: the session already has tools in namespace %q", errBadServer, u.Name, u.Name)
		}
	}
	return nil
}

// startServer starts u for session id and waits for its first connection attempt.
func (srv *Server) startServer(ctx context.Context, id string, u config.Upstream) (*clientServer, error) {
	cs := &clientServer{}
	cs.mgr = upstream.NewManager(cs, map[string]config.Upstream{u.Name: u}, &upstream.Options{Logger: srv.log.With("session", id[:min(len(id), 8)])})
	cs.mgr.Start(ctx)
	if st := cs.mgr.Status(); len(st) == 1 && st[0].State != upstream.StateReady {
		cs.mgr.Close()
		reason := st[0].LastError
		if reason == "" {
			reason = string(st[0].State)
		}
		return nil, fmt.Errorf("server %q did not start: %s", u.Name, reason)
	}
	return cs, nil
}

// closeServers stops the non-nil servers of list at once.
func closeServers(list []*clientServer) {
	var wg sync.WaitGroup
	for _, cs := range list {
		if cs != nil {
			wg.Go(func() { cs.mgr.Close() })
		}
	}
	wg.Wait()
}

func (srv *Server) isClosed() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closed
}

// stopServers stops every MCP server the session started.
func (s *session) stopServers() {
	closeServers(slices.Collect(maps.Values(s.servers)))
}

// view is one request's consistent picture of a session: a single snapshot of the catalog
// plus the session's namespaces (its tools are not callable outside an execution), named
// as the original pctx names them (catalog.NamingCamel: Tools.addNumbers).
type view struct {
	snap *catalog.Snapshot
}

// Naming is the convention of the names a published-client session sees, in REST answers
// and executions alike: the original pctx's.
const Naming = catalog.NamingCamel

// sessionView takes the snapshot every part of one REST answer is derived from. A session
// namespace clashing with a global one is an error wrapping catalog.ErrNamespaceTaken.
func (srv *Server) sessionView(id string) (*view, error) {
	tools, servers, ok := srv.sessionTools(id)
	if !ok {
		return nil, fmt.Errorf("%w %q", errUnknownSession, id)
	}
	notHere := func(_ context.Context, ns, tool string, _ map[string]any) (any, error) {
		return nil, fmt.Errorf("%s.%s is callable only from an execution", ns, tool)
	}
	snap, err := srv.cm.Snapshot(append(legacyNamespaces(tools, notHere), servers...)...)
	if err != nil {
		return nil, err
	}
	return &view{snap: snap.Named(Naming)}, nil
}

// describe returns a description for the published client: nil for none.
func describe(d string) *string {
	if d == "" {
		return nil
	}
	return &d
}

var errUnknownSession = errors.New("unknown code-mode session")

// viewError answers a failed sessionView: 404 for a session that is gone (closed
// meanwhile), 409 for a session namespace clashing with a global one.
func viewError(w http.ResponseWriter, what string, err error) {
	status := http.StatusConflict
	if errors.Is(err, errUnknownSession) {
		status = http.StatusNotFound
	}
	restError(w, status, what+": "+err.Error())
}

type listedFunction struct {
	Namespace   string  `json:"namespace"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

func (srv *Server) restList(w http.ResponseWriter, _ *http.Request, id string) {
	v, err := srv.sessionView(id)
	if err != nil {
		viewError(w, "list functions", err)
		return
	}
	fns := []listedFunction{}
	for _, ns := range v.snap.Outline() {
		for _, f := range ns.Functions {
			fns = append(fns, listedFunction{Namespace: ns.Name, Name: f.Name, Description: describe(f.Description)})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"functions": fns, "code": v.snap.List(catalog.ListOptions{})})
}

type functionDetails struct {
	Namespace   string  `json:"namespace"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	InputType   string  `json:"input_type"`
	OutputType  string  `json:"output_type"`
	Types       string  `json:"types"`
}

// maxDetailsNames bounds the functions one details request may name.
const maxDetailsNames = 1000

func (srv *Server) restDetails(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Functions []string `json:"functions"`
	}
	if err := srv.decodeBody(w, r, &body); err != nil {
		restError(w, http.StatusBadRequest, "function details: "+err.Error())
		return
	}
	switch {
	case len(body.Functions) == 0:
		restError(w, http.StatusBadRequest, `function details: "functions" must name at least one function, like "namespace.function"`)
		return
	case len(body.Functions) > maxDetailsNames:
		restError(w, http.StatusBadRequest, fmt.Sprintf("function details: %d functions named, more than the limit of %d per request", len(body.Functions), maxDetailsNames))
		return
	}
	v, err := srv.sessionView(id)
	if err != nil {
		viewError(w, "function details", err)
		return
	}
	code, err := v.snap.Details(body.Functions)
	if err != nil {
		restError(w, http.StatusBadRequest, "function details: "+err.Error())
		return
	}
	descriptions := map[string]string{} // "ns.fn" as called → description
	for _, ns := range v.snap.Outline() {
		for _, f := range ns.Functions {
			descriptions[ns.Name+"."+f.Name] = f.Description
		}
	}
	out := make([]functionDetails, 0, len(body.Functions))
	for _, name := range body.Functions {
		ns, fn, err := v.snap.Resolve(name) // a name may be as registered: answer as called
		if err != nil {
			restError(w, http.StatusBadRequest, "function details: "+err.Error())
			return
		}
		text, err := v.snap.Details([]string{ns + "." + fn})
		if err != nil {
			restError(w, http.StatusBadRequest, "function details: "+err.Error())
			return
		}
		d := functionDetails{Namespace: ns, Name: fn, Types: text, Description: describe(descriptions[ns+"."+fn])}
		d.InputType, d.OutputType = signature(text, fn)
		out = append(out, d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"functions": out, "code": code})
}

// signature extracts the parameter list and the resolved return type of function fn
// from its TypeScript declaration text: of its last signature, the main one (a shortcut
// or named-argument overload comes first).
func signature(text, fn string) (in, out string) {
	i := strings.LastIndex(text, "function "+fn+"(")
	if i < 0 {
		return "", ""
	}
	rest := text[i+len("function "+fn+"("):]
	depth := 1
	for j, r := range rest {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		}
		if depth == 0 {
			in = rest[:j]
			rest = rest[j+1:]
			break
		}
	}
	if k := strings.Index(rest, "Promise<"); k >= 0 {
		if end := strings.LastIndex(rest[:lineEnd(rest)], ">"); end > k {
			out = rest[k+len("Promise<") : end]
		}
	}
	return in, out
}

func lineEnd(s string) int {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return i
	}
	return len(s)
}

func (srv *Server) restBash(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Command string `json:"command"`
	}
	if err := srv.decodeBody(w, r, &body); err != nil {
		restError(w, http.StatusBadRequest, "execute-bash: "+err.Error())
		return
	}
	v, err := srv.sessionView(id)
	if err != nil {
		viewError(w, "execute-bash", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), vshell.DefaultTimeout)
	defer cancel()
	writeJSON(w, http.StatusOK, v.files().RunContext(ctx, body.Command))
}

// files is the filesystem disclosure's tree (vshell.SDK): README.md and one .d.ts per
// function, rendered only when a command reads it.
func (v *view) files() vshell.FS { return vshell.SDK(v.snap) }
