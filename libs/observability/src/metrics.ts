import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Request latency buckets (seconds): an ingest batch takes milliseconds, a report or a chart up to seconds. */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The methods a route label may carry; anything else (WebDAV verbs sent to a 404) is counted as OTHER. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route label of a request that matched no route (404s, scanners): never its URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The metrics registry of one api process, served at GET /metrics: Node's
 * process metrics, the HTTP latency histogram, ingest counters (IngestMetrics)
 * and the database gauges (DatabaseGauges). One registry per app, not
 * prom-client's global one, so that several apps in one test process do not
 * share counters.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'tokentally_http_request_duration_seconds',
    help: 'Time from the request arriving to the answer sent, by route template (never the raw URL), method and status class.',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * One answered request. `route` is Fastify's route template
   * (`/v1/events/:project_id/:event_id`), so the label set stays as small as
   * the route table whatever URLs clients send.
   */
  observeRequest(method: string, route: string | undefined, statusCode: number, elapsedMs: number): void {
    this.httpDuration.observe(
      {
        route: route ?? UNMATCHED_ROUTE,
        method: METHODS.has(method) ? method : 'OTHER',
        status_class: `${Math.trunc(statusCode / 100)}xx`,
      },
      elapsedMs / 1000,
    );
  }
}

/** Why POST /v1/events refused a whole request (nothing of it stored). */
export const INGEST_REQUEST_REJECTIONS = [
  // More than 1,000 events in one request (413).
  'too_many',
  // Not an event, not {"events": [...]}, or an empty list (400).
  'malformed',
  // Every event of the request was invalid (400); the events are counted in the event rejections too.
  'no_valid_event',
  // An ingest key naming another project in ?project_id= (403).
  'wrong_project',
  // An admin key without a valid ?project_id= (400).
  'invalid_project_id',
  // An admin key naming a project that does not exist (400).
  'unknown_project',
] as const;
export type IngestRequestRejection = (typeof INGEST_REQUEST_REJECTIONS)[number];

/** Why one event was refused: the top-level field of its first error, from this fixed list. */
export const INGEST_EVENT_REJECTIONS = [
  'event_id',
  'timestamp',
  'provider',
  'model',
  'usage',
  'dimensions',
  'tags',
  // Any other field of the event (operation, images, image_size, image_quality, status, latency_ms).
  'other_field',
  // The item of the list is not an object.
  'not_an_object',
] as const;
export type IngestEventRejection = (typeof INGEST_EVENT_REJECTIONS)[number];

const NAMED_FIELDS = new Set<string>(INGEST_EVENT_REJECTIONS);

/**
 * The reason label of a rejected event from the path of its first error:
 * `events[3].usage.output_image_tokens` and `usage.output_image_tokens` are
 * `usage`; `events[3]` (the item itself) is `not_an_object`.
 */
export function eventRejectionReason(path: string | undefined): IngestEventRejection {
  const field = (path ?? '')
    .replace(/^(events)?\[\d+\]\.?/, '')
    .split(/[.[]/)[0]
    .trim();
  if (field === '' || field === '(body)') return 'not_an_object';
  return NAMED_FIELDS.has(field) ? (field as IngestEventRejection) : 'other_field';
}

/** The part of ingest's answer the counters read (ingest's own type; this lib does not import libs/ingest). */
export interface RejectedEventErrors {
  errors: ReadonlyArray<{ path: string }>;
}

/**
 * Counters of POST /v1/events, counted by IngestController: events by
 * result, rejected events by reason, refused requests by reason. Every label
 * value is from a fixed list, and every series exists from the start at 0.
 */
@Injectable()
export class IngestMetrics {
  private readonly events: Counter<'result'>;
  private readonly rejectedEvents: Counter<'reason'>;
  private readonly rejectedRequests: Counter<'reason'>;
  private readonly statements: Counter;
  private readonly statementRequests: Counter;

  constructor(@Inject(Metrics) metrics: Metrics) {
    const registers = [metrics.registry];
    this.statements = new Counter({
      name: 'tokentally_ingest_statements_total',
      help: 'Statements (and commits) that stored ingest requests; several requests share one under load.',
      registers,
    });
    this.statementRequests = new Counter({
      name: 'tokentally_ingest_statement_requests_total',
      help: 'Ingest requests written by those statements: over tokentally_ingest_statements_total, requests per commit.',
      registers,
    });
    this.events = new Counter({
      name: 'tokentally_ingest_events_total',
      help: 'Events sent to POST /v1/events, by result: accepted (stored), duplicate (event_id already stored), rejected (invalid, not stored).',
      labelNames: ['result'] as const,
      registers,
    });
    this.rejectedEvents = new Counter({
      name: 'tokentally_ingest_rejected_events_total',
      help: 'Events refused by validation, by the top-level field of their first error.',
      labelNames: ['reason'] as const,
      registers,
    });
    this.rejectedRequests = new Counter({
      name: 'tokentally_ingest_rejected_requests_total',
      help: 'Requests to POST /v1/events refused whole by the ingest route (nothing stored), by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const result of ['accepted', 'duplicate', 'rejected']) this.events.inc({ result }, 0);
    for (const reason of INGEST_EVENT_REJECTIONS) this.rejectedEvents.inc({ reason }, 0);
    for (const reason of INGEST_REQUEST_REJECTIONS) this.rejectedRequests.inc({ reason }, 0);
  }

  /** A request whose valid events were stored (202): its results, and the events it rejected. */
  stored(
    { accepted, duplicates }: { accepted: number; duplicates: number },
    rejected: ReadonlyArray<RejectedEventErrors>,
  ): void {
    if (accepted > 0) this.events.inc({ result: 'accepted' }, accepted);
    if (duplicates > 0) this.events.inc({ result: 'duplicate' }, duplicates);
    this.rejected(rejected);
  }

  /** Events refused by validation (in a 202 answer, or all of a 400's). */
  rejected(rejected: ReadonlyArray<RejectedEventErrors>): void {
    if (rejected.length === 0) return;
    this.events.inc({ result: 'rejected' }, rejected.length);
    for (const event of rejected) this.rejectedEvents.inc({ reason: eventRejectionReason(event.errors[0]?.path) });
  }

  /** One statement written for `requests` ingest requests. */
  statementWritten(requests: number): void {
    this.statements.inc();
    this.statementRequests.inc(requests);
  }

  /** A request refused whole. */
  requestRejected(reason: IngestRequestRejection): void {
    this.rejectedRequests.inc({ reason });
  }
}
