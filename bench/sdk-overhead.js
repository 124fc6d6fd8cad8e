#!/usr/bin/env node
// What the middleware adds to each OpenAI call, beside a peer: the real `openai` client calls
// `images.generate` sequentially against a local fake OpenAI server (another process) that answers
// like gpt-image does: a tiny answer, a real-size one (2 MB of base64 in `b64_json`, with usage) and
// a stream (partial images, then the completed image with its usage). Three clients side by side, in
// alternating blocks so that drift and a busy machine hit all alike:
//   - bare: `new OpenAI(...)`;
//   - tokentally: `withTokenTally(new OpenAI(...))`, events sent to a local sink answering 202;
//   - langfuse: `observeOpenAI(new OpenAI(...))` from @langfuse/openai v5, tracing for real: an
//     OpenTelemetry BasicTracerProvider with Langfuse's span processor (batching, OTLP/HTTP) exporting
//     to a local sink, and an AsyncLocalStorage context manager as NodeSDK registers.
// Reported per client and case: median, p90, p99 wall time per call (µs) and CPU per call (µs,
// process.cpuUsage over each block, so background work such as delivery is counted too).
//   node libs/sdk/build.js && node --expose-gc bench/sdk-overhead.js \
//     [--calls 3000] [--large-calls 600] [--stream-calls 60] [--block 50] [--image-mb 2] \
//     [--partial-images 2] [--memory-calls 20000] [--sdk DIR] [--context-manager als|none] [--in-process-rounds 20]
// --memory-calls 0 skips the memory run; a count of 0 skips that case. --sdk loads another build of the
// package (a folder with its package.json and dist/), to run an earlier version in the same harness.
// --context-manager none leaves OpenTelemetry without a context manager: Langfuse still traces and exports,
// without carrying context across awaits; the AsyncLocalStorage one (the default, as NodeSDK) makes every
// promise in the process dearer, the bare client's too, so that part of its cost is in no "added" figure.
'use strict';
const { spawn } = require('node:child_process');
const { AsyncLocalStorage } = require('node:async_hooks');
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');
const OpenAI = require('openai').default;
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const SDK = path.resolve(args.sdk ?? path.join(__dirname, '../libs/sdk'));
const { withTokenTally, tokenTallyOf } = require(SDK);
const { observeOpenAI } = require('@langfuse/openai');
const { setLangfuseTracerProvider } = require('@langfuse/tracing');
const { LangfuseSpanProcessor } = require('@langfuse/otel');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');
const otel = require('@opentelemetry/api');

const number = (name, fallback) => Number(args[name] ?? fallback);
const CALLS = number('calls', 3000);
const LARGE_CALLS = number('large-calls', 600);
const STREAM_CALLS = number('stream-calls', 60);
const BLOCK = number('block', 50);
const IMAGE_MB = number('image-mb', 2);
const PARTIAL_IMAGES = number('partial-images', 2);
const MEMORY_CALLS = number('memory-calls', 20_000);
const CONTEXT_MANAGER = args['context-manager'] ?? 'als';
const IN_PROCESS_ROUNDS = number('in-process-rounds', 20);

/**
 * The answers, as gpt-image gives them: a tiny one, a real-size one (an image of `imageMb` MB of base64
 * in b64_json, with usage) and a stream of `partialImages` partial images then the completed one, each
 * as large. Built once, in the server process and for the in-process run; random base64 is what a PNG
 * looks like on the wire (incompressible, no structure).
 */
