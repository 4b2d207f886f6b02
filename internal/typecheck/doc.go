// Package typecheck checks an agent's TypeScript program against the catalog's
// declarations before it runs, with the TypeScript compiler itself: tsgo, the native
// port (github.com/microsoft/typescript-go), kept warm in child processes and driven
// over its API mode (`tsgo --api --async`, JSON-RPC on stdio).
//
// A Checker owns a small pool of tsgo processes, each checking one program at a time.
// Every process parses the standard library once, each catalog declaration block once
// (blocks are files named by their content hash, shared by every catalog snapshot that
// holds them), and then per program only the program: a check is a file write, a
// snapshot update and a diagnostics request, about 2 ms warm.
//
// The program is wrapped as the body of an async function, as the runtime runs it, so
// top-level await and return type-check; positions are mapped back to the agent's code.
// The library is ES2022 plus the parts of later editions goja implements, without Intl,
// shared memory and WeakRef, which it does not, and without DOM or Node; the sandbox's
// globals (console, timers) are declared by the package.
//
// The checker parses hostile input, so it runs in its own processes, in their own
// process group, with a time limit enforced by killing the process and, on Linux, a
// data-segment limit (RLIMIT_DATA). A crash or a hang costs the program being checked
// an error (ErrCrashed, ErrTimeout); the process is replaced and the next check runs
// normally.
//
// Find locates tsgo; when there is none, callers run programs unchecked.
package typecheck
