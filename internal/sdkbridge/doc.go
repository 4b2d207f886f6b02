// Package sdkbridge is the /ws endpoint SDK workers connect to: processes in any language
// that register tools over a websocket and answer the calls the agent's programs make to
// them. The wire protocol, "pctx/1", is JSON-RPC 2.0 over websocket text frames and is
// specified in docs/protocol.md; this package is its server side.
//
// A Bridge is an http.Handler. Each connection gets a read loop, one writer goroutine that
// serialises outgoing frames and a pinger. Each tool's CallFunc sends an execute_tool
// request and waits for its own answer, so any number of calls may be in flight on one
// connection.
//
// A global namespace is served by a pool: the connections that registered it with
// identical tool definitions (names, schemas and params, compared as canonical JSON). It
// is in the Registry (the catalog) once, under the owner "pool:<name>", and each call
// goes to the member with the fewest calls in flight. A member leaving is invisible to
// the agent except for the calls it had in flight, which reject with ErrWorkerGone; the
// namespace leaves the catalog with its last member. A different definition under a
// taken name is refused with an error listing the differences.
//
// Session-scoped namespaces stay on the connection, prepared once at registration into a
// catalog.Overlay, which is passed to CodeMode for that connection's own list_functions,
// get_function_details and execute_typescript requests. The published pctx-client (the
// original pctx's Python client) creates sessions and registers tools over REST
// (CompatHandler); its websocket connections are recognised by their X-Code-Mode-Session
// header and served in a compatibility mode (docs/protocol.md §10). Its tools, and the
// MCP servers it may start when Options.AllowClientServers is set, are session-scoped;
// their calls reach the websocket whose request started the execution (CallClient).
//
// Threading: every exported method is safe for concurrent use. Tool CallFuncs may be
// called from any goroutine; they return when the worker answers, the call's context
// ends, Options.CallTimeout passes, or the worker goes away.
package sdkbridge
