import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiKeysService, assertRole, limitToProjectScope, principalFromHeader, Public } from '@tokentally/auth';
import { ApiOperation, APP_CONFIG, AppConfig, DomainError } from '@tokentally/common';
import type { FastifyReply } from 'fastify';
import { DatabaseGauges } from './database-gauges';
import { Metrics } from './metrics';

@Controller()
export class MetricsController {
  private readonly tokenDigest: Buffer | null;

  constructor(
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(DatabaseGauges) private readonly gauges: DatabaseGauges,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tokenDigest = config.metricsToken ? sha256(config.metricsToken) : null;
  }

  /**
   * Prometheus text format. Needs `Authorization: Bearer <METRICS_TOKEN>` or
   * an admin API key: the counts describe every project. @Public only for the
   * API-key hook, which knows no METRICS_TOKEN; the check is here. No key is
   * 401, a viewer or ingest key 403 (docs/observability.md).
   */
  @Get('metrics')
  @ApiOperation({
    summary: 'Prometheus metrics',
    tag: 'operations',
    description:
      'Prometheus text format (docs/observability.md). Needs `Authorization: Bearer <METRICS_TOKEN>` or an admin API key.',
    handlerSecurity: [{ metricsToken: [] }, { apiKey: ['admin'] }],
    responses: {
      200: {
        description: 'Metrics in the Prometheus text exposition format 0.0.4.',
        contentType: 'text/plain; version=0.0.4',
        example:
          '# TYPE tokentally_ingest_events_total counter\ntokentally_ingest_events_total{result="accepted"} 42\n',
      },
    },
  })
  @Public()
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    await this.authorize(authorization);
    await this.gauges.refresh();
    const registry = this.metrics.registry;
    reply.header('content-type', registry.contentType).header('cache-control', 'no-store');
    return (await registry.metrics()) + (await this.gauges.text());
  }

  private async authorize(authorization: string | undefined): Promise<void> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (token && this.tokenDigest && timingSafeEqual(sha256(token), this.tokenDigest)) return;
    if (!token) {
      throw new DomainError(
        'unauthenticated',
        'Send the metrics token (METRICS_TOKEN) or an admin API key as "Authorization: Bearer ...".',
      );
    }
    const principal = await principalFromHeader(this.keys, authorization);
    // The rule of project-scope.ts ('refused'), then the role: admin only.
    limitToProjectScope(principal, 'GET', '/metrics', { query: {}, params: {} });
    assertRole(principal, []);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
