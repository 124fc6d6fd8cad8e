import {
  AdminAnswerError,
  AdminPage,
  CostResult,
  costResult,
  ImagesUsageResult,
  imagesUsageResult,
  parseAdminPage,
} from './admin-pages';
import type { ExactJson } from './exact-json';

/**
 * The two organization endpoints of OpenAI's admin API that reconciliation
 * reads, with an admin key (`Authorization: Bearer $OPENAI_ADMIN_KEY`):
 *
 * - `GET {base}/organization/costs`: the bill, per UTC day, grouped by
 *   project and line item;
 * - `GET {base}/organization/usage/images`: images and requests, per UTC day,
 *   grouped by project and model.
 *
 * Query arrays are written `group_by[]=a&group_by[]=b`, as the official
 * openai-node client writes them (qs `arrayFormat: 'brackets'`). Pages are
 * followed through `next_page` while `has_more` is true, at most
 * {@link MAX_PAGES} of them and never the same cursor twice; each request has
 * its own deadline. Whatever goes wrong is thrown as an
 * {@link AdminApiError} whose message says which endpoint, which page and
 * what happened, in words a person can act on; it never carries the key.
 */

/** Pages read per endpoint and run, at most: 92 days of 1-day buckets fit in 92 pages even at one bucket a page. */
export const MAX_PAGES = 200;
/** An answer larger than this is refused (a page of a few hundred results is a few hundred KB). */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/** Buckets asked for per page: the most each endpoint allows at `bucket_width=1d`. */
const LIMIT = { costs: 180, images: 31 } as const;
/** Answers worth one more try (rate limited, gateway trouble), with a short wait. */
const RETRIED = new Set([429, 502, 503, 504]);
const RETRY_WAITS_MS = [1_000, 3_000];
const MAX_RETRY_AFTER_MS = 10_000;

export interface AdminClientOptions {
  /** `https://api.openai.com/v1` (OPENAI_ADMIN_BASE_URL), checked at start-up. */
  baseUrl: string;
  adminKey: string;
  /** Deadline of one request, answer included (RECONCILE_TIMEOUT_MS). */
  timeoutMs: number;
}

export class AdminApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminApiError';
  }
}

/** What one pass over an endpoint read: every result with its bucket's start, and how many pages that took. */
export interface Read<R> {
  results: Array<R & { dayStart: number }>;
  pages: number;
}

type Endpoint = 'costs' | 'images';
const PATHS: Record<Endpoint, string> = { costs: '/organization/costs', images: '/organization/usage/images' };
const GROUP_BY: Record<Endpoint, string[]> = { costs: ['project_id', 'line_item'], images: ['project_id', 'model'] };

