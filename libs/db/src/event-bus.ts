import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { Dimension, DomainEventType } from '@tokentally/core';
import { insertOutboxEvent } from './outbox.sql';

/** Domain event types that leave the service (as webhooks, issue #6): libs/core's list. */
export type { DomainEventType } from '@tokentally/core';

/** In-process signals between feature modules (not persisted). */
export interface LocalSignals {
  /** Prices changed: re-price unpriced events. */
  'prices.changed': undefined;
  /**
   * Usage events were stored: the dimensions they touched, for budget
   * evaluation; 'everything' when they are not known (a signal from another
   * process may have been missed). Crosses processes on PostgreSQL (UsageSignalRelay).
   */
  'usage.ingested': { touched: TouchedScope[] | 'everything' };
}
export type LocalSignal = keyof LocalSignals;

/** The dimensions of stored events (libs/core's, each one's value; '' when not given), as budgets' scopes name them. */
export interface TouchedScope extends Record<Dimension, string> {
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
  // Listener<never> takes any signal's listener; `signal` calls each with its own signal's detail.
  private readonly listeners = new Map<LocalSignal, Array<Listener<never>>>();

  async record(manager: EntityManager, type: DomainEventType, payload: Record<string, unknown>): Promise<void> {
    await insertOutboxEvent(manager, type, payload);
  }

  on<S extends LocalSignal>(signal: S, listener: Listener<S>): void {
    this.listeners.set(signal, [...(this.listeners.get(signal) ?? []), listener]);
  }

  /** Runs the listeners; their failures are logged, not thrown at the sender. */
  async signal<S extends LocalSignal>(
    signal: S,
    ...detail: LocalSignals[S] extends undefined ? [] : [LocalSignals[S]]
  ): Promise<void> {
    for (const listener of (this.listeners.get(signal) ?? []) as Array<Listener<S>>) {
      try {
        await listener(detail[0] as LocalSignals[S]);
      } catch (error) {
        this.logger.error(`listener of ${signal} failed: ${(error as Error)?.stack ?? error}`);
      }
    }
  }
}
