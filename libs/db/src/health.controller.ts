import { Controller, Get, Inject } from '@nestjs/common';
import { SetMetadata } from '@nestjs/common';
import { Database } from './database';

// Same metadata key as @Public() in libs/auth (db must not import auth).
const Public = () => SetMetadata('tokentally:public', true);

@Controller()
export class HealthController {
  constructor(@Inject(Database) private readonly database: Database) {}

  /** Liveness and database reachability; no key needed. */
  @Get('health')
  @Public()
  async health() {
    const started = Date.now();
    await this.database.dataSource.query('SELECT 1');
    return { status: 'ok', database: this.database.kind, database_latency_ms: Date.now() - started };
  }
}
