import { Controller, Get, Header, Inject, Query, StreamableFile } from '@nestjs/common';
import { z } from 'zod';
import { CurrentPrincipal, Principal, Public, Roles } from '@tokentally/auth';
import { ApiOperation, parseOrThrow } from '@tokentally/common';
import { displayUsd } from '@tokentally/core';
import { ChartLinks, ChartRenderer } from '@tokentally/reporting';
import { BudgetsService } from './budgets.service';
import { BUDGETS_CHART_API } from './budgets.api';

const chartQuerySchema = z
  .object({
    budget_id: z.uuid('must be a budget id (UUID)').optional(),
    width: z.coerce.number({ error: 'must be a number' }).int().min(200).max(2000).default(900),
    height: z.coerce.number({ error: 'must be a number' }).int().min(200).max(2000).default(420),
  })
  // The other charts' report parameters (from, to, tz...) are ignored: a budget's period is its own.
  .strip();

/** What budgets.png shows when there is no budget: a headline and how to make one. */
export const NO_BUDGETS_MESSAGE = 'No budgets yet\nCreate one with POST /v1/budgets to see its spend and forecast here';

/**
 * GET /v1/charts/budgets.png[?budget_id=]: spent and forecast of each budget,
 * in percent of its amount. With no budget to show, a PNG that says so (empty
 * axes labelled "0% 0% 0% 1%" told nobody anything).
 */
@Controller('v1/charts')
@Roles('viewer')
export class BudgetsChartController {
  constructor(
    @Inject(BudgetsService) private readonly budgets: BudgetsService,
    @Inject(ChartRenderer) private readonly renderer: ChartRenderer,
    @Inject(ChartLinks) private readonly links: ChartLinks,
  ) {}

  /** The signed link in a budget alert: no key needed until it expires. */
  @Get('shared/budgets.png')
  @ApiOperation({
    ...BUDGETS_CHART_API.shared,
    query: chartQuerySchema.extend({ expires: z.string(), sig: z.string() }),
  })
  @Public()
  @Header('content-type', 'image/png')
  @Header('cache-control', 'private, max-age=60')
  async shared(@Query() query: Record<string, unknown>): Promise<StreamableFile> {
    const params = await this.links.paramsOrForbidden('budgets.png', query);
    // Made and signed by the server for an alert: not limited to any key's projects.
    return this.render(params, null);
  }

  /** A key limited to projects draws the budgets it may read (a budget_id outside them is 404). */
  @Get('budgets.png')
  @ApiOperation({ ...BUDGETS_CHART_API.chart, query: chartQuerySchema })
  @Header('content-type', 'image/png')
  @Header('cache-control', 'private, max-age=60')
  chart(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<StreamableFile> {
    return this.render(query, principal.projectIds);
  }

  private async render(query: unknown, projectIds: string[] | null): Promise<StreamableFile> {
    const q = parseOrThrow(chartQuerySchema, query);
    const list = q.budget_id
      ? [
          {
            ...(await this.budgets.get(q.budget_id, projectIds)),
            status: await this.budgets.status(q.budget_id, projectIds),
          },
        ]
      : await this.budgets.list(true, projectIds);
    if (list.length === 0)
      return new StreamableFile(await this.renderer.messagePng(NO_BUDGETS_MESSAGE, q.width, q.height));
    // Both lists are made with their status.
    const bars = list.map((b) => ({
      name: b.name,
      percent: b.status!.percent,
      forecast_percent: b.status!.forecast_percent,
    }));
    const title = q.budget_id
      ? `${list[0].name}: spent and forecast, % of ${displayUsd(list[0].amount_usd)}`
      : 'Budgets: spent and forecast, % of amount';
    return new StreamableFile(
      await this.renderer.png(this.renderer.configs.budgetsChart(bars, { title }), q.width, q.height),
    );
  }
}
