package sdkbridge

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pctx-dev/pctx/catalog"
	"github.com/pctx-dev/pctx/config"
	"github.com/pctx-dev/pctx/upstream"
)

// CompatHandler serves the REST endpoints of the published pctx-client
// (docs/protocol.md §10.1): session create and close, tool and server registration, and
// the function listing and details. Mount it at /code-mode/ and /register/, behind the
// same authentication as /ws.
func (b *Bridge) CompatHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /code-mode/session/create", b.restCreate)
	mux.HandleFunc("POST /code-mode/session/close", b.withSession(b.restClose))
	mux.HandleFunc("POST /register/tools", b.withSession(b.restTools))
	mux.HandleFunc("POST /register/servers", b.withSession(b.restServers))
	mux.HandleFunc("POST /code-mode/functions/list", b.withSession(b.restList))
	mux.HandleFunc("POST /code-mode/functions/details", b.withSession(b.restDetails))
	mux.HandleFunc("POST /code-mode/execute-bash", b.withSession(b.restBash))
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
func (b *Bridge) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.opts.MaxMessageBytes))
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

func (b *Bridge) restCreate(w http.ResponseWriter, _ *http.Request) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		restError(w, http.StatusServiceUnavailable, "pctx is shutting down")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"session_id": b.CreateSession()})
}

// withSession resolves the x-code-mode-session header before calling h.
func (b *Bridge) withSession(h func(w http.ResponseWriter, r *http.Request, id string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(sessionHeader)
		switch {
		case id == "":
			restError(w, http.StatusBadRequest, "missing x-code-mode-session header: create a session with POST /code-mode/session/create and send its session_id")
		case !b.useSession(id, 0):
			restError(w, http.StatusNotFound, fmt.Sprintf("unknown code-mode session %q: it was closed or never created; create one with POST /code-mode/session/create", id))
		default:
			h(w, r, id)
		}
	}
}

func (b *Bridge) restClose(w http.ResponseWriter, _ *http.Request, id string) {
	b.CloseSession(id)
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

func (b *Bridge) restTools(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Tools []SessionTool `json:"tools"`
	}
	if err := b.decodeBody(w, r, &body); err != nil {
		restError(w, http.StatusBadRequest, "register tools: "+err.Error())
		return
	}
	for i, t := range body.Tools {
		spec := toolSpec{Name: t.Name, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema}
		if msg := checkTool(spec); msg != "" {
			restError(w, http.StatusBadRequest, fmt.Sprintf("register tools: tools[%d] %s.%s: %s", i, t.Namespace, t.Name, msg))
			return
		}
	}
	if err := b.AddSessionTools(id, body.Tools); err != nil {
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

// authenticated reports whether r carries the server's API key (none configured: no).
func (b *Bridge) authenticated(r *http.Request) bool {
	if b.opts.APIKey == "" {
		return false
	}
	got := r.Header.Get("X-API-Key")
	if auth := r.Header.Get("Authorization"); got == "" && len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		got = strings.TrimSpace(auth[7:])
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(b.opts.APIKey)) == 1
}

func (b *Bridge) restServers(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Servers []clientServerSpec `json:"servers"`
	}
	if err := b.decodeBody(w, r, &body); err != nil {
		restError(w, http.StatusBadRequest, "register servers: "+err.Error())
		return
	}
	if len(body.Servers) == 0 { // the 0.1 clients always send the list, often empty
		writeJSON(w, http.StatusOK, map[string][]string{"registered": {}})
		return
	}
	if !b.opts.AllowClientServers || !b.authenticated(r) {
		restError(w, http.StatusForbidden, refusal(body.Servers[0], b.opts.AllowClientServers))
		return
	}
	cfgs := make([]config.Upstream, 0, len(body.Servers))
	for _, s := range body.Servers {
		u, err := s.upstreamConfig()
		if err != nil {
			restError(w, http.StatusBadRequest, "register servers: "+err.Error())
			return
		}
		cfgs = append(cfgs, u)
	}
	var names []string
	for _, u := range cfgs {
		if err := b.addSessionServer(r.Context(), id, u); err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, errBadServer) {
				status = http.StatusBadRequest
			}
			restError(w, status, "register servers: "+err.Error())
			return
		}
		names = append(names, u.Name)
	}
	writeJSON(w, http.StatusOK, map[string][]string{"registered": names})
}

