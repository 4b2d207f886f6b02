// Package sandbox runs executions in worker processes, so that nothing a program does can
// take the server down, and enforces limits from outside the thing they limit.
//
// Go cannot recover from a stack overflow or an out-of-memory (goja's parser recursing
// on eval("(".repeat(1e6)), one allocation of 2^28 interface values), and a native loop
// inside a goja builtin ignores vm.Interrupt. So the parent (pctx) keeps the catalog, the
// backends and the sessions, and each execution's VM runs in a worker: the same binary
// started with EnvChild set, whose init hook (reexec.go) runs Main instead of main. A
// worker sees stubs for the catalog's functions; each call crosses its stdio pipes as a
// frame (frame.go), is served in the parent, and its raw JSON result crosses back.
//
// Limits, each enforced by the parent or the kernel rather than by the worker's goodwill:
//   - wall clock: the worker interrupts the VM at Limits.Timeout; if it has not
//     answered Grace later (a native loop, a regexp compile), the parent kills it;
//   - memory: the in-VM watchdog and a Go soft limit first, then RLIMIT_DATA set by the
//     parent (prlimit) on Linux: an allocation past it aborts the worker, reported as
//     kind memory;
//   - CPU time: RLIMIT_CPU set by the parent on Linux before each execution (whole seconds);
//   - calls, calls in flight, argument, result and console sizes: counted again in the
//     parent, and every frame is bounded.
//
// A worker that dies fails only the executions it was running, each with a named error
// kind (runtime.KindCrashed saying what happened, KindMemory, KindTimeout, KindCPU); the
// pool replaces it. On Linux a worker also installs a seccomp filter after start-up that
// forbids opening files, sockets and exec (seccomp_linux.go).
//
// Pool is safe for concurrent use. By default each worker runs one execution at a time:
// a crash then fails only the program that caused it. Options.PerWorker trades that
// isolation for memory (one worker's baseline shared by several executions).
package sandbox
