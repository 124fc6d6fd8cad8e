import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** Domain event types that leave the service (as webhooks, issue #6). */
export type DomainEventType =
  | 'pricing.updated'
  | 'pricing.refresh_failed'
  | 'model.unpriced'
  | 'budget.threshold_reached'
  | 'budget.forecast_exceeded'
  | 'spend.anomaly';

/** In-process signals between feature modules (not persisted). */
export type LocalSignal = 'prices.changed';

/**
 * The one internal event bus. `record` writes a domain event to the outbox in
 * the caller's transaction, so it is committed with the change it describes
 * and never lost before delivery exists; `signal` tells other modules of this
 * process that something changed (for example, prices: re-price unpriced events).
 */
@Injectable()
export class EventBus {
  private readonly logger = new Logger(EventBus.name);
  private readonly listeners = new Map<LocalSignal, Array<() => Promise<void> | void>>();

  async record(manager: EntityManager, type: DomainEventType, payload: Record<string, unknown>): Promise<void> {
    await manager.query(`INSERT INTO outbox_events (type, payload) VALUES ($1, $2::jsonb)`, [type, JSON.stringify(payload)]);
  }

  on(signal: LocalSignal, listener: () => Promise<void> | void): void {
    this.listeners.set(signal, [...(this.listeners.get(signal) ?? []), listener]);
  }

  /** Runs the listeners; their failures are logged, not thrown at the sender. */
  async signal(signal: LocalSignal): Promise<void> {
    for (const listener of this.listeners.get(signal) ?? []) {
      try {
        await listener();
      } catch (error) {
        this.logger.error(`listener of ${signal} failed: ${(error as Error)?.stack ?? error}`);
      }
    }
  }
}
