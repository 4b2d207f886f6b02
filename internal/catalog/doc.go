// Package catalog is the one seam between backends, the runtime and the server.
//
// Backends (upstream MCP servers, SDK workers) Put whole namespaces of tools into a
// Catalog on behalf of an owner; a namespace another owner holds is refused with an
// error wrapping ErrNamespaceTaken that names the holder. Readers take a Snapshot, an
// immutable view that renders the list_functions text (List), the get_function_details
// text (Details), the whole catalog's declarations for the type check (Declarations, the
// same generator as Details: one block per namespace), a one-line signature for a
// diagnostic (Signature) and the runtime bindings (Functions). Changed and Snapshot.Version tell
// the server when to send notifications/tools/list_changed; Snapshot.With overlays
// session-scoped namespaces. All methods are safe for concurrent use.
//
// # Names
//
// Namespace and tool names are kept when they are JavaScript identifiers (ASCII) and not
// reserved words; namespaces also keep clear of the sandbox's globals (console, Math,
// ...). Otherwise every other character becomes "_", a leading digit gets a "_" prefix
// and a reserved word a "_" suffix: "get-sum" → get_sum, "123abc" → _123abc, "delete" →
// delete_. Within a namespace, names valid as written keep them; the others take their
// sanitised name in byte order of the original names, with "_2", "_3", ... on collision,
// and the listing shows the original next to a renamed function.
//
// Snapshot.Named gives a view under another naming convention: NamingCamel is the
// original pctx's, PascalCase namespaces and camelCase functions (tools.add_numbers →
// Tools.addNumbers), with collisions resolved the same way. Listing, declarations,
// bindings and lookups of a view all use its names, lookups also the registered ones;
// the backends are called by the names they registered.
//
// # Per-call limits
//
// WithCallTimeouts bounds every function call of an execution (a client's
// tool_timeout_secs and tool_timeout_overrides, clamped by ClampCallTimeout to 1–600 s):
// the binding runs the call under that deadline and names the function and the limit when
// it passes; backends with a per-call timeout of their own use CallLimit in its place.
//
// # Listing
//
// One line per function, grouped by namespace: the name to call and its parameter
// names, "?" marking optional ones, e.g. `read_file({path, tail?, head?}): {content}`
// (about 10 cl100k tokens per function on the reference servers; see list.go for the
// measured alternatives). A query returns a ranked flat list with first sentences.
//
// # Types
//
// Input and output JSON Schemas become TypeScript: objects with optional properties,
// arrays, tuples, enum/const literal unions, anyOf/oneOf unions, allOf intersections,
// nullable types, index signatures, and in-document $refs as named declarations (so
// recursive schemas terminate); descriptions and keywords like format, default and
// minimum become JSDoc. What the generator cannot read becomes unknown in inputs (any
// argument fits) and any in results (so a program can use them without casts); it never
// fails. A result without an output schema is any. A function without required
// parameters takes f() and f({}); positional tools also take their named-argument form,
// f({ customer_id: "c1" }), as binding does. The main signature comes last: TypeScript
// explains a call that fits no overload against the last one.
//
// # Calls
//
// A binding turns the call's JS arguments into the tool's argument object, validates it
// against the input schema and runs the tool's CallFunc; every error starts with "ns.fn:".
//   - MCP-style tools take one object. When the input has exactly one required
//     property P, a lone argument that is not an object, or a non-empty object none of
//     whose keys is a declared property (when P accepts objects), is P's value.
//   - SDK tools with Params take positional arguments in that order (an undefined or
//     null argument leaves its parameter out); a lone object whose keys are all
//     parameter names is also accepted as the argument object.
//   - Trailing undefined/null arguments are dropped first.
//
// Input schemas are compiled at most once per Put, on a function's first call; one that
// does not compile (say, a pattern Go's regexp cannot run) leaves that function callable
// without validation, and Snapshot.Namespaces reports why.
package catalog
