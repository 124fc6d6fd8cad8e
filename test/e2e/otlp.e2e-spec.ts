import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Attributes } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/app';
import { projectWithIngestKey, viewerClient } from '../support/factories';
import { HttpClient } from '../support/http';
import type { AppPlan, AppReport, ExporterPlan, SpanPlan } from '../fixtures/otlp/traced-app';

/**
 * POST /v1/otlp/v1/traces fed by the real OpenTelemetry JS SDK (sdk-trace-base 2, a resource, a
 * BatchSpanProcessor and the OTLP/HTTP JSON or protobuf exporter), run as an application process of its own
 * (test/fixtures/otlp/traced-app.ts): GenAI spans become priced usage events with the resource's dimensions,
 * a re-exported span is counted once, other spans are skipped, an invalid span is reported in partial_success
 * while its neighbours are stored.
 */
const PATH = '/v1/otlp/v1/traces';
const root = path.resolve(__dirname, '..', '..');
const RESOURCE = { 'service.name': 'avatars', 'deployment.environment.name': 'prod', 'tokentally.team': 'growth' };
const DIMENSIONS = { team: 'growth', user: 'u_42', feature: 'avatars', environment: 'prod' };

/** Runs the traced application with `plan`; its report is the last line it prints. */
function runTracedApp(plan: AppPlan): Promise<AppReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '-r',
        path.join(root, 'test/support/ts-register.js'),
        path.join(root, 'test/fixtures/otlp/traced-app.ts'),
        JSON.stringify(plan),
      ],
      { cwd: root, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`traced app failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as AppReport);
      },
    );
  });
}

/** A gpt-image-2 call as a GenAI instrumentation records it, with `attributes` on top. */
const imageCall = (attributes: Attributes, extra: Partial<SpanPlan> = {}): SpanPlan => ({
  name: 'generate_content gpt-image-2',
  attributes: {
    'gen_ai.provider.name': 'openai',
    'gen_ai.operation.name': 'generate_content',
    'gen_ai.request.model': 'gpt-image-2',
    'enduser.id': 'u_42',
    ...attributes,
  },
  ...extra,
});
/** A span that is no model call: an HTTP request the same app served. */
const HTTP_SPAN: SpanPlan = {
  name: 'GET /health',
  server: true,
  attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
};
const eventIdOf = (span: { traceId: string; spanId: string }) => `otel:${span.traceId}:${span.spanId}`;

describe('POST /v1/otlp/v1/traces (OpenTelemetry GenAI spans)', () => {
  let t: TestApp;
  let viewer: HttpClient;
  let ingestKey: string;
  let projectId: string;
  let viewerKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    ({ key: ingestKey, projectId } = await projectWithIngestKey(t.http));
    viewer = await viewerClient(t.http);
    viewerKey = viewer.key!;
  });
  afterAll(() => t?.close());

  const exporter = (encoding: ExporterPlan['encoding'], extra: Partial<ExporterPlan> = {}): ExporterPlan => ({
    encoding,
    url: `${t.url}${PATH}`,
    key: ingestKey,
    ...extra,
  });
  /** The app's plan: its resource carries `tokentally.tag.run`, so each test reads back its own events. */
  const plan = (run: string, spans: SpanPlan[], send: ExporterPlan, again: ExporterPlan[] = []): AppPlan => ({
    resource: { ...RESOURCE, 'tokentally.tag.run': run },
    spans,
    exporter: send,
    again,
  });
  const SUCCESS = { code: ExportResultCode.SUCCESS };

  async function eventsOf(run: string, project = projectId): Promise<Array<Record<string, any>>> {
    const res = await viewer.get(`/v1/events?project=${project}&limit=1000&sort=time&tag:run=${run}`);
    expect(res.status).toBe(200);
    return res.body.data;
  }
  async function totalsOf(run: string) {
    const res = await viewer.get(`/v1/events/totals?project=${projectId}&tag:run=${run}`);
    expect(res.status).toBe(200);
    return { events: res.body.events, cost_usd: res.body.cost_usd };
  }

  /** Raw HTTP: the answer's status, content type and bytes (a protobuf answer is no text). */
  async function post(body: Uint8Array | string, headers: Record<string, string>, key: string | null = ingestKey) {
    const res = await fetch(`${t.url}${PATH}`, {
      method: 'POST',
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body,
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      bytes,
      json: () => JSON.parse(bytes.toString()),
    };
  }

  it('stores GenAI spans sent by the JSON exporter as priced events with the exact cost and the resource dimensions', async () => {
    const report = await runTracedApp(
      plan(
        'json',
        [
          // An edit: 1,530 input tokens (100 cached, 1,290 image), 4,300 output tokens (4,160 image).
          imageCall({
            'gen_ai.operation.name': 'images.edit',
            'gen_ai.response.model': 'gpt-image-2-2026-04-21',
            'gen_ai.usage.input_tokens': 1530,
            'gen_ai.usage.cache_read.input_tokens': 100,
            'tokentally.usage.image.input_tokens': 1290,
            'gen_ai.usage.output_tokens': 4300,
            'tokentally.usage.image.output_tokens': 4160,
            'tokentally.images': 1,
            'tokentally.image_size': '1024x1024',
            'tokentally.image_quality': 'high',
          }),
          // A generation whose output is not split: for an image model, all of it is image output.
          imageCall({ 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 4160 }),
          // A call that failed after reading its prompt.
          imageCall({ 'gen_ai.usage.input_tokens': 50, 'gen_ai.usage.output_tokens': 0 }, { failed: true }),
          HTTP_SPAN,
        ],
        exporter('json'),
      ),
    );
    expect([report.exported, report.warnings]).toEqual([[SUCCESS], []]);
    const [edit, generate, failed] = report.spans;
    const events = await eventsOf('json');
    expect(events.map((e) => e.event_id).sort()).toEqual([edit, generate, failed].map(eventIdOf).sort());
    const byId = new Map(events.map((e) => [e.event_id, e]));
    // $5/M text in, $1.25/M cached text, $8/M image in, $30/M image out, $10/M text out (docs/pricing.md):
    // 140 x 5 + 100 x 1.25 + 1,290 x 8 + 4,160 x 30 + 140 x 10 = 137,345 micro-dollars.
    expect(byId.get(eventIdOf(edit))).toMatchObject({
      project_id: projectId,
      provider: 'openai',
      // The dated snapshot that answered (gen_ai.response.model), priced as gpt-image-2.
      model: 'gpt-image-2-2026-04-21',
      operation: 'images.edit',
      timestamp: `${new Date(edit.endMs).toISOString().slice(0, -1)}000Z`,
      usage: {
        input_text_tokens: 140,
        cached_input_text_tokens: 100,
        input_image_tokens: 1290,
        cached_input_image_tokens: 0,
        output_image_tokens: 4160,
        output_text_tokens: 140,
      },
      images: 1,
      image_size: '1024x1024',
      image_quality: 'high',
      status: 'ok',
      latency_ms: 8123,
      dimensions: DIMENSIONS,
      tags: { run: 'json' },
      cost_usd: '0.137345',
      priced: true,
      pricing: 'priced',
    });
    // 120 x 5 + 4,160 x 30 = 125,400 micro-dollars.
    expect(byId.get(eventIdOf(generate))).toMatchObject({
      usage: { input_text_tokens: 120, output_image_tokens: 4160, output_text_tokens: 0 },
      status: 'ok',
      dimensions: DIMENSIONS,
      cost_usd: '0.125400',
      pricing: 'priced',
    });
    // 50 x 5 = 250 micro-dollars: the prompt was read.
    expect(byId.get(eventIdOf(failed))).toMatchObject({ status: 'error', cost_usd: '0.000250', pricing: 'priced' });
    expect(await totalsOf('json')).toEqual({ events: 3, cost_usd: '0.262995' });
  });

  it('stores spans sent by the protobuf exporter (gzip-compressed) the same way', async () => {
    const report = await runTracedApp(
      plan(
        'proto',
        [
          imageCall({
            'gen_ai.usage.input_tokens': 120,
            'gen_ai.usage.output_tokens': 4160,
            'tokentally.tag.campaign': 'black-friday',
          }),
          HTTP_SPAN,
        ],
        exporter('protobuf', { gzip: true }),
      ),
    );
    expect([report.exported, report.warnings]).toEqual([[SUCCESS], []]);
    expect(await eventsOf('proto')).toEqual([
      expect.objectContaining({
        event_id: eventIdOf(report.spans[0]),
        provider: 'openai',
        model: 'gpt-image-2',
        dimensions: DIMENSIONS,
        tags: { run: 'proto', campaign: 'black-friday' },
        latency_ms: 8123,
        cost_usd: '0.125400',
        priced: true,
      }),
    ]);
  });

  it('takes an export of several MB, spans that carry their prompts (a 1 MB limit dropped it: exporters do not retry a 413)', async () => {
    // 500 spans with a prompt of 6.8 KB each: about 3.5 MB as OTLP/JSON.
    const spans = [
      imageCall(
        { 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 4160 },
        { copies: 500, padding: { key: 'gen_ai.input.messages', text: 'a watercolor fox ', times: 400 } },
      ),
    ];
    const report = await runTracedApp(plan('big', spans, exporter('json')));
    expect([report.exported, report.warnings]).toEqual([[SUCCESS], []]);
    expect(Buffer.from(report.serialized.json, 'base64').length).toBeGreaterThan(3 * 1024 * 1024);
    expect(await totalsOf('big')).toEqual({ events: 500, cost_usd: '62.700000' });
  });

  it('counts a re-exported span once, whichever encoding carries it again', async () => {
    // The same finished spans sent again, as an exporter's retry sends them: JSON and protobuf, plain and gzip.
    const report = await runTracedApp(
      plan(
        'again',
        [
          imageCall({ 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 4160 }),
          imageCall({ 'gen_ai.usage.input_tokens': 1000, 'gen_ai.usage.output_tokens': 1000 }),
          HTTP_SPAN,
        ],
        exporter('json'),
        [
          exporter('json'),
          exporter('protobuf'),
          exporter('json', { gzip: true }),
          exporter('protobuf', { gzip: true }),
        ],
      ),
    );
    expect([report.exported, report.again]).toEqual([[SUCCESS], [SUCCESS, SUCCESS, SUCCESS, SUCCESS]]);
    // 125,400 + 1,000 x 5 + 1,000 x 30 = 160,400 micro-dollars, once.
    expect(await totalsOf('again')).toEqual({ events: 2, cost_usd: '0.160400' });
    expect((await eventsOf('again')).map((e) => e.cost_usd).sort()).toEqual(['0.035000', '0.125400']);
    // And once more, posted by hand in both encodings.
    const json = await post(Buffer.from(report.serialized.json, 'base64'), { 'content-type': 'application/json' });
    const protobuf = await post(Buffer.from(report.serialized.protobuf, 'base64'), {
      'content-type': 'application/x-protobuf',
    });
    expect([json.status, json.json(), protobuf.status, protobuf.bytes.length]).toEqual([200, {}, 200, 0]);
    expect(await totalsOf('again')).toEqual({ events: 2, cost_usd: '0.160400' });
  });

  it('rejects an invalid span in partial_success and stores its valid neighbours (JSON and protobuf answers)', async () => {
    const report = await runTracedApp(
      plan(
        'partial',
        [
          imageCall({ 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 4160 }),
          imageCall({ 'gen_ai.usage.input_tokens': -5, 'gen_ai.usage.output_tokens': 4160 }),
          HTTP_SPAN,
        ],
        exporter('json'),
      ),
    );
    const [valid, invalid] = report.spans;
    const message =
      `1 of 3 spans rejected and not stored (the request's other spans were taken): span ${invalid.spanId} ` +
      '"generate_content gpt-image-2": gen_ai.usage.input_tokens must not be negative (it is -5)';
    // A partial success is a success to the exporter, which logs it as a warning: the operator sees why.
    expect(report.exported).toEqual([SUCCESS]);
    expect(report.warnings).toEqual([
      `Received Partial Success response: ${JSON.stringify({ rejectedSpans: '1', errorMessage: message })}`,
    ]);
    expect((await eventsOf('partial')).map((e) => [e.event_id, e.cost_usd])).toEqual([[eventIdOf(valid), '0.125400']]);

    // The same request as each exporter encodes it: JSON answers JSON, protobuf answers protobuf.
    const asJson = await post(Buffer.from(report.serialized.json, 'base64'), { 'content-type': 'application/json' });
    expect([asJson.status, asJson.type, asJson.json()]).toEqual([
      200,
      expect.stringMatching(/^application\/json/),
      { partialSuccess: { rejectedSpans: '1', errorMessage: message } },
    ]);
    const asProtobuf = await post(Buffer.from(report.serialized.protobuf, 'base64'), {
      'content-type': 'application/x-protobuf',
    });
    expect([asProtobuf.status, asProtobuf.type]).toEqual([200, 'application/x-protobuf']);
    expect(ProtobufTraceSerializer.deserializeResponse(asProtobuf.bytes)).toEqual({
      partialSuccess: { rejectedSpans: 1, errorMessage: message },
    });
    // Still one event: the valid span was a duplicate the second and third time.
    expect(await totalsOf('partial')).toEqual({ events: 1, cost_usd: '0.125400' });
  });

  it('answers a full success with an empty ExportTraceServiceResponse in the encoding of the request', async () => {
    const json = await post(JSON.stringify({ resourceSpans: [] }), { 'content-type': 'application/json' });
    expect([json.status, json.type, json.json()]).toEqual([200, expect.stringMatching(/^application\/json/), {}]);
    const empty = await post(new Uint8Array(0), { 'content-type': 'application/x-protobuf' });
    expect([empty.status, empty.type, empty.bytes.length]).toEqual([200, 'application/x-protobuf', 0]);
  });

  describe('refusals', () => {
    const expectProblem = (res: { status: number; type: string; json: () => any }, status: number) => {
      expect([res.status, res.type]).toEqual([status, expect.stringMatching(/^application\/problem\+json/)]);
      return res.json();
    };

    it('answers a body that is not an OTLP request 400 problem+json, naming where it stopped', async () => {
      const protobuf = expectProblem(
        await post(Uint8Array.from([0x0a, 0x05, 0x01]), { 'content-type': 'application/x-protobuf' }),
        400,
      );
      expect(protobuf).toMatchObject({
        status: 400,
        detail: 'The body is not a protobuf ExportTraceServiceRequest.',
        errors: [
          {
            path: 'resource_spans[0]',
            message: 'resource_spans: the length (5 bytes) runs past the end of the message',
          },
        ],
      });
      const shape = expectProblem(await post('{"resourceSpans": {}}', { 'content-type': 'application/json' }), 400);
      expect(shape.errors).toEqual([{ path: 'resourceSpans', message: 'must be a list' }]);
      const syntax = expectProblem(await post('{"resourceSpans":', { 'content-type': 'application/json' }), 400);
      expect(syntax.errors).toEqual([{ path: '(body)', message: 'is not valid JSON' }]);
      const gzip = expectProblem(
        await post('not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
        400,
      );
      expect(gzip.errors).toEqual([{ path: '(body)', message: 'is not valid gzip data' }]);
    });

    it('reads a gzip body, and answers 413 problem+json to a body over 16 MB, compressed or once inflated', async () => {
      const request = JSON.stringify({ resourceSpans: [] });
      const gzipped = await post(gzipSync(request), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect([gzipped.status, gzipped.json()]).toEqual([200, {}]);
      const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x18); // field 3, varint 0x18, ...: valid protobuf if it were read
      const tooBig = expectProblem(await post(big, { 'content-type': 'application/x-protobuf' }), 413);
      // A gzip bomb: 64 KB that inflate to 64 MB are refused at the 16th megabyte.
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      expect(bomb.length).toBeLessThan(100 * 1024);
      const started = Date.now();
      const refused = expectProblem(
        await post(bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }),
        413,
      );
      expect(refused.errors).toEqual([
        { path: '(body)', message: 'must be at most 16777216 bytes after gzip decompression' },
      ]);
      // One problem type for a 413, whichever limit it met.
      expect([tooBig.type, refused.type]).toEqual([
        'urn:tokentally:problem:payload_too_large',
        'urn:tokentally:problem:payload_too_large',
      ]);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('answers another content type or encoding 415, and leaves the other routes as they were', async () => {
      // This route reads protobuf too, and says so.
      const text = expectProblem(await post('x', { 'content-type': 'text/plain' }), 415);
      expect([text.detail, text.errors]).toEqual([
        'Send the body as application/json or application/x-protobuf.',
        [{ path: '(content-type)', message: 'must be application/json or application/x-protobuf' }],
      ]);
      const brotli = expectProblem(
        await post('x', { 'content-type': 'application/json', 'content-encoding': 'br' }),
        415,
      );
      expect(brotli.errors).toEqual([{ path: '(content-encoding)', message: 'must be gzip or left out' }]);
      // POST /v1/events takes neither protobuf nor gzip, as before this route existed.
      const events = t.http.as(ingestKey);
      const protobuf = await events.request('POST', '/v1/events', undefined, {
        headers: { 'content-type': 'application/x-protobuf' },
        raw: Buffer.from([0x0a, 0x00]),
      });
      expect([protobuf.status, protobuf.body.errors]).toEqual([
        415,
        [{ path: '(content-type)', message: 'must be application/json' }],
      ]);
      const gzipped = await events.request('POST', '/v1/events', undefined, {
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        raw: gzipSync('{}'),
      });
      expect([gzipped.status, gzipped.body.errors]).toEqual([400, [{ path: '(body)', message: 'must be UTF-8 text' }]]);
    });

    it('answers 401 to a missing or unknown key and 403 to a viewer key, through the real exporter too', async () => {
      const body = JSON.stringify({ resourceSpans: [] });
      const json = { 'content-type': 'application/json' };
      expectProblem(await post(body, json, null), 401);
      expectProblem(await post(body, json, 'tt_not_a_real_key_000000000000000'), 401);
      expectProblem(await post(body, json, viewerKey), 403);
      const report = await runTracedApp(
        plan(
          'refused',
          [imageCall({ 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 4160 })],
          exporter('json', { key: 'tt_not_a_real_key_000000000000000' }),
          [exporter('protobuf', { key: viewerKey }), exporter('json', { key: viewerKey, gzip: true })],
        ),
      );
      const failures = [...report.exported, ...report.again].map((answer) => [answer.code, answer.status]);
      expect(failures).toEqual([
        [ExportResultCode.FAILED, 401],
        [ExportResultCode.FAILED, 403],
        [ExportResultCode.FAILED, 403],
      ]);
      expect(await eventsOf('refused')).toEqual([]);
    });

    it('takes the project from the key: an admin names it, an ingest key may not name another', async () => {
      const body = JSON.stringify({ resourceSpans: [] });
      const json = { 'content-type': 'application/json' };
      const admin = expectProblem(await post(body, json, TEST_ADMIN_KEY), 400);
      expect(admin.errors).toEqual([{ path: 'project_id', message: 'is required' }]);
      const other = (await t.http.post('/v1/projects', { name: 'otlp-other' })).body.id;
      const res = await fetch(`${t.url}${PATH}?project_id=${other}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ingestKey}`, ...json },
        body,
      });
      expect(res.status).toBe(403);
      // An admin writes to the project it names.
      const report = await runTracedApp(
        plan(
          'admin',
          [imageCall({ 'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 4160 })],
          exporter('json', { url: `${t.url}${PATH}?project_id=${other}`, key: TEST_ADMIN_KEY }),
        ),
      );
      expect(report.exported).toEqual([SUCCESS]);
      expect((await eventsOf('admin', other)).map((e) => e.event_id)).toEqual([eventIdOf(report.spans[0])]);
    });
  });
});
