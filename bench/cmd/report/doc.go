// Command report is pctx's benchmark suite and token-economy report: `make bench` runs
// it and it rewrites bench/REPORT.md and bench/report.json from what it measures.
//
//	go run ./bench/cmd/report            # full run (about 5 minutes on 2 cores)
//	go run ./bench/cmd/report -quick     # short run into a temporary directory
//
// It measures four things, each against real processes:
//
//  1. Tokens (offline tiktoken-go, cl100k_base and o200k_base): the tools/list JSON of
//     the npm reference servers (everything, filesystem, memory), the seed's Python tools
//     (their schemas derived by the Python SDK) and the stand-in MCP tools of the seed's
//     programs, against pctx's three tool definitions and list_functions text.
//  2. Workflow tokens: the seed's two workflows billed turn by turn as sequential tool
//     calling and as Code Mode (Workflow.Sequential, Workflow.CodeMode, Conversation.Cost),
//     with the listing, details and result texts taken from a live pctx that really runs
//     the seed's programs against the Python worker; then (disclosure.go) each workflow in
//     each disclosure (catalog, filesystem, sidecar, auto) against its own four functions,
//     all configured tools and the 100-function search catalog, every text an MCP
//     session's answer in that disclosure, and search_functions' quality on the 50
//     committed and 30 held-out queries.
//  3. Latency over HTTP and stdio, upstream overhead, 100 parallel calls, the Python
//     callback round trip, throughput of 8 concurrent clients against 1, and RSS; the
//     TypeScript MCP SDK client against mcp-go.
//  4. The peer @utcp/code-mode on Node 22 (installed into .cache/peer when missing),
//     beside pctx's codemode.Service run as a library, plus `go test -bench` medians.
//
// A section that cannot run (no npm servers, no venv, the peer does not install) is
// reported as such in the report's notes; only a broken pctx fails the run.
package main
