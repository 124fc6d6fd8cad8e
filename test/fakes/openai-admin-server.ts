import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A local stand-in for OpenAI's organization Costs and Usage APIs, answering
 * in exactly the published shapes (openai/openai-openapi, copied unedited to
 * test/fixtures/real/openai-openapi-images.json; test/e2e/reconciliation
 * checks every answer it sends against those schemas):
 *
 * - `GET /v1/organization/costs`: `start_time` (required), `end_time`,
 *   `bucket_width` (`1d` only), `group_by` (`project_id`, `line_item`,
 *   `api_key_id`), `limit` (1 to 180, default 7), `page`;
 * - `GET /v1/organization/usage/images`: the same, `bucket_width` `1d` here
 *   (the only width the fake serves), `group_by` (`project_id`, `user_id`,
 *   `api_key_id`, `model`, `size`, `source`), `limit` (1 to 31 at `1d`);
 * - a page is `{object: "page", data: [bucket], has_more, next_page}`, one
 *   bucket per UTC day of the range, empty days included, each
 *   `{object: "bucket", start_time, end_time, results}`; results carry every
 *   field of their schema, null where not grouped by;
 * - `Authorization: Bearer <admin key>` is checked (401 with OpenAI's error
 *   body otherwise); array parameters are read as `group_by[]=` (what the
 *   openai-node client sends) or as a repeated `group_by=`.
 *
 * Tests plant the bill (`costs`, amounts as JSON number literals written into
 * the answer digit for digit, `1e-7` stays `1e-7`) and the usage (`images`);
 * `pageSize` caps the buckets per page below the `limit` asked for, so tests
 * cross pages; `fault` makes the next answers fail in a chosen way.
 */

export interface PlantedCost {
  day: string;
  projectId: string | null;
  lineItem: string | null;
  /** A JSON number literal, written into the answer as it is. */
  amount: string;
  currency?: string;
  quantity?: string | null;
  quantityUnit?: string | null;
}

export interface PlantedImages {
  day: string;
  projectId: string | null;
  model: string;
  images: number;
  requests: number;
}

export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'garbage'; body: string }
  /** has_more true and the same next_page every time. */
  | { kind: 'repeat-cursor' }
  /** has_more true with a new next_page every time, for ever. */
  | { kind: 'endless' };

export interface AdminRequest {
  method: string;
  path: string;
  params: URLSearchParams;
  authorization: string | undefined;
}

export interface FakeOpenAiAdmin {
  /** The API base, `http://127.0.0.1:<port>/v1` (OPENAI_ADMIN_BASE_URL). */
  url: string;
  adminKey: string;
  costs: PlantedCost[];
  images: PlantedImages[];
  /** Buckets per page at most, whatever `limit` asks (OpenAI may answer fewer than asked too). */
  pageSize: number;
  /** Every answer this fake fails with until cleared (null: answer normally). */
  fault: Fault | null;
  received: AdminRequest[];
  /** The body of every 200 answer, with the path it answered. */
  answers: Array<{ path: string; body: string }>;
  close(): Promise<void>;
}

const DAY_S = 86_400;
/** The published paths (the fixture): their `group_by` values are the ones this fake accepts. */
const PUBLISHED = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'real', 'openai-openapi-images.json'), 'utf8'),
).paths as Record<string, { get: { parameters: Array<{ name: string; schema: { items?: { enum?: string[] } } }> } }>;
const groupByOf = (path: string): readonly string[] =>
  PUBLISHED[path].get.parameters.find((p) => p.name === 'group_by')!.schema.items!.enum!;
const GROUPS = {
  '/v1/organization/costs': groupByOf('/organization/costs'),
  '/v1/organization/usage/images': groupByOf('/organization/usage/images'),
} as const;
/** From the `limit` descriptions: 1 to 180 buckets for costs; 1 to 31 for usage at `bucket_width=1d`. */
const MAX_LIMIT = { '/v1/organization/costs': 180, '/v1/organization/usage/images': 31 } as const;
type Path = keyof typeof GROUPS;

/** A JSON number written as its literal. */
class Raw {
  constructor(readonly literal: string) {}
}

/** JSON text in which every Raw is its literal, unquoted. */
function serialize(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v) => {
    if (v instanceof Raw) {
      raws.push(v.literal);
      return `@@RAW_${raws.length - 1}@@`;
    }
    return v;
  });
  return text.replace(/"@@RAW_(\d+)@@"/g, (_m, i) => raws[Number(i)]);
}

/** Exact sum of decimal literals (sums of several planted items in one group), as a plain decimal literal. */
function sumLiterals(literals: string[]): string {
  if (literals.length === 1) return literals[0];
  let scale = 0;
  const parsed = literals.map((literal) => {
    const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal)!;
    const fraction = m[3] ?? '';
    const s = fraction.length - Number(m[4] ?? 0);
    return { sign: m[1] === '-' ? -1n : 1n, digits: m[2] + fraction, s };
  });
  for (const p of parsed) scale = Math.max(scale, p.s);
  let total = 0n;
  for (const p of parsed) total += p.sign * BigInt(p.digits) * 10n ** BigInt(scale - p.s);
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return (negative ? '-' : '') + text;
}

const error = (message: string, type = 'invalid_request_error', code: string | null = null) => ({
  error: { message, type, param: null, code },
});

