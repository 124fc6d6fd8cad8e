import { Controller, Get, Header, Inject, Query, StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { Roles } from '@tokentally/auth';
import { ApiOperation, parseOrThrow } from '@tokentally/common';
import { parseReportQuery, reportQuerySchema } from './dto/report-query.dto';
import { REPORTS_API } from './reporting.api';
import { ReportsExportService } from './reports-export.service';
import { ReportsService } from './reports.service';

type Query = Record<string, string | string[] | undefined>;

const periodSchema = z
  .enum(['day', 'week', 'month', 'quarter'], { error: 'must be day, week, month or quarter' })
  .default('month');

@Controller('v1/reports')
@Roles('viewer')
export class ReportsController {
  constructor(
    @Inject(ReportsService) private readonly reports: ReportsService,
    @Inject(ReportsExportService) private readonly exports: ReportsExportService,
  ) {}

  @Get('spend')
  @ApiOperation(REPORTS_API.spend)
  spend(@Query() query: Query) {
    return this.reports.spend(parseReportQuery(query));
  }

  @Get('summary')
  @ApiOperation({ ...REPORTS_API.summary, query: reportQuerySchema.extend({ period: periodSchema }) })
  summary(@Query() query: Query) {
    const { period, ...rest } = query;
    return this.reports.summary(
      parseReportQuery(rest, { buckets: false }),
      parseOrThrow(periodSchema, period, 'period'),
    );
  }

  @Get('tokens')
  @ApiOperation(REPORTS_API.tokens)
  tokens(@Query() query: Query) {
    return this.reports.tokens(parseReportQuery(query));
  }

  @Get('compare-providers')
  @ApiOperation(REPORTS_API.compare)
  compare(@Query() query: Query) {
    return this.reports.compareProviders(parseReportQuery(query, { buckets: false }));
  }

  /** Calls, errors, error rate and mean latency per provider and model (docs/reports.md). */
  @Get('performance')
  @ApiOperation(REPORTS_API.performance)
  performance(@Query() query: Query) {
    return this.reports.performance(parseReportQuery(query, { buckets: false }));
  }

  /** A provider's own reported cost (OpenRouter) beside ours, per provider and model (docs/reports.md). */
  @Get('provider-cost')
  @ApiOperation(REPORTS_API.providerCost)
  providerCost(@Query() query: Query) {
    return this.reports.providerCost(parseReportQuery(query, { buckets: false }));
  }

  /** Aggregated rows (the spend report, one row per bucket and group) or, with raw=1, every event. Streamed. */
  @Get('export.csv')
  @ApiOperation(REPORTS_API.export)
  @Header('content-type', 'text/csv; charset=utf-8')
  @Header('content-disposition', 'attachment; filename="tokentally-export.csv"')
  export(@Query() query: Query): StreamableFile {
    const q = parseReportQuery(query);
    return new StreamableFile(Readable.from(q.raw ? this.exports.rawRows(q) : this.exports.aggregatedRows(q)));
  }
}
