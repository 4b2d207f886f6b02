// Package catalog is the one seam between backends, the runtime and the server.
//
// Backends (upstream MCP servers, SDK workers) Put whole namespaces of tools into a
// Catalog on behalf of an owner; a namespace another owner holds is refused with
// ErrNamespaceTaken. Readers take a Snapshot, an immutable view that renders the
// list_functions text (List), the get_function_details text (Details) and the runtime
// bindings (Functions). Changed and Snapshot.Version tell the server when to send
// notifications/tools/list_changed; Snapshot.With overlays session-scoped namespaces.
//
// Names: namespace and tool names are kept when they are JavaScript identifiers and not
// reserved words (namespaces also keep clear of the sandbox's globals, like console or
// Math); otherwise every character outside [A-Za-z0-9_$] becomes "_", a leading digit
// gets a "_" prefix and a reserved word a "_" suffix: "get-sum" → get_sum, "123abc" →
// _123abc, "delete" → delete_. Within a namespace, names that are valid as written keep
// them; the others take their sanitised name in byte order of the original names, with
// "_2", "_3", ... on collision, and the listing shows the original next to such names.
//
// Types: input and output JSON Schemas become TypeScript (objects, optional properties,
// arrays, tuples, enum/const literal unions, anyOf/oneOf unions, allOf intersections,
// nullable types, index signatures, in-document $refs as named declarations, so
// recursive schemas terminate; descriptions and format, default, minimum, ... as JSDoc).
// Whatever the generator cannot read becomes unknown; it never fails.
//
// Calls: see (*function).argObject in bind.go for how JS arguments become the argument
// object; it is validated against the input schema (compiled once per Put, on first
// call) before the tool's CallFunc runs, and every error names the function.
//
// All methods of Catalog and Snapshot are safe for concurrent use.
package catalog