function buildAnswers(imageMb, partialImages) {
  const { randomBytes } = require('node:crypto');
  const usage = (output) => ({
    input_tokens: 12,
    input_tokens_details: { image_tokens: 0, text_tokens: 12 },
    output_tokens: output,
    total_tokens: 12 + output,
  });
  const answer = (b64) =>
    Buffer.from(
      JSON.stringify({
        created: 1764460800,
        background: 'opaque',
        data: [{ b64_json: b64 }],
        output_format: 'png',
        quality: 'high',
        size: '1024x1024',
        usage: usage(4160),
      }),
    );
  const b64 = () => randomBytes(Math.round((imageMb * 1024 * 1024 * 3) / 4)).toString('base64');
  const common = {
    created_at: 1764460800,
    size: '1024x1024',
    quality: 'high',
    background: 'opaque',
    output_format: 'png',
  };
  const event = (data) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
  let stream = '';
  for (let i = 0; i < partialImages; i++) {
    stream += event({ type: 'image_generation.partial_image', b64_json: b64(), ...common, partial_image_index: i });
  }
  stream += event({
    type: 'image_generation.completed',
    b64_json: b64(),
    ...common,
    usage: usage(4160 + 100 * partialImages),
  });
  return {
    tiny: answer('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='),
    large: answer(b64()),
    stream: Buffer.from(stream),
  };
}

// The fake OpenAI and both sinks run in another process, as they would. Answers are built once.
const SERVERS = `
const http = require('node:http');
const { tiny, large, stream } = (${buildAnswers.toString()})(${IMAGE_MB}, ${PARTIAL_IMAGES});
const sinkBytes = { tokentally: 0, langfuse: 0 };
const openai = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      // Written in 64 KB slices, as a network delivers a long event.
      for (let at = 0; at < stream.length; at += 65536) res.write(stream.subarray(at, at + 65536));
      return res.end();
    }
    const image = body.includes('"prompt":"large') ? large : tiny;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': image.length });
    res.end(image);
  });
});
const sink = (name, status, reply) => http.createServer((req, res) => {
  req.on('data', (c) => (sinkBytes[name] += c.length));
  req.on('end', () => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(reply); });
});
const tokentally = sink('tokentally', 202, '{"accepted":1,"duplicates":0,"rejected":[],"results":[]}');
const langfuse = sink('langfuse', 200, '{}');
process.on('message', () => process.send({ sinkBytes }));
openai.listen(0, '127.0.0.1', () => tokentally.listen(0, '127.0.0.1', () => langfuse.listen(0, '127.0.0.1', () =>
  process.send({ openai: openai.address().port, tokentally: tokentally.address().port, langfuse: langfuse.address().port,
    sizes: { tiny: tiny.length, large: large.length, stream: stream.length } }))));
`;

/** What @opentelemetry/context-async-hooks provides (NodeSDK registers it): context carried across awaits. */
class AsyncLocalStorageContextManager {
  constructor() {
    this.storage = new AsyncLocalStorage();
  }
  active() {
    return this.storage.getStore() ?? otel.ROOT_CONTEXT;
  }
  with(context, fn, thisArg, ...args) {
    return this.storage.run(context, () => fn.call(thisArg, ...args));
  }
  bind(context, target) {
    if (typeof target !== 'function') return target;
    const { storage } = this;
    return function bound(...args) {
      return storage.run(context, () => target.apply(this, args));
    };
  }
  enable() {
    return this;
  }
  disable() {
    this.storage.disable();
    return this;
  }
}

/** A package's installed version (some packages do not export their package.json). */
function versionOf(name) {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '../node_modules', name, 'package.json'), 'utf8')).version;
}

