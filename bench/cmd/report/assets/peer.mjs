// pctx bench: the same programs through @utcp/code-mode (Node, isolated-vm), timed here.
//
//   node peer.mjs N   runs the trivial and the 100-call program N times each after a
//                     warm-up and prints one JSON object of per-run milliseconds.
//
// The 100 calls go to an in-process direct-call tool (bench.echo), so they measure the
// sandbox's call path, not a transport.
import { CodeModeUtcpClient } from '@utcp/code-mode';
import { addFunctionToUtcpDirectCall } from '@utcp/direct-call';

const n = Number(process.argv[2] || 100);

// The UTCP SDK logs every tool call with console.log; silence it (in the host, not the
// sandbox) so the peer is timed without that I/O, and print the result with stdout.write.
console.log = () => {};

addFunctionToUtcpDirectCall('benchManual', async () => ({
  utcp_version: '1.0.1',
  manual_version: '1.0.0',
  tools: [{
    name: 'echo',
    description: 'Return x.',
    inputs: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] },
    outputs: { type: 'object' },
    tags: [],
    tool_call_template: { call_template_type: 'direct-call', callable_name: 'benchEcho' },
  }],
}));
addFunctionToUtcpDirectCall('benchEcho', async (args) => (args && typeof args === 'object' && 'x' in args ? args.x : args));

const client = await CodeModeUtcpClient.create();
const reg = await client.registerManual({ name: 'bench', call_template_type: 'direct-call', callable_name: 'benchManual' });
if (reg && reg.success === false) {
  throw new Error('registerManual failed: ' + JSON.stringify(reg.errors || reg));
}

const programs = {
  trivial: { code: 'return 1 + 1', want: 2 },
  parallel100: {
    code: 'const r = await Promise.all(Array.from({ length: 100 }, (_, i) => bench.echo({ x: i }))); return r.length',
    want: 100,
  },
};

const out = { node: process.version, iterations: n };
for (const [name, p] of Object.entries(programs)) {
  const run = async () => {
    const { result } = await client.callToolChain(p.code);
    if (result !== p.want) {
      throw new Error(`${name}: got ${JSON.stringify(result)}, want ${p.want}`);
    }
  };
  for (let i = 0; i < Math.max(10, Math.floor(n / 10)); i++) await run();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  out[name] = samples;
}
// isolated-vm can leave exit waiting on its threads: the runner kills this process once
// it has read the line.
process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
