import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { ApiOperation, parseOrThrow } from '@tokentally/common';
import { RECONCILIATION_API } from './reconciliation.api';
import {
  addDays,
  checkRange,
  mappingBodySchema,
  openaiProjectParams,
  reportQuerySchema,
  runBodySchema,
  runsQuerySchema,
  utcDay,
} from './reconciliation.dto';
import { ReconciliationService } from './reconciliation.service';

/**
 * Reconciliation with OpenAI's bill (docs/reconciliation.md): admins run it
 * and map projects; viewers read the report. A key limited to projects reads
 * the rows of its mapped projects only (the `handler` rule of
 * libs/auth/src/project-scope.ts).
 */
@Controller('v1/reconciliation')
export class ReconciliationController {
  constructor(@Inject(ReconciliationService) private readonly reconciliation: ReconciliationService) {}

  @Post('run')
  @ApiOperation(RECONCILIATION_API.run)
  run(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const range = checkRange(parseOrThrow(runBodySchema, body ?? {}), new Date());
    return this.reconciliation.run(range, 'manual', principal.keyId);
  }

  @Get()
  @Roles('viewer')
  @ApiOperation(RECONCILIATION_API.report)
  report(@Query() query: unknown, @CurrentPrincipal() principal: Principal) {
    const q = parseOrThrow(reportQuerySchema, query);
    const now = new Date();
    const to = q.to ?? addDays(utcDay(now), -1);
    const from = q.from ?? addDays(to, -6);
    return this.reconciliation.report(checkRange({ from, to }, now), principal.projectIds);
  }

  @Get('runs')
  @ApiOperation(RECONCILIATION_API.runs)
  async runs(@Query() query: unknown) {
    return { data: await this.reconciliation.runs(parseOrThrow(runsQuerySchema, query).limit) };
  }

  @Get('projects')
  @ApiOperation(RECONCILIATION_API.mappings)
  async mappings() {
    return { data: await this.reconciliation.mappings() };
  }

  @Put('projects/:openai_project_id')
  @ApiOperation(RECONCILIATION_API.map)
  map(@Param() params: unknown, @Body() body: unknown) {
    const { openai_project_id } = parseOrThrow(openaiProjectParams, params);
    return this.reconciliation.map(openai_project_id, parseOrThrow(mappingBodySchema, body ?? {}).project_id);
  }

  @Delete('projects/:openai_project_id')
  @HttpCode(204)
  @ApiOperation(RECONCILIATION_API.unmap)
  async unmap(@Param() params: unknown): Promise<void> {
    await this.reconciliation.unmap(parseOrThrow(openaiProjectParams, params).openai_project_id);
  }
}
