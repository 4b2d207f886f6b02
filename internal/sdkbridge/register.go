package sdkbridge

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pctx-dev/pctx/internal/catalog"
)

const (
	scopeGlobal  = "global"
	scopeSession = "session"
)

func (c *conn) register(m *message) (any, *rpcError) {
	var p registerParams
	if err := unmarshalParams(m, &p); err != nil {
		return nil, err
	}
	if p.Scope == "" {
		p.Scope = scopeGlobal
	}
	ns, names, size, rerr := c.namespace(p)
	if rerr != nil {
		return nil, rerr
	}

	c.regMu.Lock()
	defer c.regMu.Unlock()
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, errorf(CodeInternalError, "register: the connection is closing")
	}
	prev := c.namespaces[p.Namespace]
	if prev == nil && len(c.namespaces) >= maxNamespaces {
		return nil, errorf(CodeInvalidParams, "register: this connection already holds %d namespaces, the limit", maxNamespaces)
	}
	total := size
	for name, r := range c.namespaces {
		if name != p.Namespace { // a replaced registration no longer counts
			total += r.size
		}
	}
	if total > maxRegisteredBytes {
		return nil, &rpcError{Code: CodeInvalidParams,
			Message: fmt.Sprintf("register: namespace %q (%d bytes of names, descriptions and schemas) would bring this connection's registrations to %d bytes, more than the limit of %d bytes per connection; shorten descriptions, or unregister namespaces it no longer serves",
				p.Namespace, size, total, maxRegisteredBytes),
			Data: map[string]any{"namespace": p.Namespace, "bytes": total, "limit": maxRegisteredBytes}}
	}
	if p.Scope == scopeGlobal {
		if err := c.b.joinPool(c, ns, p); err != nil {
			return nil, err
		}
	} else if prev != nil && prev.scope == scopeGlobal {
		c.b.leavePool(c, p.Namespace) // moved to session scope
	}
	c.namespaces[p.Namespace] = &registration{scope: p.Scope, ns: ns, size: size}
	c.log.Info("sdkbridge: namespace registered", "namespace", p.Namespace, "scope", p.Scope, "tools", len(names))
	return registerResult{Namespace: p.Namespace, Scope: p.Scope, Functions: names}, nil
}

// takenError explains a refused global registration, naming the holder when the registry
// can tell.
func (c *conn) takenError(name string, err error) *rpcError {
	data := map[string]any{"namespace": name}
	msg := fmt.Sprintf("register: %v; choose another name or register it with scope \"session\"", err)
	if snap, err := c.b.cm.Snapshot(); err == nil {
		for _, info := range snap.Namespaces() {
			if info.Original == name || info.Name == name {
				data["owner"] = info.Owner
				msg = fmt.Sprintf("register: namespace %q is taken by %s; choose another name or register it with scope \"session\"", name, info.Owner)
				break
			}
		}
	}
	return &rpcError{Code: CodeNamespaceTaken, Message: msg, Data: data}
}

func (c *conn) unregister(m *message) (any, *rpcError) {
	var p namespaceParams
	if err := unmarshalParams(m, &p); err != nil {
		return nil, err
	}
	c.regMu.Lock()
	defer c.regMu.Unlock()
	r := c.namespaces[p.Namespace]
	if r == nil {
		return nil, errorf(CodeInvalidParams, "unregister: namespace %q is not registered by this connection", p.Namespace)
	}
	if r.scope == scopeGlobal {
		c.b.leavePool(c, p.Namespace)
	}
	delete(c.namespaces, p.Namespace)
	c.log.Info("sdkbridge: namespace unregistered", "namespace", p.Namespace)
	return struct{}{}, nil
}

