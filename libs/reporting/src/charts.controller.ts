import { Controller, Get, Header, Inject, Param, Query, StreamableFile } from '@nestjs/common';
import { z } from 'zod';
import { Public, Roles } from '@tokentally/auth';
import { ApiOperation, DomainError } from '@tokentally/common';
import { ChartLinks } from './charts/chart-links.service';
import { ChartRenderer } from './charts/chart-renderer.service';
import { parseReportQuery } from './dto/report-query.dto';
import { ReportsService } from './reports.service';
import { CHARTS_API } from './reporting.api';

// budgets.png is served by the budgets lib, which owns budgets.
const CHARTS = ['spend', 'tokens', 'providers'] as const;
/** `:file`, for the OpenAPI document. */
const chartFileParams = z.object({ file: z.enum(CHARTS.map((chart) => `${chart}.png`)) });

/** GET /v1/charts/<spend|tokens|providers>.png?<report params>: the dashboard's charts as PNG. */
@Controller('v1/charts')
@Roles('viewer')
export class ChartsController {
  constructor(
    @Inject(ReportsService) private readonly reports: ReportsService,
    @Inject(ChartRenderer) private readonly renderer: ChartRenderer,
    @Inject(ChartLinks) private readonly links: ChartLinks,
  ) {}

  /** A signed link from an alert: no key, exactly the signed parameters, until it expires. */
  @Get('shared/:file')
  @ApiOperation({ ...CHARTS_API.shared, params: chartFileParams })
  @Public()
  @Header('content-type', 'image/png')
  @Header('cache-control', 'private, max-age=60')
  async shared(@Param('file') file: string, @Query() query: Record<string, unknown>): Promise<StreamableFile> {
    const params = await this.links.paramsOrForbidden(file, query);
    return this.chart(file, params);
  }

  @Get(':file')
  @ApiOperation({ ...CHARTS_API.chart, params: chartFileParams })
  @Header('content-type', 'image/png')
  @Header('cache-control', 'private, max-age=60')
  async chart(
    @Param('file') file: string,
    @Query() query: Record<string, string | string[] | undefined>,
  ): Promise<StreamableFile> {
    const name = /^([a-z]+)\.png$/.exec(file)?.[1] as (typeof CHARTS)[number] | undefined;
    if (!name || !CHARTS.includes(name)) {
      throw new DomainError(
        'not_found',
        `No chart named ${file}; charts are ${[...CHARTS, 'budgets'].map((c) => `${c}.png`).join(', ')}.`,
      );
    }
    const { width, height, ...rest } = query;
    const q = parseReportQuery(rest, { buckets: name !== 'providers' });
    const c = this.renderer.configs;
    const config =
      name === 'spend'
        ? c.spendChart(await this.reports.spend(q))
        : name === 'tokens'
          ? c.tokensChart(await this.reports.tokens(q))
          : name === 'providers'
            ? c.providersChart(await this.reports.compareProviders(q))
            : c.budgetsChart([]);
    const size = (v: unknown, fallback: number) => Math.min(2000, Math.max(200, Number(v) || fallback));
    return new StreamableFile(await this.renderer.png(config, size(width, 900), size(height, 420)));
  }
}
