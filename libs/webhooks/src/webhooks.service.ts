import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, DomainError } from '@tokentally/common';
import { keyringOf } from '@tokentally/common/secrets';
import { refusalOfUrl } from './ssrf';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { CreateWebhookDto, UpdateWebhookDto } from './webhooks.dto';
import { DeliveriesRepository, DeliveryRow, DeliveryStatus, WebhookRow, WebhooksRepository } from './webhooks.sql';

/** How long the previous secret still signs after a rotation, so receivers can switch without losing events. */
export const PREVIOUS_SECRET_VALID_S = 24 * 3600;

/** A Standard Webhooks secret: whsec_ and 24 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Webhook endpoints, their secrets (stored sealed, see secrets.ts), and their deliveries. */
@Injectable()
export class WebhooksService {
  constructor(
    // For the keyring only (libs/common secrets.ts reads the data key).
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher,
    @Inject(WebhooksRepository) private readonly webhooks: WebhooksRepository,
    @Inject(DeliveriesRepository) private readonly deliveryRows: DeliveriesRepository,
  ) {}

  /** The secret is in this answer only. */
  async create(dto: CreateWebhookDto) {
    await this.assertReachable(dto.url);
    const secret = newSecret();
    const sealed = (await keyringOf(this.db, this.config)).seal('webhook', secret);
    const row = await this.webhooks.insert({ ...dto, description: dto.description ?? null }, sealed);
    return { ...toView(row), secret };
  }

  async list() {
    return (await this.webhooks.list()).map(toView);
  }

  async get(id: string) {
    return toView(await this.row(id));
  }

  async update(id: string, dto: UpdateWebhookDto) {
    if (dto.url) await this.assertReachable(dto.url);
    const row = await this.webhooks.update(id, dto);
    if (!row) throw DomainError.notFound(`Webhook ${id}`);
    return toView(row);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.webhooks.remove(id))) throw DomainError.notFound(`Webhook ${id}`);
  }

  /** A new secret, shown once; the previous one keeps signing (second signature) for 24 hours. */
  async rotateSecret(id: string) {
    const secret = newSecret();
    const sealed = (await keyringOf(this.db, this.config)).seal('webhook', secret);
    const row = await this.webhooks.rotateSecret(id, sealed, PREVIOUS_SECRET_VALID_S);
    if (!row) throw DomainError.notFound(`Webhook ${id}`);
    return { ...toView(row), secret, previous_secret_valid_until: new Date(row.previous_secret_until!).toISOString() };
  }

  /**
   * A page of deliveries; `next_before` and `next_before_id` continue the list (null on its last page): the last
   * one's time to the microsecond and its id, so deliveries made in one transaction (one time) are neither skipped
   * nor repeated at a page boundary.
   */
  async deliveries(
    webhookId: string,
    query: { status?: DeliveryStatus; before?: string; before_id?: string; limit: number },
  ) {
    await this.row(webhookId);
    const rows = await this.deliveryRows.list(webhookId, {
      status: query.status ?? null,
      before: query.before ?? null,
      beforeId: query.before_id ?? null,
      limit: query.limit,
    });
    const last = rows.length === query.limit ? rows[rows.length - 1] : null;
    return {
      data: rows.map(deliveryView),
      next_before: last?.created_at_cursor ?? null,
      next_before_id: last?.id ?? null,
    };
  }

  async delivery(id: string): Promise<DeliveryRow> {
    const row = await this.deliveryRows.byId(id);
    if (!row) throw DomainError.notFound(`Webhook delivery ${id}`);
    return row;
  }

  /** Sends a delivery again now, with a fresh round of retries. */
  async resend(id: string) {
    const row = await this.delivery(id);
    if (!row.webhook_enabled)
      throw new DomainError(
        'conflict',
        'The endpoint of this delivery is disabled; enable it (PATCH /v1/webhooks/:id {"enabled": true}) first.',
      );
    if (!(await this.deliveryRows.resend(id)))
      throw new DomainError('conflict', 'This delivery is being sent right now.');
    await this.dispatcher.deliverNow(id);
    return deliveryView(await this.delivery(id));
  }

  /** Sends a `webhook.test` event to this endpoint now and answers with the first attempt. */
  async test(webhookId: string) {
    const webhook = await this.row(webhookId);
    if (!webhook.enabled) throw new DomainError('conflict', 'This endpoint is disabled; enable it first.');
    const deliveryId = await this.webhooks.insertTestDelivery(webhookId, {
      webhook_id: webhookId,
      message: 'This is a test event from TokenTally.',
    });
    await this.dispatcher.deliverNow(deliveryId);
    return deliveryView(await this.delivery(deliveryId));
  }

  private async row(id: string): Promise<WebhookRow> {
    const row = await this.webhooks.byId(id);
    if (!row) throw DomainError.notFound(`Webhook ${id}`);
    return row;
  }

  private async assertReachable(url: string): Promise<void> {
    const refusal = await refusalOfUrl(new URL(url), this.config.webhookAllowPrivate);
    if (refusal) {
      throw DomainError.validation([
        { path: 'url', message: `is refused: ${refusal} (set WEBHOOK_ALLOW_PRIVATE=true to allow private networks)` },
      ]);
    }
  }
}

function toView(row: WebhookRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    format: row.format,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    consecutive_failures: row.consecutive_failures,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

function deliveryView(row: DeliveryRow) {
  const iso = (value: Date | string | null) => (value ? new Date(value).toISOString() : null);
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event_type: row.event_type,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    delivered_at: iso(row.delivered_at),
    created_at: iso(row.created_at),
    attempt_log: (row.attempt_log ?? []).map((a) => ({ ...a, started_at: iso(a.started_at) })),
  };
}
