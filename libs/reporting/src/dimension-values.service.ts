import { Inject, Injectable } from '@nestjs/common';
import { Decimal, formatUsd } from '@tokentally/core';
import { SuggestionQuery } from './dto/dimension-values.dto';
import { DimensionValuesRepository, SuggestionTarget } from './dimension-values.sql';
import { ReportsService } from './reports.service';

/**
 * Filter suggestions: the values of a dimension or a tag present in a range,
 * most spent first, from the rollups (dimension-values.sql.ts).
 */
@Injectable()
export class DimensionValuesService {
  constructor(
    @Inject(DimensionValuesRepository) private readonly repository: DimensionValuesRepository,
    @Inject(ReportsService) private readonly reports: ReportsService,
  ) {}

  private async rows(target: SuggestionTarget, s: SuggestionQuery) {
    const rows = await this.repository.suggestions(target, s.report, s.prefix, s.limit);
    return {
      rows: rows
        .slice(0, s.limit)
        .map((r) => ({ value: r.value, cost_usd: formatUsd(Decimal.parse(r.cost)), events: Number(r.events) })),
      has_more: rows.length > s.limit,
    };
  }

  private range(s: SuggestionQuery) {
    return { q: s.prefix, from: s.report.from.toISOString(), to: s.report.to.toISOString() };
  }

  async dimensionValues(dimension: SuggestionTarget & { kind: 'dimension' }, s: SuggestionQuery) {
    const { rows, has_more } = await this.rows(dimension, s);
    const names = dimension.dimension === 'project' ? await this.reports.projectNames() : null;
    return {
      dimension: dimension.dimension,
      ...this.range(s),
      // `value` is what the filter takes; `label` what to show (a project's name).
      data: rows.map((r) =>
        names
          ? {
              value: r.value,
              label: names.get(r.value) ?? r.value,
              id: r.value,
              name: names.get(r.value) ?? null,
              cost_usd: r.cost_usd,
              events: r.events,
            }
          : { value: r.value, label: r.value, cost_usd: r.cost_usd, events: r.events },
      ),
      has_more,
    };
  }

  async tagKeys(s: SuggestionQuery) {
    const { rows, has_more } = await this.rows({ kind: 'tag_keys' }, s);
    return {
      ...this.range(s),
      data: rows.map((r) => ({ key: r.value, cost_usd: r.cost_usd, events: r.events })),
      has_more,
    };
  }

  async tagValues(key: string, s: SuggestionQuery) {
    const { rows, has_more } = await this.rows({ kind: 'tag_values', key }, s);
    return { key, ...this.range(s), data: rows, has_more };
  }
}
