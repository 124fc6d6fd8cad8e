import { Controller, Get, Header, Inject, Query, StreamableFile } from '@nestjs/common';
import { z } from 'zod';
import { Public, Roles } from '@tokentally/auth';
import { parseOrThrow } from '@tokentally/common';
import { ChartLinks, ChartRenderer } from '@tokentally/reporting';
import { BudgetsService } from './budgets.service';

const chartQuerySchema = z
  .object({
    budget_id: z.uuid('must be a budget id (UUID)').optional(),
    width: z.coerce.number({ error: 'must be a number' }).int().min(200).max(2000).default(900),
    height: z.coerce.number({ error: 'must be a number' }).int().min(200).max(2000).default(420),
  })
  // The other charts' report parameters (from, to, tz...) are ignored: a budget's period is its own.
  .strip();

/** GET /v1/charts/budgets.png[?budget_id=]: spent and forecast of each budget, in percent of its amount. */
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
  @Public()
  @Header('content-type', 'image/png')
  @Header('cache-control', 'private, max-age=60')
  async shared(@Query() query: Record<string, unknown>): Promise<StreamableFile> {
    const params = await this.links.paramsOrForbidden('budgets.png', query);
    return this.chart(params);
  }

  @Get('budgets.png')
  @Header('content-type', 'image/png')
  @Header('cache-control', 'private, max-age=60')
  async chart(@Query() query: unknown): Promise<StreamableFile> {
    const q = parseOrThrow(chartQuerySchema, query);
    const list = q.budget_id ? [{ ...(await this.budgets.get(q.budget_id)), status: await this.budgets.status(q.budget_id) }] : await this.budgets.list(true);
    const bars = list.map((b: any) => ({ name: b.name, percent: b.status.percent, forecast_percent: b.status.forecast_percent }));
    const title = q.budget_id ? `${list[0].name}: spent and forecast, % of ${list[0].amount_usd} USD` : 'Budgets: spent and forecast, % of amount';
    return new StreamableFile(await this.renderer.png(this.renderer.configs.budgetsChart(bars, { title }), q.width, q.height));
  }
}
