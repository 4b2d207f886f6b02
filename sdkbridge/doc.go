// Package sdkbridge is the /ws endpoint SDK workers connect to: processes in any language
// that register tools over a websocket and answer the calls the agent's programs make to
// them. The wire protocol, "pctx/1", is JSON-RPC 2.0 over websocket text frames and is
// specified in docs/protocol.md; this package is its server side.
//
// A Bridge is an http.Handler. Each connection gets a read loop, one writer goroutine that
// serialises outgoing frames and a pinger. A worker's global namespaces go into the
// Registry (the catalog) under the owner "worker:<connection id>"; each tool's CallFunc
// sends an execute_tool request and waits for its own answer, so any number of calls may
// be in flight on one connection. When the connection ends, its namespaces leave the
// catalog and its in-flight calls reject at once with ErrWorkerGone.
//
// Session-scoped namespaces stay on the connection and are passed as the session overlay
// to CodeMode for that connection's own list_functions, get_function_details and
// execute_typescript requests. Connections from the published pctx-client (the original
// pctx's Python client) are recognised by their X-Code-Mode-Session header and served in
// a compatibility mode (docs/protocol.md §10).
//
// Threading: every exported method is safe for concurrent use. Tool CallFuncs may be
// called from any goroutine; they return when the worker answers, the call's context
// ends, Options.CallTimeout passes, or the worker goes away.
package sdkbridge
