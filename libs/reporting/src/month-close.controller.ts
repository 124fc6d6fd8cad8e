import { Controller, Get, Header, Inject, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Roles } from '@tokentally/auth';
import { ApiOperation } from '@tokentally/common';
import { parseMonthCloseQuery } from './dto/month-close.dto';
import { MonthCloseService } from './month-close.service';
import { MONTH_CLOSE_API } from './reporting.api';

type Query = Record<string, string | string[] | undefined>;

/** GET /v1/reports/month-close and its CSV: one month, closed for finance (docs/reports.md, "Month close"). */
@Controller('v1/reports')
@Roles('viewer')
export class MonthCloseController {
  constructor(@Inject(MonthCloseService) private readonly months: MonthCloseService) {}

  @Get('month-close')
  @ApiOperation(MONTH_CLOSE_API.monthClose)
  monthClose(@Query() query: Query) {
    const { month, report } = parseMonthCloseQuery(query);
    return this.months.close(month, report);
  }

  @Get('month-close.csv')
  @ApiOperation(MONTH_CLOSE_API.monthCloseCsv)
  @Header('content-type', 'text/csv; charset=utf-8')
  async monthCloseCsv(@Query() query: Query, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const { month, report } = parseMonthCloseQuery(query);
    const view = await this.months.close(month, report);
    // The month is YYYY-MM, checked: nothing else reaches the header.
    reply.header('content-disposition', `attachment; filename="tokentally-month-close-${view.month}.csv"`);
    return this.months.csv(view);
  }
}
