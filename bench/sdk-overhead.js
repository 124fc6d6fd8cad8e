#!/usr/bin/env node
// What the middleware adds to each OpenAI call: the same image calls through
// the real `openai` client against a local fake OpenAI server, with and
// without withTokenTally, in alternating blocks. Events go to a local sink
// answering like TokenTally (202), so the figure is the middleware's own cost.
//   npm run build && node --expose-gc bench/sdk-overhead.js [--calls 10000] [--memory-calls 100000]
'use strict';
const { spawn } = require('node:child_process');
const OpenAI = require('openai').default;
const { withTokenTally, tokenTallyOf } = require('../libs/sdk');

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const CALLS = Number(args.calls ?? 10_000);
const MEMORY_CALLS = Number(args['memory-calls'] ?? 100_000);
const BLOCK = 500;

// The fake OpenAI and the TokenTally sink run in another process, as they would.
const SERVERS = `
const http = require('node:http');
const image = JSON.stringify({ created: 1, background: 'opaque', data: [{ b64_json: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==' }],
  output_format: 'png', quality: 'high', size: '1024x1024',
  usage: { input_tokens: 12, input_tokens_details: { image_tokens: 0, text_tokens: 12 }, output_tokens: 4160, total_tokens: 4172 } });
let events = 0;
const openai = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(image); }); });
const sink = http.createServer((req, res) => { let n = 0; req.on('data', (c) => (n += c.length)); req.on('end', () => { res.writeHead(202, { 'content-type': 'application/json' }); res.end('{"accepted":1,"duplicates":0,"rejected":[],"results":[]}'); }); });
openai.listen(0, '127.0.0.1', () => sink.listen(0, '127.0.0.1', () => process.send({ openai: openai.address().port, sink: sink.address().port })));
`;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function main() {
  const servers = spawn(process.execPath, ['-e', SERVERS], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  process.on('exit', () => servers.kill());
  const ports = await new Promise((resolve) => servers.once('message', resolve));
  const baseURL = `http://127.0.0.1:${ports.openai}/v1`;
  const plain = new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0 });
  const tracked = withTokenTally(new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0 }), {
    endpoint: `http://127.0.0.1:${ports.sink}`,
    apiKey: 'tt_bench',
    provider: 'openai',
    dimensions: { team: 'bench', feature: 'overhead' },
    flushOnExit: false,
  });
  const params = { model: 'gpt-image-2', prompt: 'a small red fox', size: '1024x1024', quality: 'high' };

  async function block(client, n, into) {
    for (let i = 0; i < n; i++) {
      const started = process.hrtime.bigint();
      await client.images.generate(params);
      into.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  }

  // Warm up both paths (JIT, connection pools).
  await block(plain, 1000, []);
  await block(tracked, 1000, []);

  const without = [];
  const withMiddleware = [];
  let cpuWithout = 0;
  let cpuWith = 0;
  for (let done = 0; done < CALLS; done += BLOCK) {
    let cpu = process.cpuUsage();
    await block(plain, BLOCK, without);
    cpu = process.cpuUsage(cpu);
    cpuWithout += cpu.user + cpu.system;
    cpu = process.cpuUsage();
    await block(tracked, BLOCK, withMiddleware);
    cpu = process.cpuUsage(cpu);
    cpuWith += cpu.user + cpu.system;
  }
  await tokenTallyOf(tracked).flush();

  // Memory over a long run: heap after a full GC, every 10% of the run.
  const heap = [];
  for (let done = 0; done < MEMORY_CALLS; done += MEMORY_CALLS / 10) {
    await block(tracked, MEMORY_CALLS / 10, []);
    await tokenTallyOf(tracked).flush();
    global.gc?.();
    heap.push(process.memoryUsage().heapUsed / 1024 / 1024);
  }
  const stats = tokenTallyOf(tracked).stats;

  const os = require('node:os');
  console.log(
    `\n@tokentally/openai overhead, ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}, openai ${require('openai').VERSION ?? '6'}`,
  );
  console.log(`${CALLS} images.generate calls each way (alternating blocks of ${BLOCK}), sequential`);
  console.log('| | median µs | p90 µs | p99 µs | CPU µs per call (client process) |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| without middleware | ${median(without).toFixed(0)} | ${percentile(without, 0.9).toFixed(0)} | ${percentile(without, 0.99).toFixed(0)} | ${(cpuWithout / CALLS).toFixed(1)} |`,
  );
  console.log(
    `| with middleware | ${median(withMiddleware).toFixed(0)} | ${percentile(withMiddleware, 0.9).toFixed(0)} | ${percentile(withMiddleware, 0.99).toFixed(0)} | ${(cpuWith / CALLS).toFixed(1)} |`,
  );
  console.log(
    `| added | **${(median(withMiddleware) - median(without)).toFixed(0)}** | | | ${((cpuWith - cpuWithout) / CALLS).toFixed(1)} |`,
  );
  console.log(
    `\nmemory run: ${MEMORY_CALLS} calls, heap after GC every ${MEMORY_CALLS / 10} calls (MB): ${heap.map((h) => h.toFixed(1)).join(', ')}`,
  );
  console.log(`events delivered ${stats.delivered}, dropped ${stats.dropped}, failed ${stats.failed}`);
  servers.kill();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
