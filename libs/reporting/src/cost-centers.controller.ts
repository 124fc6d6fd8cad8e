import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Roles } from '@tokentally/auth';
import { ApiOperation, DomainError, field, parseOrThrow } from '@tokentally/common';
import { monthText } from '@tokentally/core';
import { CostCentersService } from './cost-centers.service';
import {
  chargebackQuerySchema,
  createAssignmentSchema,
  createCostCenterSchema,
  endAssignmentSchema,
} from './dto/cost-centers.dto';
import { parseMonth } from './dto/month-close.dto';
import { COST_CENTERS_API } from './reporting.api';

const idParams = z.object({ id: field.uuid() });
const assignmentParams = z.object({ id: field.uuid(), assignment_id: field.uuid() });

/** Cost centers and their dated assignments (admin writes, viewers read): docs/finance.md. */
@Controller('v1/cost-centers')
export class CostCentersController {
  constructor(@Inject(CostCentersService) private readonly centers: CostCentersService) {}

  @Post()
  @ApiOperation({ ...COST_CENTERS_API.create, body: createCostCenterSchema })
  create(@Body() body: unknown) {
    const c = parseOrThrow(createCostCenterSchema, body);
    return this.centers.create(c.name, c.code ?? null);
  }

  @Get()
  @ApiOperation(COST_CENTERS_API.list)
  @Roles('viewer')
  list() {
    return this.centers.list();
  }

  @Get(':id')
  @ApiOperation({ ...COST_CENTERS_API.get, params: idParams })
  @Roles('viewer')
  get(@Param('id') id: string) {
    return this.centers.get(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Post(':id/assignments')
  @ApiOperation({ ...COST_CENTERS_API.assign, params: idParams, body: createAssignmentSchema })
  assign(@Param('id') id: string, @Body() body: unknown) {
    const centerId = parseOrThrow(field.uuid(), id, 'id');
    return this.centers.assign(centerId, parseOrThrow(createAssignmentSchema, body));
  }

  @Patch(':id/assignments/:assignment_id')
  @ApiOperation({ ...COST_CENTERS_API.endAssignment, params: assignmentParams, body: endAssignmentSchema })
  endAssignment(@Param('id') id: string, @Param('assignment_id') assignmentId: string, @Body() body: unknown) {
    const { valid_to } = parseOrThrow(endAssignmentSchema, body);
    return this.centers.endAssignment(
      parseOrThrow(field.uuid(), id, 'id'),
      parseOrThrow(field.uuid(), assignmentId, 'assignment_id'),
      valid_to,
    );
  }

  @Delete(':id/assignments/:assignment_id')
  @ApiOperation({ ...COST_CENTERS_API.unassign, params: assignmentParams })
  @HttpCode(204)
  async unassign(@Param('id') id: string, @Param('assignment_id') assignmentId: string): Promise<void> {
    await this.centers.unassign(
      parseOrThrow(field.uuid(), id, 'id'),
      parseOrThrow(field.uuid(), assignmentId, 'assignment_id'),
    );
  }
}

/** GET /v1/reports/chargeback.csv: a month's spend charged to cost centers (docs/finance.md). */
@Controller('v1/reports')
@Roles('viewer')
export class ChargebackController {
  constructor(@Inject(CostCentersService) private readonly centers: CostCentersService) {}

  @Get('chargeback.csv')
  @ApiOperation({ ...COST_CENTERS_API.chargeback, query: chargebackQuerySchema })
  @Header('content-type', 'text/csv; charset=utf-8')
  async chargeback(@Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const q = parseOrThrow(chargebackQuerySchema, query);
    const month = parseMonth(q.month);
    if (!('year' in month)) throw DomainError.validation([month]);
    // A scoped key's `project` was set to its projects by the auth hook (PROJECT_SCOPE_RULES: query).
    const csv = await this.centers.chargebackCsv(month, q.basis ?? 'restated', q.project ?? null);
    // The month is YYYY-MM, checked: nothing else reaches the header.
    reply.header('content-disposition', `attachment; filename="tokentally-chargeback-${monthText(month)}.csv"`);
    return csv;
  }
}
