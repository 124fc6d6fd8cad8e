import { Inject, Injectable } from '@nestjs/common';
import { Decimal, formatUsd, TOKEN_KINDS } from '@tokentally/core';
import { csvLine } from './csv';
import { ReportQuery } from './dto/report-query.dto';
import { EventCursorKey, ReportsRepository } from './reports.sql';
import { ReportsService } from './reports.service';

const PAGE = 5000;

/** CSV exports: UTF-8 with a byte-order mark and CRLF, so spreadsheets open them cleanly. */
@Injectable()
export class ReportsExportService {
  constructor(
    @Inject(ReportsRepository) private readonly repository: ReportsRepository,
    @Inject(ReportsService) private readonly reports: ReportsService,
  ) {}

  async *aggregatedRows(q: ReportQuery): AsyncGenerator<string> {
    const report = await this.reports.spend({ ...q, limit: 100 });
    yield '\ufeff' + csvLine(['bucket_start', 'timezone', 'group_by', 'group', 'label', 'cost_usd', 'basis']);
    for (const series of report.series) {
      for (let i = 0; i < report.buckets.length; i++) {
        yield csvLine([
          report.buckets[i],
          report.tz,
          report.group_by,
          series.key,
          series.label,
          series.values[i],
          report.basis,
        ]);
      }
    }
  }

  /** Raw events of the range (the one place raw events are read), page by page. */
  async *rawRows(q: ReportQuery): AsyncGenerator<string> {
    const names = await this.reports.projectNames();
    yield (
      '\ufeff' +
      csvLine([
        'timestamp',
        'project_id',
        'project',
        'event_id',
        'provider',
        'model',
        'operation',
        'status',
        ...TOKEN_KINDS.map((k) => `${k}_tokens`),
        'images',
        'image_size',
        'image_quality',
        'latency_ms',
        'team',
        'user',
        'feature',
        'environment',
        'tags',
        'cost_usd',
        'cost_ingested_usd',
        // What the provider reported the call cost (OpenRouter's usage.cost); empty when it reported none.
        'provider_cost_usd',
        'priced',
        // priced | partial (cost_usd is the cost of the kinds with rates) | unpriced; and the units with no rate.
        'pricing',
        'unpriced_kinds',
        // Set for an event that arrived for a closed month: when it is counted instead (docs/finance.md).
        'counted_at',
      ])
    );
    // Before every event of the range: no event has the nil project and an empty id.
    let after: EventCursorKey = [q.from, '00000000-0000-0000-0000-000000000000', ''];
    for (;;) {
      const rows = await this.repository.rawEvents(q, after, PAGE);
      for (const r of rows) {
        yield csvLine([
          r.ts,
          r.project_id,
          names.get(r.project_id) ?? '',
          r.event_id,
          r.provider,
          r.model,
          r.operation,
          r.status,
          ...TOKEN_KINDS.map((k) => r[`${k}_tokens`]),
          r.images,
          r.image_size,
          r.image_quality,
          r.latency_ms,
          r.team,
          r.user_id,
          r.feature,
          r.environment,
          r.tags,
          r.cost_usd === null ? '' : formatUsd(Decimal.parse(r.cost_usd)),
          r.cost_ingested_usd === null ? '' : formatUsd(Decimal.parse(r.cost_ingested_usd)),
          r.provider_cost_usd === null ? '' : formatUsd(Decimal.parse(r.provider_cost_usd)),
          r.priced,
          r.pricing,
          (r.unpriced_kinds ?? []).join(' '),
          r.counted_at ?? '',
        ]);
      }
      if (rows.length < PAGE) return;
      const last = rows[rows.length - 1];
      after = [last.ts, last.project_id, last.event_id];
    }
  }
}