/** Calls per block for a case of `calls` calls: --block at most, and at least 12 rounds. */
function blockOf(calls) {
  return Math.max(1, Math.min(BLOCK, Math.ceil(calls / 12)));
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/**
 * The middleware alone, in this process: tokenTallyFetch over a fetch that answers from memory with the
 * same answers, read as the openai client reads them (json(); the body stream, chunk by chunk, for the
 * image stream), beside the same reads without it, in alternating rounds. No client and no network: what
 * the middleware adds is resolved to the microsecond, which the openai client's own cost (0.7 s of CPU
 * for one 6 MB image stream) hides above. Its events are delivered to the sink over HTTP, as above. It
 * runs first, before Langfuse's context manager makes every promise in the process dearer.
 */
async function inProcess(answers, sinkPort, rounds) {
  const { tokenTallyFetch } = require(SDK);
  // `rounds` times `scale` rounds of `perRound` calls each way: the 2 MB JSON answers take 9 ms to parse,
  // whose spread hides a few µs unless there are many of them.
  const kinds = {
    tiny: { bytes: answers.tiny, type: 'application/json', perRound: 400, scale: 1 },
    large: { bytes: answers.large, type: 'application/json', perRound: 10, scale: 2 },
    'large, read by text()': { bytes: answers.large, type: 'application/json', perRound: 10, scale: 1, text: true },
    stream: { bytes: answers.stream, type: 'text/event-stream', perRound: 8, scale: 1 },
  };
  const inner = async (_url, init) => {
    const kind = kinds[JSON.parse(init.body).prompt.split(',')[0]];
    if (kind.type === 'application/json') return new Response(kind.bytes, { headers: { 'content-type': kind.type } });
    let at = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (at >= kind.bytes.length) return controller.close();
        controller.enqueue(new Uint8Array(kind.bytes.subarray(at, (at += 65536))));
      },
    });
    return new Response(body, { headers: { 'content-type': kind.type } });
  };
  const tracked = tokenTallyFetch({
    fetch: inner,
    endpoint: `http://127.0.0.1:${sinkPort}`,
    apiKey: 'tt_bench',
    provider: 'openai',
    dimensions: { team: 'bench', feature: 'overhead' },
    flushOnExit: false,
  });
  const url = 'http://127.0.0.1:1/v1/images/generations';
  const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };
  const call = async (fetchImpl, kind) => {
    await new Promise((resolve) => setImmediate(resolve)); // a turn of the event loop, as a network call has
    const body = JSON.stringify({ model: 'gpt-image-2', prompt: kind, quality: 'high', stream: kind === 'stream' });
    const response = await fetchImpl(url, { method: 'POST', headers, body });
    // The openai client reads JSON with json(); the Vercel AI SDK with text(), then parses it.
    if (kinds[kind].text) return JSON.parse(await response.text()).data.length;
    if (kinds[kind].type === 'application/json') return (await response.json()).data.length;
    let n = 0;
    for await (const chunk of response.body) n += chunk.length;
    return n;
  };
  const out = {};
  for (const kind of Object.keys(kinds)) {
    const n = kinds[kind].perRound;
    const cpu = { without: [], with: [] };
    for (let i = 0; i < n; i++) {
      await call(inner, kind);
      await call(tracked, kind);
    }
    for (let round = 0; round < rounds * kinds[kind].scale; round++) {
      for (const side of round % 2 ? ['with', 'without'] : ['without', 'with']) {
        const fetchImpl = side === 'with' ? tracked : inner;
        const before = process.cpuUsage();
        for (let i = 0; i < n; i++) await call(fetchImpl, kind);
        const used = process.cpuUsage(before);
        cpu[side].push((used.user + used.system) / n);
      }
    }
    const sorted = (values) => [...values].sort((a, b) => a - b);
    out[kind] = {
      without: percentile(sorted(cpu.without), 0.5),
      with: percentile(sorted(cpu.with), 0.5),
      added: percentile(sorted(cpu.with.map((v, i) => v - cpu.without[i])), 0.5),
      calls: n * rounds * kinds[kind].scale,
    };
  }
  await tracked.tokenTally.flush();
  return { out, stats: tracked.tokenTally.stats };
}

