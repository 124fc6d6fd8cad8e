import { Controller, Get, Inject, Res } from '@nestjs/common';
import { SetMetadata } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiOperation, DATABASE_RETRY_AFTER_SECONDS } from '@tokentally/common';
import { Database } from './database';
import { HEALTH_API } from './health.api';

// Same metadata key as @Public() in libs/auth (db must not import auth).
const Public = () => SetMetadata('tokentally:public', true);

@Controller()
export class HealthController {
  constructor(@Inject(Database) private readonly database: Database) {}

  /** Liveness: 200 while the process runs, whatever the database does. No key needed. */
  @Get('health')
  @ApiOperation(HEALTH_API.health)
  @Public()
  health() {
    return { status: 'ok', database: this.database.kind };
  }

  /**
   * Readiness: 200 when the database answers and its schema is up to date,
   * otherwise 503 with the reason (and Retry-After). No key needed.
   */
  @Get('health/ready')
  @ApiOperation(HEALTH_API.ready)
  @Public()
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const started = Date.now();
    const readiness = await this.database.readiness();
    const latency = Date.now() - started;
    if (readiness.ready) return { status: 'ready', database: this.database.kind, database_latency_ms: latency };
    reply.status(503).header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
    return { status: 'unavailable', database: this.database.kind, reason: readiness.reason };
  }
}
