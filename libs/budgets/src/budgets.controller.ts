import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { ApiOperation, field, parseOrThrow } from '@tokentally/common';
import { BUDGETS_API } from './budgets.api';
import { createBudgetSchema, updateBudgetSchema } from './budgets.dto';
import { BudgetsService } from './budgets.service';

/** Budgets: admins write, viewers read. */
@Controller('v1/budgets')
export class BudgetsController {
  constructor(@Inject(BudgetsService) private readonly budgets: BudgetsService) {}

  @Post()
  @ApiOperation(BUDGETS_API.create)
  create(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.budgets.create(parseOrThrow(createBudgetSchema, body), principal.keyId);
  }

  // Reads: a key limited to projects sees the budgets whose scope names one of them (docs/access.md).
  @Get()
  @ApiOperation(BUDGETS_API.list)
  @Roles('viewer')
  async list(@CurrentPrincipal() principal: Principal, @Query('with_status') withStatus?: string) {
    return { data: await this.budgets.list(withStatus === '1' || withStatus === 'true', principal.projectIds) };
  }

  @Get(':id')
  @ApiOperation(BUDGETS_API.get)
  @Roles('viewer')
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return this.budgets.get(parseOrThrow(field.uuid(), id, 'id'), principal.projectIds);
  }

  @Get(':id/status')
  @ApiOperation(BUDGETS_API.status)
  @Roles('viewer')
  status(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return this.budgets.status(parseOrThrow(field.uuid(), id, 'id'), principal.projectIds);
  }

  @Patch(':id')
  @ApiOperation(BUDGETS_API.update)
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.budgets.update(parseOrThrow(field.uuid(), id, 'id'), parseOrThrow(updateBudgetSchema, body));
  }

  @Delete(':id')
  @ApiOperation(BUDGETS_API.remove)
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.budgets.remove(parseOrThrow(field.uuid(), id, 'id'));
  }
}
