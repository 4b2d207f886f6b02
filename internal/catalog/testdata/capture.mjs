// Captures an MCP server's tools/list over stdio, for the catalog's fixtures:
//
//   npm install --prefix /tmp/npmfix @modelcontextprotocol/server-everything @modelcontextprotocol/server-filesystem
//   node capture.mjs node /tmp/npmfix/node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio > server-everything.json
//   node capture.mjs node /tmp/npmfix/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js /tmp/fsroot > server-filesystem.json
//
// It declares the sampling, elicitation and roots capabilities, because server-everything
// lists some tools only to clients that have them. Captured 2026-11-25 from
// server-everything 2026.8.31 and server-filesystem 2026.8.31.
import { spawn } from 'node:child_process';
const [cmd, ...args] = process.argv.slice(2);
const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
let buf = '';
const send = (m) => p.stdin.write(JSON.stringify(m) + '\n');
p.stdout.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    if (m.id === 1) {
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    } else if (m.id === 2) {
      process.stdout.write(JSON.stringify(m.result, null, 2) + '\n');
      p.kill();
      process.exit(0);
    }
  }
});
send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } }, clientInfo: { name: 'cap', version: '0' } } });
setTimeout(() => { console.error('timeout'); p.kill(); process.exit(1); }, 20000);
