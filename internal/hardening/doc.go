// Package hardening holds pctx's whole-system hardening tests: the pctx binary is built
// once and run as users run it (`pctx start --http` and `--stdio`), then attacked with the
// runtime's adversarial corpus, failing upstreams and SDK workers, and sustained load.
//
// The tests: TestHostilePrograms (the runtime's adversarial corpus over HTTP and stdio
// next to normal sessions), TestMemoryAttackSparesBystanders, TestFailingBackends and
// TestOversizedUpstreamResponse (fake upstreams and SDK workers that hang, crash,
// disconnect or bloat), TestNoOrphanUpstreams, TestFrontDoorWiring, and TestLoad (16
// sessions calling an upstream and an SDK tool; logs executions/s, p50, p99 and RSS).
//
// The package has no API: everything is in its _test.go files. The test binary doubles as
// a fake stdio MCP upstream (env PCTX_HARDENING_UPSTREAM) so faults can be injected at
// will. Set PCTX_BIN to test a prebuilt binary, and PCTX_LOAD_DURATION (e.g. "60s", at
// most 60 s) to lengthen the load test. SECURITY.md at the repository root lists these
// tests as evidence for its threat model.
package hardening
