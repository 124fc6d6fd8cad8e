import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { CurrentPrincipal, Principal, Roles, ApiKeysService } from '@tokentally/auth';
import { DomainError, field, parseOrThrow } from '@tokentally/common';
import { checkIngestBody, MAX_EVENTS_PER_REQUEST } from './dto/usage-event.dto';
import { parseListEventsQuery } from './dto/list-events.dto';
import { EventsQueryService } from './events-query.service';
import { IngestService } from './ingest.service';

@Controller('v1/events')
export class IngestController {
  constructor(
    @Inject(IngestService) private readonly ingest: IngestService,
    @Inject(EventsQueryService) private readonly events: EventsQueryService,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
  ) {}

  /**
   * One event or `{"events": [...]}`. 202 once committed; valid events are
   * kept when others in the batch are rejected.
   */
  @Post()
  @Roles('ingest')
  @HttpCode(202)
  async create(@Body() body: unknown, @CurrentPrincipal() principal: Principal, @Query('project_id') projectQuery?: string) {
    const projectId = await this.projectOf(principal, projectQuery);
    const check = checkIngestBody(body, Date.now());
    if (check.kind === 'too_many') {
      throw new DomainError('payload_too_large', `A request may carry at most ${MAX_EVENTS_PER_REQUEST} events; this one has ${check.count}.`, [
        { path: 'events', message: `must hold at most ${MAX_EVENTS_PER_REQUEST} events` },
      ]);
    }
    if (check.kind === 'malformed') throw DomainError.validation(check.errors);
    if (check.events.length === 0) {
      throw new DomainError(
        'validation',
        check.batched ? 'No event in the request is valid; nothing was stored.' : 'The event is invalid; it was not stored.',
        check.rejected.flatMap((r) => r.errors),
        check.batched ? { rejected: check.rejected } : {},
      );
    }
    const results = await this.ingest.ingest(projectId, check.events.map((e) => e.event));
    return {
      accepted: results.filter((r) => r.status === 'accepted').length,
      duplicates: results.filter((r) => r.status === 'duplicate').length,
      rejected: check.rejected,
      results,
    };
  }

  /** Stored events, newest first, with the filters of the reports. */
  @Get()
  @Roles('viewer')
  list(@Query() query: Record<string, string | string[] | undefined>) {
    return this.events.list(parseListEventsQuery(query));
  }

  /**
   * An ingest key writes to its own project; an admin names one with
   * ?project_id=. An ingest key naming another project is refused (403), not
   * silently written to its own, so a misconfigured client finds out.
   */
  private async projectOf(principal: Principal, projectQuery: string | undefined): Promise<string> {
    if (principal.role === 'ingest') {
      if (projectQuery !== undefined && projectQuery !== principal.projectId) {
        throw new DomainError('forbidden', `This ingest key writes only to project ${principal.projectId}; project_id names another project.`, [
          { path: 'project_id', message: 'must be the project of the ingest key (or left out)' },
        ]);
      }
      return principal.projectId!;
    }
    const projectId = parseOrThrow(field.uuid(), projectQuery, 'project_id');
    if (!(await this.keys.projectExists(projectId))) {
      throw DomainError.validation([{ path: 'project_id', message: 'is not a known project' }]);
    }
    return projectId;
  }
}