export class OpenAiAdminClient {
  constructor(
    private readonly options: AdminClientOptions,
    private readonly sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** The bill from `start` (inclusive) to `end` (exclusive), Unix seconds at UTC midnights. */
  costs(start: number, end: number): Promise<Read<CostResult>> {
    return this.readAll('costs', start, end, costResult);
  }

  /** Image usage from `start` (inclusive) to `end` (exclusive). */
  imagesUsage(start: number, end: number): Promise<Read<ImagesUsageResult>> {
    return this.readAll('images', start, end, imagesUsageResult);
  }

  private async readAll<R>(
    endpoint: Endpoint,
    start: number,
    end: number,
    result: (value: ExactJson, path: string) => R,
  ): Promise<Read<R>> {
    const results: Array<R & { dayStart: number }> = [];
    const seen = new Set<string>();
    let cursor: string | null = null;
    for (let page = 1; ; page++) {
      if (page > MAX_PAGES)
        throw new AdminApiError(`GET ${PATHS[endpoint]} still had more pages after ${MAX_PAGES}; gave up`);
      const parsed: AdminPage<R> = await this.page(endpoint, start, end, cursor, page, result);
      for (const bucket of parsed.buckets) {
        if (bucket.startTime % 86_400 !== 0 || bucket.startTime < start || bucket.startTime >= end)
          throw new AdminApiError(
            `GET ${PATHS[endpoint]} page ${page}: a bucket starts at ${bucket.startTime}, not a UTC day from ${start} to ${end}`,
          );
        for (const r of bucket.results) results.push({ ...r, dayStart: bucket.startTime });
      }
      if (!parsed.hasMore) return { results, pages: page };
      if (!parsed.nextPage)
        throw new AdminApiError(`GET ${PATHS[endpoint]} page ${page}: has_more is true but next_page is missing`);
      if (seen.has(parsed.nextPage))
        throw new AdminApiError(
          `GET ${PATHS[endpoint]} page ${page}: next_page repeats an earlier cursor; paging would never end`,
        );
      seen.add(parsed.nextPage);
      cursor = parsed.nextPage;
    }
  }

  private async page<R>(
    endpoint: Endpoint,
    start: number,
    end: number,
    cursor: string | null,
    page: number,
    result: (value: ExactJson, path: string) => R,
  ): Promise<AdminPage<R>> {
    const query = new URLSearchParams({
      start_time: String(start),
      end_time: String(end),
      bucket_width: '1d',
      limit: String(Math.min(LIMIT[endpoint], Math.max(1, Math.ceil((end - start) / 86_400)))),
    });
    for (const field of GROUP_BY[endpoint]) query.append('group_by[]', field);
    if (cursor) query.set('page', cursor);
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}${PATHS[endpoint]}?${query}`;
    const what = `GET ${PATHS[endpoint]} (page ${page})`;
    for (let attempt = 0; ; attempt++) {
      const answer = await this.get(url, what);
      if (answer.status >= 200 && answer.status < 300) {
        try {
          return parseAdminPage(answer.text, result);
        } catch (error) {
          if (error instanceof AdminAnswerError)
            throw new AdminApiError(`${what}: the answer is not a page of the published schema: ${error.message}`);
          throw error;
        }
      }
      const wait = RETRY_WAITS_MS[attempt];
      if (RETRIED.has(answer.status) && wait !== undefined) {
        await this.sleep(Math.max(wait, Math.min(answer.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)));
        continue;
      }
      throw new AdminApiError(`${what} answered HTTP ${answer.status}${reasonOf(answer.status, answer.text)}`);
    }
  }

  private async get(url: string, what: string): Promise<{ status: number; text: string; retryAfterMs: number | null }> {
    const { timeoutMs, adminKey } = this.options;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${adminKey}`, accept: 'application/json' },
        // The key is a bearer secret: a redirect is reported, never followed with it.
        redirect: 'manual',
        signal,
      });
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => undefined);
        throw new AdminApiError(
          `${what} answered a redirect (HTTP ${response.status}) to ${response.headers.get('location') ?? 'nowhere'}; not followed: set OPENAI_ADMIN_BASE_URL to the final address`,
        );
      }
      const text = await readCapped(response, what);
      const retryAfter = Number(response.headers.get('retry-after'));
      return {
        status: response.status,
        text,
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : null,
      };
    } catch (error) {
      if (error instanceof AdminApiError) throw error;
      if (signal.aborted) throw new AdminApiError(`${what} did not answer within ${timeoutMs} ms`);
      throw new AdminApiError(`${what} failed: ${networkReason(error)}`);
    }
  }
}

/** The body as UTF-8 text, refused past {@link MAX_ANSWER_BYTES}. */
async function readCapped(response: Response, what: string): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new AdminApiError(`${what}: the answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MB; refused`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** What OpenAI said (`{"error": {"message"}}`), shortened, or what the status means. */
function reasonOf(status: number, text: string): string {
  let message = '';
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof body?.error?.message === 'string') message = body.error.message;
  } catch {
    // not JSON: the status says it
  }
  const hint =
    status === 401
      ? ' (the admin key was refused: check OPENAI_ADMIN_KEY, an organization admin key, sk-admin-...)'
      : status === 403
        ? ' (the key may not read the organization usage: use an organization admin key)'
        : status === 429
          ? ' (rate limited; the next run tries again)'
          : '';
  return `${message ? `: ${message.replace(/\s+/g, ' ').slice(0, 300)}` : ''}${hint}`;
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND') return 'host not found';
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return 'connection closed by the server';
  return cause?.message ?? (error as Error)?.message ?? String(error);
}
