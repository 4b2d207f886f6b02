// Latency as the official TypeScript MCP client (what most hosts embed) sees it, next to
// the same requests made with Node's fetch and node:http directly, to tell the client's
// per-request cost from pctx's. Prints one JSON object of millisecond samples.
//
//   node tsclient.mjs stdio PCTX_BIN N WARM
//   node tsclient.mjs http  URL      N WARM
import http from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, nArg, warmArg] = process.argv.slice(2);
const n = Number(nArg), warm = Number(warmArg);

async function samples(fn) {
  for (let i = 0; i < warm; i++) await fn();
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

const client = new Client({ name: "pctx-bench", version: "1" });
const transport = mode === "stdio"
  ? new StdioClientTransport({ command: target, args: ["start", "--stdio", "--http", "127.0.0.1:0"], stderr: "ignore" })
  : new StreamableHTTPClientTransport(new URL(target));
await client.connect(transport);
const trivial = async () => {
  const r = await client.callTool({ name: "execute_typescript", arguments: { code: "return 1 + 1" } });
  if (r.isError || !String(r.content?.[0]?.text).startsWith("2")) throw new Error("trivial: " + JSON.stringify(r));
};
const result = { ping: await samples(() => client.ping()), trivial: await samples(trivial) };

if (mode === "http") {
  // The same ping as a bare JSON-RPC POST in the client's session: through fetch (what the
  // SDK's transport uses), and through node:http with a keep-alive agent.
  const headers = { "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
    "Mcp-Session-Id": transport.sessionId };
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
  result.fetchPing = await samples(async () => { const r = await fetch(target, { method: "POST", headers, body }); await r.text(); });
  const url = new URL(target), agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post = () => new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent,
      headers: { ...headers, "Content-Length": Buffer.byteLength(body) } }, (res) => { res.resume(); res.on("end", resolve); });
    req.on("error", reject);
    req.end(body);
  });
  result.nodeHttpPing = await samples(post);
}
await client.close();
console.log(JSON.stringify(result));
