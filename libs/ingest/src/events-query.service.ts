import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { formatUsd, Decimal, pricingNote, TOKEN_KINDS } from '@tokentally/core';
import { encodeCursor } from './dto/list-events.dto';
import { EventListFilters, listEventsQuery } from './ingest.sql';

/** Reads stored events back, newest first (the raw record, not the rollups). */
@Injectable()
export class EventsQueryService {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async list(filters: EventListFilters) {
    const { sql, params } = listEventsQuery(filters);
    const rows: Array<Record<string, any>> = await this.db.query(sql, params);
    const page = rows.slice(0, filters.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(toEventView),
      next_cursor: rows.length > filters.limit && last ? encodeCursor(last.occurred_at_iso, last.project_id, last.event_id) : null,
    };
  }
}

function toEventView(row: Record<string, any>) {
  const usage: Record<string, number> = {};
  for (const kind of TOKEN_KINDS) usage[`${kind}_tokens`] = Number(row[`${kind}_tokens`]);
  const dimensions: Record<string, string> = {};
  for (const [name, column] of [['team', 'team'], ['user', 'user_id'], ['feature', 'feature'], ['environment', 'environment']]) {
    if (row[column]) dimensions[name] = row[column];
  }
  return {
    event_id: row.event_id,
    project_id: row.project_id,
    timestamp: row.occurred_at_iso,
    provider: row.provider,
    model: row.model,
    operation: row.operation,
    usage,
    images: row.images,
    image_size: row.image_size,
    image_quality: row.image_quality,
    status: row.status,
    latency_ms: row.latency_ms,
    dimensions,
    tags: row.tags,
    cost_usd: row.cost_usd === null ? null : formatUsd(Decimal.parse(row.cost_usd)),
    priced: row.priced,
    pricing: row.pricing,
    ...(row.pricing === 'priced'
      ? {}
      : {
          unpriced_kinds: row.unpriced_kinds ?? [],
          pricing_note: pricingNote({
            pricing: row.pricing,
            missing: row.unpriced_kinds,
            hasPrice: row.price_version_id !== null,
            provider: row.provider,
            model: row.model,
            imageSize: row.image_size,
            imageQuality: row.image_quality,
          }),
        }),
    price_version_id: row.price_version_id,
    received_at: new Date(row.received_at).toISOString(),
  };
}
