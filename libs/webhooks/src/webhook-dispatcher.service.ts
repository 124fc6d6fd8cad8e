import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Webhook } from 'standardwebhooks';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { bodyFor, OutboxEvent } from './payloads';
import { keyringOf } from '@tokentally/common/secrets';
import { SendResult, sendWebhook } from './webhook-sender';
import { ClaimedDelivery, DeliveriesRepository } from './webhooks.sql';

/** Wait after attempt n fails (n = 1..7); attempt 8 is the last. About 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const RETRY_DELAYS_S = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_S.length + 1;
/** Longest wait a Retry-After may ask for. */
const MAX_RETRY_AFTER_S = 86_400;
const TICK_MS = 1000;
const CLAIM_BATCH = 20;
/** A claim outlives the 10 s send deadline; a sender that dies leaves work another picks up after this. */
const LEASE_S = 60;

/**
 * Delivers outbox events to webhook endpoints: fans new events out to the
 * endpoints that receive them, claims due deliveries, signs (Standard
 * Webhooks), sends, and records each attempt. Runs every second and when
 * woken by a new alert; every replica may run it.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    // Transactions, and the keyring (libs/common secrets.ts reads the data key).
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DeliveriesRepository) private readonly deliveries: DeliveriesRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runJobs) return;
    this.timer = setInterval(() => this.wake(), TICK_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Runs a pass now (or right after the one running). */
  wake(): void {
    if (this.stopped || !this.config.runJobs) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runOnce()
      .catch((error) => this.logger.warn(`webhook dispatch failed: ${error?.message ?? error}`))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** One pass: fan out new events, then send what is due until nothing is. */
  async runOnce(): Promise<void> {
    await this.deliveries.fanOut();
    for (;;) {
      const claimed = await this.deliveries.claim(CLAIM_BATCH, LEASE_S);
      await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
      if (claimed.length < CLAIM_BATCH || this.stopped) return;
    }
  }

  /** Claims and sends one delivery now, if it is due and free (test sends, resends). */
  async deliverNow(deliveryId: string): Promise<void> {
    const [claimed] = await this.deliveries.claim(1, LEASE_S, deliveryId);
    if (claimed) await this.attempt(claimed);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const event: OutboxEvent = {
      id: delivery.event_id,
      type: delivery.type,
      payload: delivery.payload,
      created_at: delivery.created_at,
    };
    const body = bodyFor(delivery.format, event);
    const startedAt = new Date();
    let result: SendResult;
    try {
      result = await sendWebhook(delivery.url, body, await this.signedHeaders(delivery, body, startedAt), {
        allowPrivate: this.config.webhookAllowPrivate,
      });
    } catch (error) {
      result = {
        statusCode: null,
        error: String((error as Error)?.message ?? error),
        durationMs: Date.now() - startedAt.getTime(),
        retryAfterSeconds: null,
        responseExcerpt: null,
      };
    }
    await this.record(delivery, startedAt, result);
  }

  /** Standard Webhooks headers; during a secret rotation, signed with the new and the previous secret (both stored
   * sealed). */
  private async signedHeaders(delivery: ClaimedDelivery, body: string, at: Date): Promise<Record<string, string>> {
    const messageId = `msg_${delivery.event_id}`;
    const keyring = await keyringOf(this.db, this.config);
    const signatures = [delivery.secret, delivery.previous_secret]
      .filter((secret): secret is string => Boolean(secret))
      .map((secret) => new Webhook(keyring.open('webhook', secret)).sign(messageId, at, body));
    return {
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
    };
  }

  private async record(delivery: ClaimedDelivery, startedAt: Date, result: SendResult): Promise<void> {
    const { id, attempts } = delivery;
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const gone = result.statusCode === 410;
    await this.db.transaction(async (tx) => {
      await this.deliveries.insertAttempt(tx, {
        deliveryId: id,
        attempt: attempts,
        startedAt,
        durationMs: result.durationMs,
        statusCode: result.statusCode,
        error: result.error,
        responseExcerpt: result.responseExcerpt,
      });
      if (ok) {
        await this.deliveries.markDelivered(tx, id, attempts, result.statusCode);
        await this.deliveries.endpointSucceeded(tx, delivery.webhook_id);
        return;
      }
      if (gone) {
        await this.deliveries.markFailed(
          tx,
          id,
          attempts,
          result.statusCode,
          'the endpoint answered 410 Gone and was disabled',
        );
        await this.deliveries.endpointGone(tx, delivery.webhook_id);
        return;
      }
      if (attempts >= MAX_ATTEMPTS) {
        await this.deliveries.markFailed(
          tx,
          id,
          attempts,
          result.statusCode,
          `${result.error}; gave up after ${attempts} attempts`,
        );
      } else {
        const wait = Math.max(RETRY_DELAYS_S[attempts - 1], Math.min(result.retryAfterSeconds ?? 0, MAX_RETRY_AFTER_S));
        await this.deliveries.markRetry(tx, id, attempts, result.statusCode, result.error, wait);
      }
      await this.deliveries.endpointFailed(
        tx,
        delivery.webhook_id,
        this.config.webhookDisableAfterFailures,
        this.config.webhookDisableAfterSeconds,
      );
    });
    if (!ok)
      this.logger.warn(
        `webhook ${delivery.webhook_id} attempt ${attempts} of ${delivery.type} failed: ${result.error}`,
      );
  }
}
