// Package pctxsdk turns Go functions into Code Mode functions of a pctx server, and runs
// Code Mode programs from Go.
//
// A worker connects to pctx over its websocket (/ws), registers typed tools, and serves
// the calls that agents' TypeScript programs make to them, beside the server's upstream
// MCP tools and other SDK workers (Python, Go):
//
//	type RestartInput struct {
//		Service string `json:"service" jsonschema:"name of the service" enum:"api,worker,db"`
//		Force   bool   `json:"force,omitempty" jsonschema:"skip the graceful drain"`
//	}
//
//	w := pctxsdk.New("http://localhost:8080", pctxsdk.WithAPIKey(key))
//	pctxsdk.Register(w, "infra", "restart_service", "Restart a service by name",
//		func(ctx context.Context, in RestartInput) (RestartResult, error) { ... })
//	err := w.Run(ctx) // connects, registers, serves calls, reconnects until ctx ends
//
// The agent then writes `await infra.restart_service({ service: "api" })`.
//
// # Schemas
//
// Register derives the input and output JSON Schemas from the Go types with
// github.com/google/jsonschema-go: struct fields are named by their json tags, a field
// is required unless tagged omitempty or omitzero, a `jsonschema:"..."` tag is its
// description, and an `enum:"a,b,c"` tag (this package's) lists its allowed values.
// pctx shows the schemas to the agent as TypeScript declarations. Arguments are
// validated against the input schema before the handler runs.
//
// # Calls
//
// Every call runs on its own goroutine, so a Promise.all of many calls is served
// concurrently. The handler's ctx ends when the call's deadline passes, when pctx
// cancels it (the execution that made it ended), when the connection drops or when Run
// stops; context.Cause(ctx) says which. A returned error or a panic rejects the agent's
// promise with an Error whose message is `<namespace>.<tool>: <type>: <message>`
// (see ErrorTyper); the worker keeps serving.
//
// # Connection
//
// Run keeps one websocket open, registers every namespace on it, and reconnects with
// exponential backoff when it drops (pctx forgets a worker's registrations when its
// connection ends). Namespaces are global by default: every MCP client and worker of
// the server sees them. With WithScope(ScopeSession), or per namespace with
// Worker.Namespace, they are visible only to this worker's own Code Mode requests.
// Several workers registering identical definitions of a namespace form a pool on
// servers that support pools; nothing in the worker changes for it.
//
// # Code Mode from Go
//
// Worker.Execute runs a TypeScript program as the MCP tool execute_typescript does;
// Worker.ListFunctions and Worker.FunctionDetails return the listing and declarations.
// They use Run's connection (Run must be running) and may be called concurrently.
//
// The wire protocol is docs/protocol.md (pctx/1) in the pctx repository.
package pctxsdk