export async function startFakeOpenAiAdmin(adminKey = 'sk-admin-fake0123456789abcdefghijkl'): Promise<FakeOpenAiAdmin> {
  const fake: Omit<FakeOpenAiAdmin, 'url' | 'close'> = {
    adminKey,
    costs: [],
    images: [],
    pageSize: 180,
    fault: null,
    received: [],
    answers: [],
  };
  let endlessCounter = 0;

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    path?: string,
    headers: Record<string, string> = {},
  ) => {
    const text = typeof body === 'string' ? body : serialize(body);
    if (status === 200 && path) fake.answers.push({ path, body: text });
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/\/+$/, '');
    fake.received.push({
      method: req.method ?? 'GET',
      path,
      params: url.searchParams,
      authorization: req.headers.authorization,
    });
    if (req.headers.authorization !== `Bearer ${fake.adminKey}`)
      return send(
        res,
        401,
        error(
          'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
          'invalid_request_error',
          'invalid_api_key',
        ),
      );
    if (req.method !== 'GET' || !(path in GROUPS)) return send(res, 404, error(`Invalid URL (${req.method} ${path})`));
    const fault = fake.fault;
    if (fault?.kind === 'hang') return; // never answers
    if (fault?.kind === 'status')
      return send(
        res,
        fault.status,
        fault.body ?? serialize(error('The server had an error processing your request.', 'server_error')),
        undefined,
        fault.headers,
      );
    if (fault?.kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(fault.body);
      return;
    }
    const endpoint = path as Path;
    const params = url.searchParams;
    const list = (name: string) => [...params.getAll(`${name}[]`), ...params.getAll(name)];

    const start = Number(params.get('start_time'));
    if (!params.get('start_time') || !Number.isInteger(start)) return send(res, 400, error('start_time is required'));
    const endText = params.get('end_time');
    const end = endText === null ? Math.ceil(Date.now() / 1000 / DAY_S) * DAY_S : Number(endText);
    if (!Number.isInteger(end) || end <= start) return send(res, 400, error('end_time must be after start_time'));
    const width = params.get('bucket_width') ?? '1d';
    if (width !== '1d') return send(res, 400, error(`bucket_width ${width} is not served by this fake`));
    const groupBy = list('group_by');
    const unknown = groupBy.filter((g) => !GROUPS[endpoint].includes(g));
    if (unknown.length) return send(res, 400, error(`Invalid group_by: ${unknown.join(', ')}`));
    const limit = params.get('limit') === null ? 7 : Number(params.get('limit'));
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT[endpoint])
      return send(res, 400, error(`limit must be between 1 and ${MAX_LIMIT[endpoint]}`));

    // Buckets: one per UTC day from the day holding start_time, up to end_time.
    const first = Math.floor(start / DAY_S) * DAY_S;
    const days: number[] = [];
    for (let t = first; t < end; t += DAY_S) days.push(t);
    const page = params.get('page');
    let offset = 0;
    if (page !== null) {
      const m = /^page_(\d+)(?:~\d+)?$/.exec(page);
      if (!m || Number(m[1]) >= days.length) return send(res, 400, error(`Invalid page cursor: ${page}`));
      offset = Number(m[1]);
    }
    const take = Math.min(limit, fake.pageSize);
    const slice = days.slice(offset, offset + take);
    const grouped = (field: string) => groupBy.includes(field);
    const dayOf = (t: number) => new Date(t * 1000).toISOString().slice(0, 10);

    const data = slice.map((t) => {
      const day = dayOf(t);
      let results: unknown[];
      if (endpoint === '/v1/organization/costs') {
        const groups = new Map<string, PlantedCost[]>();
        for (const c of fake.costs.filter((c) => c.day === day)) {
          const key = JSON.stringify([
            grouped('project_id') ? c.projectId : null,
            grouped('line_item') ? c.lineItem : null,
            c.currency ?? 'usd',
          ]);
          groups.set(key, [...(groups.get(key) ?? []), c]);
        }
        results = [...groups.entries()].map(([key, items]) => {
          const [projectId, lineItem, currency] = JSON.parse(key);
          const quantities = items.map((i) => i.quantity).filter((q): q is string => !!q);
          const units = [...new Set(items.map((i) => i.quantityUnit ?? null))];
          // Quantities only where grouped by line item (one unit): the schema gives them per line item.
          const withQuantity = grouped('line_item') && quantities.length === items.length && units.length === 1;
          return {
            object: 'organization.costs.result',
            amount: { value: new Raw(sumLiterals(items.map((i) => i.amount))), currency },
            line_item: lineItem,
            project_id: projectId,
            api_key_id: null,
            quantity: withQuantity ? new Raw(sumLiterals(quantities)) : null,
            quantity_unit: withQuantity ? units[0] : null,
          };
        });
      } else {
        const groups = new Map<string, { images: number; requests: number }>();
        for (const u of fake.images.filter((u) => u.day === day)) {
          const key = JSON.stringify([grouped('project_id') ? u.projectId : null, grouped('model') ? u.model : null]);
          const sum = groups.get(key) ?? { images: 0, requests: 0 };
          groups.set(key, { images: sum.images + u.images, requests: sum.requests + u.requests });
        }
        results = [...groups.entries()].map(([key, sum]) => {
          const [projectId, model] = JSON.parse(key);
          return {
            object: 'organization.usage.images.result',
            images: sum.images,
            num_model_requests: sum.requests,
            source: null,
            size: null,
            project_id: projectId,
            user_id: null,
            api_key_id: null,
            model,
          };
        });
      }
      return { object: 'bucket', start_time: t, end_time: t + DAY_S, results };
    });
    let hasMore = offset + take < days.length;
    let nextPage: string | null = hasMore ? `page_${offset + take}` : null;
    if (fault?.kind === 'repeat-cursor') {
      hasMore = true;
      nextPage = 'page_0';
    }
    if (fault?.kind === 'endless') {
      // A new cursor each time (the fake reads `page_<n>~<counter>` as page n): the client must stop on its own bound.
      hasMore = true;
      nextPage = `page_0~${++endlessCounter}`;
    }
    send(res, 200, { object: 'page', data, has_more: hasMore, next_page: nextPage }, path);
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(req, res));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