// refusal explains why client-registered servers are refused.
func refusal(s clientServerSpec, allowed bool) string {
	what := fmt.Sprintf("server %q has a url: pctx would connect to it from its own network on the client's behalf", s.Name)
	if s.Command != "" {
		what = fmt.Sprintf("server %q has a command: starting it would run a program on the pctx host, which is remote command execution", s.Name)
	}
	why := "pctx.toml does not set [server] allow_client_servers = true"
	if allowed {
		why = "this request does not carry the server's API key (Authorization: Bearer KEY or X-API-Key: KEY)"
	}
	return fmt.Sprintf("register servers refused: %s. Client-registered MCP servers are accepted only when pctx.toml sets [server] allow_client_servers = true and an api_key, and the request carries that key; %s. Alternatively add it to pctx.toml as [servers.%s]", what, why, s.Name)
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

// addSessionServer starts u for session id and waits for its first connection attempt.
func (b *Bridge) addSessionServer(ctx context.Context, id string, u config.Upstream) error {
	b.mu.Lock()
	s, ok := b.sessions[id]
	clash := ok && slices.ContainsFunc(s.tools, func(t SessionTool) bool { return t.Namespace == u.Name })
	b.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("unknown code-mode session %q", id)
	case clash:
		return fmt.Errorf("%w: server %q: the session already has tools in namespace %q", errBadServer, u.Name, u.Name)
	}
	cs := &clientServer{}
	cs.mgr = upstream.NewManager(cs, map[string]config.Upstream{u.Name: u}, b.log.With("session", id[:min(len(id), 8)]))
	cs.mgr.Start(ctx)
	if st := cs.mgr.Status(); len(st) == 1 && st[0].State != upstream.StateReady {
		cs.mgr.Close()
		reason := st[0].LastError
		if reason == "" {
			reason = string(st[0].State)
		}
		return fmt.Errorf("server %q did not start: %s", u.Name, reason)
	}
	b.mu.Lock()
	s, ok = b.sessions[id]
	var old *clientServer
	if ok && !b.closed {
		old = s.servers[u.Name]
		s.servers[u.Name] = cs
	}
	b.mu.Unlock()
	if !ok || b.isClosed() {
		cs.mgr.Close()
		return fmt.Errorf("code-mode session %q was closed meanwhile", id)
	}
	if old != nil {
		old.mgr.Close()
	}
	b.log.Info("sdkbridge: session server started", "server", u.Name, "stdio", u.Command != "")
	return nil
}

func (b *Bridge) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// stopServers stops every MCP server the session started.
func (s *compatSession) stopServers() {
	var wg sync.WaitGroup
	for _, cs := range s.servers {
		wg.Go(func() { cs.mgr.Close() })
	}
	wg.Wait()
}

// overlay is session id's namespaces for the REST listing (its tools are not callable
// outside an execution).
func (b *Bridge) overlay(id string) ([]catalog.Namespace, []SessionTool, bool) {
	tools, servers, ok := b.sessionTools(id)
	if !ok {
		return nil, nil, false
	}
	notHere := func(_ context.Context, ns, tool string, _ map[string]any) (any, error) {
		return nil, fmt.Errorf("%s.%s is callable only from an execution", ns, tool)
	}
	return append(legacyNamespaces(tools, notHere), servers...), tools, true
}

