package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/pctx-dev/pctx/internal/codemode"
)

// A client chooses its session's disclosure in one of two ways (docs/disclosure.md):
//
//   - the query parameter of the endpoint it connects to: /mcp?disclosure=sidecar (every
//     request of the session goes to that URL, so every request carries it);
//   - the initialize request's _meta: {"pctx/disclosure": "sidecar"}, kept for the
//     session (over stdio, the one session).
//
// _meta wins over the query parameter; neither means the configured default. An invalid
// value is refused: 400 for the query parameter, an initialize error for _meta.

// DisclosureMetaKey is the initialize request's _meta key that chooses the session's
// disclosure.
const DisclosureMetaKey = "pctx/disclosure"

// DisclosureQuery is the /mcp query parameter that chooses the disclosure.
const DisclosureQuery = "disclosure"

type queryDisclosureKey struct{}

// sessionModes remembers the disclosures sessions chose in their initialize _meta.
type sessionModes struct {
	mu    sync.Mutex
	modes map[string]codemode.Disclosure
}

func (m *sessionModes) get(id string) (codemode.Disclosure, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.modes[id]
	return d, ok
}

// set records id's disclosure and forgets sessions live reports as ended, so the map
// holds at most the live sessions plus one.
func (m *sessionModes) set(id string, d codemode.Disclosure, live func(string) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.modes == nil {
		m.modes = map[string]codemode.Disclosure{}
	}
	for other := range m.modes {
		if other != id && !live(other) {
			delete(m.modes, other)
		}
	}
	m.modes[id] = d
}

// disclosure is the disclosure of the request's session.
func (s *Server) disclosure(ctx context.Context) codemode.Disclosure {
	if id := sessionID(ctx); id != "" {
		if d, ok := s.modes.get(id); ok {
			return d
		}
	}
	if d, ok := ctx.Value(queryDisclosureKey{}).(codemode.Disclosure); ok {
		return d
	}
	return s.cm.DefaultDisclosure()
}

// withDisclosureQuery reads /mcp?disclosure=... into the request's context.
func withDisclosureQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get(DisclosureQuery); q != "" {
			d, err := codemode.ParseDisclosure(q)
			if err != nil {
				http.Error(w, fmt.Sprintf("query parameter %s", err), http.StatusBadRequest)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), queryDisclosureKey{}, d))
		}
		next.ServeHTTP(w, r)
	})
}