// namespace validates a register request and builds its catalog namespace, whose calls go
// to this connection; size is the request's RegistrationBytes.
func (c *conn) namespace(p registerParams) (ns catalog.Namespace, names []string, size int, _ *rpcError) {
	bad := func(format string, args ...any) (catalog.Namespace, []string, int, *rpcError) {
		return catalog.Namespace{}, nil, 0, errorf(CodeInvalidParams, "register: "+format, args...)
	}
	switch {
	case p.Namespace == "":
		return bad("params.namespace is required")
	case len(p.Namespace) > maxNameBytes:
		return bad("namespace %q is longer than %d bytes", clip([]byte(p.Namespace)), maxNameBytes)
	case p.Scope != scopeGlobal && p.Scope != scopeSession:
		return bad(`params.scope must be "global" or "session", got %q`, p.Scope)
	case len(p.Tools) == 0:
		return bad("namespace %q: params.tools must list at least one tool", p.Namespace)
	case len(p.Tools) > maxToolsPerNS:
		return bad("namespace %q: %d tools, more than the limit of %d", p.Namespace, len(p.Tools), maxToolsPerNS)
	}
	size = len(p.Namespace) + len(p.Description)
	for _, t := range p.Tools {
		size += ToolBytes(t.Name, t.Description, t.InputSchema, t.OutputSchema, t.Params)
	}
	if size > maxNamespaceBytes {
		return catalog.Namespace{}, nil, 0, &rpcError{Code: CodeInvalidParams,
			Message: fmt.Sprintf("register: namespace %q: its names, descriptions and schemas take %d bytes, more than the limit of %d bytes per namespace; shorten the descriptions or split the tools over several namespaces",
				p.Namespace, size, maxNamespaceBytes),
			Data: map[string]any{"namespace": p.Namespace, "bytes": size, "limit": maxNamespaceBytes}}
	}
	ns = catalog.Namespace{Name: p.Namespace, Description: p.Description, Tools: make([]catalog.Tool, 0, len(p.Tools)), RefuseReserved: true}
	names = make([]string, 0, len(p.Tools))
	seen := make(map[string]bool, len(p.Tools))
	for i, t := range p.Tools {
		switch {
		case t.Name == "":
			return bad("namespace %q: tools[%d].name is required", p.Namespace, i)
		case len(t.Name) > maxNameBytes:
			return bad("namespace %q: tools[%d].name is longer than %d bytes", p.Namespace, i, maxNameBytes)
		case seen[t.Name]:
			return bad("namespace %q: tool %q is listed twice", p.Namespace, t.Name)
		}
		seen[t.Name] = true
		if err := checkTool(t); err != "" {
			return bad("namespace %q: tool %q: %s", p.Namespace, t.Name, err)
		}
		nsName, toolName := p.Namespace, t.Name
		ns.Tools = append(ns.Tools, catalog.Tool{
			Name:         t.Name,
			Description:  t.Description,
			InputSchema:  nullToNil(t.InputSchema),
			OutputSchema: nullToNil(t.OutputSchema),
			Params:       t.Params,
			Call: func(ctx context.Context, args map[string]any) (any, error) {
				return c.call(ctx, nsName, toolName, args)
			},
		})
		names = append(names, t.Name)
	}
	// Refused here for both scopes: a session-scoped clash would otherwise surface only
	// later, failing every Code Mode request of this connection.
	if err := catalog.CheckNames(p.Namespace, names...); err != nil {
		return catalog.Namespace{}, nil, 0, &rpcError{Code: CodeInvalidParams, Message: "register: " + err.Error(), Data: map[string]any{"namespace": p.Namespace}}
	}
	return ns, names, size, nil
}

// checkTool checks a tool's schemas and positional parameters, returning what is wrong.
func checkTool(t toolSpec) string {
	in := nullToNil(t.InputSchema)
	var props map[string]json.RawMessage
	if in != nil {
		var schema struct {
			Type       any                        `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(in, &schema); err != nil {
			return "inputSchema must be a JSON Schema object: " + err.Error()
		}
		if schema.Type != nil && schema.Type != "object" {
			return fmt.Sprintf(`inputSchema.type must be "object" (the arguments form one object), got %v`, schema.Type)
		}
		props = schema.Properties
	}
	if out := nullToNil(t.OutputSchema); out != nil && !json.Valid(out) {
		return "outputSchema is not valid JSON"
	}
	seen := make(map[string]bool, len(t.Params))
	for _, p := range t.Params {
		switch {
		case seen[p]:
			return fmt.Sprintf("params lists %q twice", p)
		case props[p] == nil:
			return fmt.Sprintf("params entry %q is not a property of inputSchema", p)
		}
		seen[p] = true
	}
	return ""
}

func nullToNil(raw json.RawMessage) json.RawMessage {
	if raw == nil || isNull(raw) {
		return nil
	}
	return raw
}

// sessionNamespaces returns the namespaces visible only to this connection's Code Mode
// requests: its session-scoped registrations, or a published client's session tools.
func (c *conn) sessionNamespaces() ([]catalog.Namespace, *rpcError) {
	if c.session != "" {
		ns, err := c.compat.Namespaces(c.call)
		if err != nil {
			return nil, errorf(CodeInvalidParams, "%v", err)
		}
		return ns, nil
	}
	c.regMu.Lock()
	defer c.regMu.Unlock()
	var out []catalog.Namespace
	for _, r := range c.namespaces {
		if r.scope == scopeSession {
			out = append(out, r.ns)
		}
	}
	return out, nil
}

// Limits on what one registration may name (docs/protocol.md §6), shared with the
// published client's POST /register/tools. The byte limits bound what one connection (or
// published-client session) can make every listing, declaration and search carry:
// MaxNamespaceBytes per namespace and MaxRegisteredBytes over all of its namespaces, as
// counted by ToolBytes plus each namespace's name and description.
const (
	MaxNamespaces        = maxNamespaces
	MaxToolsPerNamespace = maxToolsPerNS
	MaxNameBytes         = maxNameBytes
	MaxNamespaceBytes    = maxNamespaceBytes
	MaxRegisteredBytes   = maxRegisteredBytes
)

// ToolBytes is the size a tool counts for against MaxNamespaceBytes and
// MaxRegisteredBytes: its name, description, schemas (as sent) and positional parameters.
func ToolBytes(name, description string, inputSchema, outputSchema json.RawMessage, params []string) int {
	n := len(name) + len(description) + len(inputSchema) + len(outputSchema)
	for _, p := range params {
		n += len(p)
	}
	return n
}

// CheckTool returns why a tool definition cannot be registered ("" when it can): its
// input schema must describe an object, and both schemas must be JSON Schemas.
func CheckTool(name string, inputSchema, outputSchema json.RawMessage) string {
	return checkTool(toolSpec{Name: name, InputSchema: inputSchema, OutputSchema: outputSchema})
}
