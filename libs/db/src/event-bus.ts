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
export interface LocalSignals {
  /** Prices changed: re-price unpriced events. */
  'prices.changed': undefined;
  /** Usage events were stored: the dimensions they touched, for budget evaluation. */
  'usage.ingested': { touched: TouchedScope[] };
}
export type LocalSignal = keyof LocalSignals;

/** The dimensions of stored events, as budgets' scopes name them. */
export interface TouchedScope {
  provider: string;
  model: string;
  project: string;
  team: string;
  user: string;
  feature: string;
  environment: string;
  tags: Record<string, string>;
}

type Listener<S extends LocalSignal> = (detail: LocalSignals[S]) => Promise<void> | void;

/**
 * The one internal event bus. `record` writes a domain event to the outbox in
 * the caller's transaction, so it is committed with the change it describes
 * and never lost before delivery exists; `signal` tells other modules of this
 * process that something changed (for example, prices: re-price unpriced events).
 */
@Injectable()
export class EventBus {
  private readonly logger = new Logger(EventBus.name);
  private readonly listeners = new Map<LocalSignal, Array<Listener<any>>>();

  async record(manager: EntityManager, type: DomainEventType, payload: Record<string, unknown>): Promise<void> {
    await manager.query(`INSERT INTO outbox_events (type, payload) VALUES ($1, $2::jsonb)`, [
      type,
      JSON.stringify(payload),
    ]);
  }

  on<S extends LocalSignal>(signal: S, listener: Listener<S>): void {
    this.listeners.set(signal, [...(this.listeners.get(signal) ?? []), listener]);
  }

  /** Runs the listeners; their failures are logged, not thrown at the sender. */
  async signal<S extends LocalSignal>(
    signal: S,
    ...detail: LocalSignals[S] extends undefined ? [] : [LocalSignals[S]]
  ): Promise<void> {
    for (const listener of this.listeners.get(signal) ?? []) {
      try {
        await listener(detail[0]);
      } catch (error) {
        this.logger.error(`listener of ${signal} failed: ${(error as Error)?.stack ?? error}`);
      }
    }
  }
}