async function main() {
  const servers = spawn(process.execPath, ['-e', SERVERS], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  process.on('exit', () => servers.kill());
  const setup = await new Promise((resolve) => servers.once('message', resolve));
  const baseURL = `http://127.0.0.1:${setup.openai}/v1`;
  const openaiOptions = { apiKey: 'sk-bench', baseURL, maxRetries: 0 };

  // First, in a process where nothing else runs yet: no context manager, no tracing.
  const alone =
    IN_PROCESS_ROUNDS > 0
      ? await inProcess(buildAnswers(IMAGE_MB, PARTIAL_IMAGES), setup.tokentally, IN_PROCESS_ROUNDS)
      : null;
  if (CONTEXT_MANAGER === 'als') otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [
      new LangfuseSpanProcessor({
        publicKey: 'pk-lf-bench',
        secretKey: 'sk-lf-bench',
        baseUrl: `http://127.0.0.1:${setup.langfuse}`,
      }),
    ],
  });
  setLangfuseTracerProvider(tracerProvider);

  const clients = {
    bare: new OpenAI(openaiOptions),
    tokentally: withTokenTally(new OpenAI(openaiOptions), {
      endpoint: `http://127.0.0.1:${setup.tokentally}`,
      apiKey: 'tt_bench',
      provider: 'openai',
      dimensions: { team: 'bench', feature: 'overhead' },
      flushOnExit: false,
    }),
    langfuse: observeOpenAI(new OpenAI(openaiOptions), { generationName: 'bench', tags: ['bench'] }),
  };
  const names = Object.keys(clients);

  const cases = [
    {
      name: 'tiny answer',
      bytes: setup.sizes.tiny,
      calls: CALLS,
      call: (client) => client.images.generate({ model: 'gpt-image-2', prompt: 'tiny red fox', quality: 'high' }),
    },
    {
      name: `${IMAGE_MB} MB answer (b64_json)`,
      bytes: setup.sizes.large,
      calls: LARGE_CALLS,
      call: (client) => client.images.generate({ model: 'gpt-image-2', prompt: 'large red fox', quality: 'high' }),
    },
    {
      name: `stream, ${PARTIAL_IMAGES} partial images + completed, ${IMAGE_MB} MB each`,
      bytes: setup.sizes.stream,
      calls: STREAM_CALLS,
      call: async (client) => {
        const stream = await client.images.generate({
          model: 'gpt-image-2',
          prompt: 'streamed red fox',
          quality: 'high',
          stream: true,
          partial_images: PARTIAL_IMAGES,
        });
        let completed = 0;
        for await (const event of stream) if (event.type === 'image_generation.completed') completed++;
        if (completed !== 1) throw new Error(`stream ended with ${completed} completed events`);
      },
    },
  ].filter((c) => c.calls > 0);

  async function block(run, client, n, into) {
    for (let i = 0; i < n; i++) {
      const started = process.hrtime.bigint();
      await run(client);
      into?.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  }

  const results = [];
  for (const c of cases) {
    const warmup = Math.max(10, Math.min(300, Math.round(c.calls / 5)));
    for (const name of names) await block(c.call, clients[name], warmup);
    const wall = Object.fromEntries(names.map((n) => [n, []]));
    const cpu = Object.fromEntries(names.map((n) => [n, 0]));
    // At least 12 rounds whatever the count (60 calls in blocks of 50 were two rounds, one client first in both).
    const size = blockOf(c.calls);
    for (let round = 0; round * size < c.calls; round++) {
      // The order turns each round: no client always follows the same one.
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length];
        const n = Math.min(size, c.calls - round * size);
        const before = process.cpuUsage();
        await block(c.call, clients[name], n, wall[name]);
        const used = process.cpuUsage(before);
        cpu[name] += used.user + used.system;
      }
    }
    const row = {};
    for (const name of names) {
      const sorted = wall[name].sort((a, b) => a - b);
      row[name] = {
        median: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        cpu: cpu[name] / sorted.length,
      };
    }
    results.push({ case: c, row });
    await tokenTallyOf(clients.tokentally).flush();
    await tracerProvider.forceFlush();
  }

  const heap = [];
  if (MEMORY_CALLS > 0) {
    // Memory over a long run of tracked calls (tiny answers): heap after a full GC, every 10% of the run.
    const step = Math.ceil(MEMORY_CALLS / 10);
    for (let done = 0; done < MEMORY_CALLS; done += step) {
      await block(cases[0].call, clients.tokentally, step);
      await tokenTallyOf(clients.tokentally).flush();
      global.gc?.();
      heap.push(process.memoryUsage().heapUsed / 1024 / 1024);
    }
  }
  await tokenTallyOf(clients.tokentally).flush();
  await tracerProvider.forceFlush();
  servers.send('report');
  const { sinkBytes } = await new Promise((resolve) => servers.once('message', resolve));
  const stats = tokenTallyOf(clients.tokentally).stats;

  const fmt = (v) => Math.round(v).toLocaleString('en-US');
  const signed = (v) => (v >= 0 ? '+' : '−') + fmt(Math.abs(v));
  console.log(
    `\n@tokentally/openai overhead beside @langfuse/openai ${versionOf('@langfuse/openai')}, ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}, openai ${versionOf('openai')}`,
  );
  console.log(
    `sequential images.generate, alternating blocks of up to ${BLOCK} calls per client (12 rounds at least), order turning each round`,
  );
  console.log(
    `@tokentally/openai loaded from ${path.relative(process.cwd(), SDK) || '.'}; OpenTelemetry context manager: ${CONTEXT_MANAGER === 'als' ? 'AsyncLocalStorage (as NodeSDK)' : 'none'}`,
  );
  for (const { case: c, row } of results) {
    console.log(
      `\n${c.name}: ${fmt(c.bytes)} bytes per answer, ${c.calls} calls per client in blocks of ${blockOf(c.calls)}`,
    );
    console.log('| client | median µs | p90 µs | p99 µs | CPU µs per call |');
    console.log('|---|---|---|---|---|');
    for (const name of names) {
      const r = row[name];
      console.log(`| ${name} | ${fmt(r.median)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.cpu)} |`);
    }
    for (const name of names.slice(1)) {
      const r = row[name];
      const b = row.bare;
      console.log(
        `| ${name} added | **${signed(r.median - b.median)}** | ${signed(r.p90 - b.p90)} | ${signed(r.p99 - b.p99)} | **${signed(r.cpu - b.cpu)}** |`,
      );
    }
  }
  if (alone) {
    const bytes = { tiny: setup.sizes.tiny, large: setup.sizes.large, stream: setup.sizes.stream };
    bytes['large, read by text()'] = setup.sizes.large;
    console.log(
      `\nthe middleware alone, in process, run first (a fetch answering from memory, read as the openai client reads; median of the alternating rounds):`,
    );
    console.log('| answer | bytes | calls | CPU µs per call without | with | added |');
    console.log('|---|---|---|---|---|---|');
    for (const [kind, r] of Object.entries(alone.out)) {
      console.log(
        `| ${kind} | ${fmt(bytes[kind])} | ${r.calls} | ${r.without.toFixed(1)} | ${r.with.toFixed(1)} | **${r.added.toFixed(1)}** |`,
      );
    }
    console.log(`in process: ${alone.stats.delivered} events delivered, ${alone.stats.dropped} dropped`);
  }
  if (heap.length > 0) {
    console.log(
      `\nmemory run: ${MEMORY_CALLS} tracked calls, heap after GC every ${Math.ceil(MEMORY_CALLS / 10)} calls (MB): ${heap.map((h) => h.toFixed(1)).join(', ')}`,
    );
  }
  console.log(
    `tokentally: ${stats.queued} events queued, ${stats.delivered} delivered, ${stats.dropped} dropped, ${stats.failed} failed (${fmt(sinkBytes.tokentally)} bytes sent); langfuse: ${fmt(sinkBytes.langfuse)} bytes of spans exported`,
  );
  await tracerProvider.shutdown();
  servers.kill();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
