// Package upstream connects pctx to the upstream MCP servers named in
// pctx.toml and publishes each one's tools as a catalog namespace.
//
// A Manager holds one MCP client session (mcp-go) per enabled server: a
// stdio child process, a streamable HTTP URL, or a legacy SSE URL (with no
// transport configured, streamable HTTP is tried first, then SSE). Start
// connects them all concurrently; a server that fails is registered with
// catalog.Namespace.Unavailable set to the reason and retried with capped,
// jittered exponential backoff, without holding up the others. The same
// happens when a live session dies: the stdio child exits or stops reading,
// the SSE stream drops, or an HTTP server stops answering.
//
// Each MCP tool becomes a catalog.Tool whose Call runs tools/call on the
// server's current session, bounded by the server's timeout (default 60 s)
// and by the caller's context; when that context ends first, the server is
// sent notifications/cancelled. Results convert as DESIGN.md says:
// structuredContent when present, else the content (a JSON text as its JSON,
// any other item as the object it is; several items as an array), JSON kept
// as json.RawMessage so the runtime decodes numbers exactly; isError becomes
// an error carrying the server's text. Every error names the server and the
// tool, and wraps ErrConnectionLost, ErrTimeout, ErrResultTooLarge or
// ErrToolFailed where one applies. One message from a server is limited to
// DefaultMaxResultBytes (16 MiB). HTTP redirects are followed only within the
// server's origin, so configured headers never reach another host.
//
// Servers whose names give one namespace ("my-srv", "my_srv") do not race
// for it: the first in name order gets it, the others are never started and
// report why in their status.
//
// notifications/tools/list_changed re-lists the tools and replaces the
// namespace, debounced so that a flood of notifications costs a few
// tools/list calls.
//
// stdio children get the configured env over a short allowlist of pctx's
// own (PATH, HOME, locale, proxies, NODE_*, npm_config_*; all of it with
// inherit_env), the configured working directory, a process group of their
// own (killed as a whole on Close, and by the kernel if pctx dies, on Linux),
// and their stderr logged line by line, rate limited.
package upstream