// initializeMeta reads the disclosure an initialize request asks for in its _meta,
// before mcp-go (which drops _meta) handles it.
func (s *Server) initializeMeta(ctx context.Context, _ any, message any) error {
	raw, ok := message.(json.RawMessage)
	if !ok {
		return nil
	}
	var req struct {
		Method string `json:"method"`
		Params struct {
			Meta map[string]json.RawMessage `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(raw, &req) != nil || req.Method != string(mcp.MethodInitialize) {
		return nil
	}
	v, ok := req.Params.Meta[DisclosureMetaKey]
	if !ok {
		return nil
	}
	var name string
	if err := json.Unmarshal(v, &name); err != nil {
		return fmt.Errorf("_meta %q: want a string, one of catalog, filesystem, sidecar, auto", DisclosureMetaKey)
	}
	d, err := codemode.ParseDisclosure(name)
	if err != nil {
		return fmt.Errorf("_meta %q: %w", DisclosureMetaKey, err)
	}
	if id := sessionID(ctx); id != "" {
		s.modes.set(id, d, s.ids.isLive)
	}
	return nil
}

// toolFilter answers tools/list with the tools of the session's disclosure, and admits a
// tools/call only for a tool the session is offered.
func (s *Server) toolFilter(ctx context.Context, _ []mcp.Tool) []mcp.Tool {
	ts := s.cm.ToolSet(s.disclosure(ctx))
	if ts.Disclosure == codemode.Sidecar {
		// Never list a function tool before its handler is registered: the catalog may
		// have changed since the watch last ran.
		s.syncFunctionTools()
	}
	return s.mcpTools(ts)
}

// mcpTools converts a tool set, once per set.
func (s *Server) mcpTools(ts *codemode.ToolSet) []mcp.Tool {
	s.converted.mu.Lock()
	defer s.converted.mu.Unlock()
	if tools, ok := s.converted.sets[ts]; ok {
		return tools
	}
	tools := make([]mcp.Tool, len(ts.Tools))
	for i, spec := range ts.Tools {
		tools[i] = mcpTool(spec)
	}
	// Sets of older catalog versions are not asked for again.
	for old := range s.converted.sets {
		if old.Version != ts.Version {
			delete(s.converted.sets, old)
		}
	}
	s.converted.sets[ts] = tools
	return tools
}

func mcpTool(spec codemode.ToolSpec) mcp.Tool {
	tool := mcp.NewToolWithRawSchema(spec.Name, spec.Description, spec.InputSchema)
	if spec.Function == "" {
		mcp.WithReadOnlyHintAnnotation(spec.ReadOnly)(&tool)
		mcp.WithOpenWorldHintAnnotation(!spec.ReadOnly)(&tool)
	}
	if mcp.ValidateParamHeaderAnnotations(&tool) != nil {
		// mcp-go refuses (panics on) x-mcp-header annotations it deems invalid; an
		// upstream's schema must not take the server down. Arguments are validated by
		// the catalog either way.
		tool = mcp.NewToolWithRawSchema(spec.Name, spec.Description, json.RawMessage(`{"type":"object"}`))
	}
	return tool
}

// syncFunctionTools registers a handler for every sidecar function tool of the catalog
// as it is now and drops those of functions that are gone, and reports whether it did
// either. mcp-go sends notifications/tools/list_changed to every session when it
// registers or drops one.
func (s *Server) syncFunctionTools() (changed bool) {
	ts := s.cm.ToolSet(codemode.Sidecar)
	s.fnMu.Lock()
	defer s.fnMu.Unlock()
	if ts.Version == s.fnVersion && s.fnTools != nil {
		return false
	}
	want := map[string]mcp.Tool{}
	for _, t := range s.mcpTools(ts) {
		if t.Name != codemode.ExecuteTypeScriptName && t.Name != codemode.SearchFunctionsName {
			want[t.Name] = t
		}
	}
	var add []mcpserver.ServerTool
	var drop []string
	for name, t := range want {
		if old, ok := s.fnTools[name]; !ok || old.Description != t.Description || string(old.RawInputSchema) != string(t.RawInputSchema) {
			add = append(add, mcpserver.ServerTool{Tool: t, Handler: s.callFunctionTool})
		}
	}
	for name := range s.fnTools {
		if _, ok := want[name]; !ok {
			drop = append(drop, name)
		}
	}
	if len(drop) > 0 {
		s.mcp.DeleteTools(drop...)
	}
	if len(add) > 0 {
		s.mcp.AddTools(add...)
	}
	s.fnTools, s.fnVersion = want, ts.Version
	return len(add) > 0 || len(drop) > 0
}

// watchCatalog keeps the function tools in step with the catalog until stop closes.
func (s *Server) watchCatalog(stop <-chan struct{}) {
	ch := s.cm.Catalog().Changed()
	for {
		select {
		case <-stop:
			return
		case <-ch:
		}
		ch = s.cm.Catalog().Changed()
		if !s.syncFunctionTools() {
			// No function came or went, yet auto's inline declarations follow every
			// change (a namespace's description, its availability): say so.
			s.mcp.SendNotificationToAllClients(mcp.MethodNotificationToolsListChanged, nil)
		}
	}
}

// callFunctionTool runs a sidecar function tool called directly as a one-call program.
func (s *Server) callFunctionTool(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	ctx, end, ended := s.clientSession(ctx)
	if ended != nil {
		return ended, nil
	}
	defer end()
	res, err := s.cm.CallTool(ctx, req.Params.Name, req.GetArguments())
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	if res.Error != nil {
		return mcp.NewToolResultError(res.Error.Message), nil
	}
	value, err := json.Marshal(res.Value)
	if err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("%s: result not representable as JSON: %v", req.Params.Name, err)), nil
	}
	return mcp.NewToolResultText(string(value)), nil
}

// isLive reports whether id is an issued session id that has not ended.
func (s *sessionIDs) isLive(id string) bool {
	_, err := s.Validate(id)
	return err == nil
}