type listedFunction struct {
	Namespace   string  `json:"namespace"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

func (b *Bridge) restList(w http.ResponseWriter, _ *http.Request, id string) {
	session, tools, ok := b.overlay(id)
	if !ok {
		restError(w, http.StatusNotFound, fmt.Sprintf("unknown code-mode session %q", id))
		return
	}
	text, err := b.cm.ListFunctions(catalog.ListOptions{}, session...)
	if err != nil {
		restError(w, http.StatusConflict, "list functions: "+err.Error())
		return
	}
	fns := []listedFunction{}
	if s, ok := b.reg.(interface{ Snapshot() *catalog.Snapshot }); ok {
		snap, err := s.Snapshot().With(session...)
		if err != nil {
			restError(w, http.StatusConflict, "list functions: "+err.Error())
			return
		}
		for _, ns := range snap.Namespaces() {
			if ns.Unavailable != "" {
				continue
			}
			for _, f := range ns.Functions {
				lf := listedFunction{Namespace: ns.Name, Name: f.Name}
				for _, t := range tools {
					if t.Namespace == ns.Original && t.Name == f.Original && t.Description != "" {
						lf.Description = &t.Description
					}
				}
				fns = append(fns, lf)
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"functions": fns, "code": text})
}

type functionDetails struct {
	Namespace   string  `json:"namespace"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	InputType   string  `json:"input_type"`
	OutputType  string  `json:"output_type"`
	Types       string  `json:"types"`
}

func (b *Bridge) restDetails(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Functions []string `json:"functions"`
	}
	if err := b.decodeBody(w, r, &body); err != nil {
		restError(w, http.StatusBadRequest, "function details: "+err.Error())
		return
	}
	if len(body.Functions) == 0 {
		restError(w, http.StatusBadRequest, `function details: "functions" must name at least one function, like "namespace.function"`)
		return
	}
	session, tools, ok := b.overlay(id)
	if !ok {
		restError(w, http.StatusNotFound, fmt.Sprintf("unknown code-mode session %q", id))
		return
	}
	code, err := b.cm.FunctionDetails(body.Functions, session...)
	if err != nil {
		restError(w, http.StatusBadRequest, "function details: "+err.Error())
		return
	}
	out := make([]functionDetails, 0, len(body.Functions))
	for _, name := range body.Functions {
		text, err := b.cm.FunctionDetails([]string{name}, session...)
		if err != nil {
			restError(w, http.StatusBadRequest, "function details: "+err.Error())
			return
		}
		ns, fn, _ := strings.Cut(name, ".")
		d := functionDetails{Namespace: ns, Name: fn, Types: text}
		d.InputType, d.OutputType = signature(text, fn)
		for _, t := range tools {
			if t.Namespace == ns && t.Name == fn && t.Description != "" {
				d.Description = &t.Description
			}
		}
		out = append(out, d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"functions": out, "code": code})
}

// signature extracts the parameter list and the resolved return type of function fn
// from its TypeScript declaration text.
func signature(text, fn string) (in, out string) {
	i := strings.Index(text, "function "+fn+"(")
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

func (b *Bridge) restBash(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Command string `json:"command"`
	}
	if err := b.decodeBody(w, r, &body); err != nil {
		restError(w, http.StatusBadRequest, "execute-bash: "+err.Error())
		return
	}
	fs, err := b.sessionFiles(id)
	if err != nil {
		restError(w, http.StatusConflict, "execute-bash: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, fs.run(body.Command))
}

// sessionFiles builds the filesystem disclosure's tree for session id: README.md is the
// listing, <ns>/<fn>.d.ts each function's declarations.
func (b *Bridge) sessionFiles(id string) (vfs, error) {
	session, _, ok := b.overlay(id)
	if !ok {
		return nil, fmt.Errorf("unknown code-mode session %q", id)
	}
	text, err := b.cm.ListFunctions(catalog.ListOptions{}, session...)
	if err != nil {
		return nil, err
	}
	fs := vfs{vfsRoot + "/README.md": "# Functions\n\nCall them as namespace.function(...) from execute_typescript; each has its declarations in <namespace>/<function>.d.ts.\n\n" + text}
	s, ok := b.reg.(interface{ Snapshot() *catalog.Snapshot })
	if !ok {
		return fs, nil
	}
	snap, err := s.Snapshot().With(session...)
	if err != nil {
		return nil, err
	}
	for _, ns := range snap.Namespaces() {
		if ns.Unavailable != "" {
			continue
		}
		for _, f := range ns.Functions {
			decl, err := b.cm.FunctionDetails([]string{ns.Name + "." + f.Name}, session...)
			if err != nil {
				return nil, err
			}
			fs[vfsRoot+"/"+ns.Name+"/"+f.Name+".d.ts"] = decl
		}
	}
	return fs, nil
}
