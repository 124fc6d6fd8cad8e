import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { field, parseOrThrow } from '@tokentally/common';
import { createBudgetSchema, updateBudgetSchema } from './budgets.dto';
import { BudgetsService } from './budgets.service';

/** Budgets: admins write, viewers read. */
@Controller('v1/budgets')
export class BudgetsController {
  constructor(@Inject(BudgetsService) private readonly budgets: BudgetsService) {}

  @Post()
  create(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.budgets.create(parseOrThrow(createBudgetSchema, body), principal.keyId);
  }

  // Reads: a key limited to projects sees the budgets whose scope names one of them (docs/access.md).
  @Get()
  @Roles('viewer')
  async list(@CurrentPrincipal() principal: Principal, @Query('with_status') withStatus?: string) {
    return { data: await this.budgets.list(withStatus === '1' || withStatus === 'true', principal.projectIds) };
  }

  @Get(':id')
  @Roles('viewer')
  get(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return this.budgets.get(parseOrThrow(field.uuid(), id, 'id'), principal.projectIds);
  }

  @Get(':id/status')
  @Roles('viewer')
  status(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return this.budgets.status(parseOrThrow(field.uuid(), id, 'id'), principal.projectIds);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.budgets.update(parseOrThrow(field.uuid(), id, 'id'), parseOrThrow(updateBudgetSchema, body));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.budgets.remove(parseOrThrow(field.uuid(), id, 'id'));
  }
}
