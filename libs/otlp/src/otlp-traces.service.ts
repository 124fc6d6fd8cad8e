import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { rawEventsKeptSince } from '@tokentally/core';
import { EventResult, IngestService, MAX_EVENTS_PER_REQUEST, UsageEventInput } from '@tokentally/ingest';
import { OtlpTraceRequest } from './otlp-model';
import { spanToUsageEvent } from './span-to-event';

/** A span that is a model call but cannot be stored, and why. */
export interface RejectedSpan {
  traceId: string;
  spanId: string;
  name: string;
  errors: string[];
}

/** What an export did: OTLP's partial_success when some spans were rejected. */
export interface TraceExportResult {
  spans: number;
  /** Spans that are not model calls: read and left out (not rejected). */
  skipped: number;
  rejected: RejectedSpan[];
  /** One per model-call span stored or recognised as a duplicate, in the request's order. */
  results: EventResult[];
  partialSuccess: { rejectedSpans: number; errorMessage: string } | null;
}

/** At most this many rejected spans are described in error_message (the rest are counted). */
const DESCRIBED_SPANS = 10;
/** OTLP asks servers to keep answers small; the clients log this message. */
const MAX_MESSAGE_LENGTH = 4000;

/**
 * OTLP traces to usage events: each model-call span becomes one event
 * (span-to-event.ts), stored by the ingest service with the same pricing,
 * idempotency and rollups as POST /v1/events.
 */
@Injectable()
export class OtlpTracesService {
  constructor(
    @Inject(IngestService) private readonly ingest: IngestService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async export(projectId: string, request: OtlpTraceRequest): Promise<TraceExportResult> {
    const now = Date.now();
    const { retentionMonths } = this.config;
    const window = { now, keptSince: rawEventsKeptSince(now, retentionMonths), retentionMonths };
    const events: UsageEventInput[] = [];
    const rejected: RejectedSpan[] = [];
    let spans = 0;
    let skipped = 0;
    for (const { resource, spans: resourceSpans } of request.resourceSpans) {
      for (const span of resourceSpans) {
        spans++;
        const outcome = spanToUsageEvent(span, resource, window);
        if (outcome.kind === 'skipped') skipped++;
        else if (outcome.kind === 'event') events.push(outcome.event);
        else rejected.push({ traceId: span.traceId, spanId: span.spanId, name: span.name, errors: outcome.errors });
      }
    }
    // Batches as POST /v1/events takes them. Each is committed before the next: if a later one fails, the
    // exporter retries the request (a 5xx) and what was committed answers duplicate, counted once.
    const results: EventResult[] = [];
    for (let i = 0; i < events.length; i += MAX_EVENTS_PER_REQUEST)
      results.push(...(await this.ingest.ingest(projectId, events.slice(i, i + MAX_EVENTS_PER_REQUEST))));
    return {
      spans,
      skipped,
      rejected,
      results,
      partialSuccess:
        rejected.length > 0 ? { rejectedSpans: rejected.length, errorMessage: errorMessageOf(rejected, spans) } : null,
    };
  }
}

/** OTLP's error_message: how many spans were rejected and why, the first few named by their span id. */
export function errorMessageOf(rejected: RejectedSpan[], spans: number): string {
  const parts = rejected.slice(0, DESCRIBED_SPANS).map((span) => {
    const id = span.spanId || '(no valid span_id)';
    const name = span.name ? ` "${span.name.slice(0, 80)}"` : '';
    return `span ${id}${name}: ${span.errors.join('; ')}`;
  });
  const more = rejected.length - parts.length;
  let message =
    `${rejected.length} of ${spans} spans rejected and not stored (the request's other spans were taken): ${parts.join(' | ')}` +
    (more > 0 ? ` | and ${more} more` : '');
  if (message.length > MAX_MESSAGE_LENGTH) message = `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...`;
  return message;
}
