import { Body, Controller, Get, HttpCode, Inject, Optional, Param, Post, Query } from '@nestjs/common';
import { CurrentPrincipal, Principal, Roles, ApiKeysService } from '@tokentally/auth';
import { ApiOperation, APP_CONFIG, AppConfig, DomainError } from '@tokentally/common';
import { rawEventsKeptSince } from '@tokentally/core';
import { IngestMetrics } from '@tokentally/observability';
import { checkIngestBody, MAX_EVENTS_PER_REQUEST } from './dto/usage-event.dto';
import { parseEventKey, parseEventTotalsQuery, parseListEventsQuery } from './dto/list-events.dto';
import { EventsQueryService } from './events-query.service';
import { IngestService } from './ingest.service';
import { ingestProjectOf } from './ingest-project';
import { INGEST_API } from './ingest.api';

@Controller('v1/events')
export class IngestController {
  constructor(
    @Inject(IngestService) private readonly ingest: IngestService,
    @Inject(EventsQueryService) private readonly events: EventsQueryService,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Counters of GET /metrics (absent in the worker, which serves no HTTP).
    @Optional() @Inject(IngestMetrics) private readonly metrics?: IngestMetrics,
  ) {}

  /**
   * One event or `{"events": [...]}`. 202 once committed; valid events are
   * kept when others in the batch are rejected.
   */
  @Post()
  @ApiOperation(INGEST_API.create)
  @Roles('ingest')
  @HttpCode(202)
  async create(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Query('project_id') projectQuery?: string,
  ) {
    const projectId = await this.projectOf(principal, projectQuery);
    const now = Date.now();
    const { retentionMonths } = this.config;
    const check = checkIngestBody(body, { now, keptSince: rawEventsKeptSince(now, retentionMonths), retentionMonths });
    if (check.kind === 'too_many') {
      this.metrics?.requestRejected('too_many');
      throw new DomainError(
        'payload_too_large',
        `A request may carry at most ${MAX_EVENTS_PER_REQUEST} events; this one has ${check.count}.`,
        [{ path: 'events', message: `must hold at most ${MAX_EVENTS_PER_REQUEST} events` }],
      );
    }
    if (check.kind === 'malformed') {
      this.metrics?.requestRejected('malformed');
      throw DomainError.validation(check.errors);
    }
    if (check.events.length === 0) {
      this.metrics?.requestRejected('no_valid_event');
      this.metrics?.rejected(check.rejected);
      throw new DomainError(
        'validation',
        check.batched
          ? 'No event in the request is valid; nothing was stored.'
          : 'The event is invalid; it was not stored.',
        check.rejected.flatMap((r) => r.errors),
        check.batched ? { rejected: check.rejected } : {},
      );
    }
    const results = await this.ingest.ingest(
      projectId,
      check.events.map((e) => e.event),
    );
    let accepted = 0;
    for (const result of results) if (result.status === 'accepted') accepted++;
    const counts = { accepted, duplicates: results.length - accepted };
    this.metrics?.stored(counts, check.rejected);
    return {
      ...counts,
      rejected: check.rejected,
      results,
    };
  }

  /**
   * Stored events, a page at a time, in the order of `sort` (newest first by
   * default), with the filters of the reports; with `granularity` (and
   * `bucket`) exactly the events behind a report's number (docs/ingest.md).
   */
  @Get()
  @ApiOperation(INGEST_API.list)
  @Roles('viewer')
  list(@Query() query: Record<string, string | string[] | undefined>) {
    return this.events.list(parseListEventsQuery(query));
  }

  /** Totals of every event the same filters select: "N events, $X", to set beside the report's figure. */
  @Get('totals')
  @ApiOperation(INGEST_API.totals)
  @Roles('viewer')
  totals(@Query() query: Record<string, string | string[] | undefined>) {
    return this.events.totals(parseEventTotalsQuery(query));
  }

  /** One event: its price version, the cost of each token kind, and the restatements that covered it. */
  @Get(':project_id/:event_id')
  @ApiOperation(INGEST_API.detail)
  @Roles('viewer')
  detail(@Param() params: { project_id?: string; event_id?: string }, @CurrentPrincipal() principal: Principal) {
    const { projectId, eventId } = parseEventKey(params);
    return this.events.detail(projectId, eventId, principal.projectIds === null);
  }

  /** The project the request writes to (ingest-project.ts): the ingest key's own, or ?project_id= for an admin. */
  private projectOf(principal: Principal, projectQuery: string | undefined): Promise<string> {
    return ingestProjectOf(this.keys, principal, projectQuery, (reason) => this.metrics?.requestRejected(reason));
  }
}
