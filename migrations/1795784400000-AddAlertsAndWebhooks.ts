import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts (one row per budget, period and threshold, per forecast breach and
 * per anomaly: the unique key is what makes each fire once), webhook
 * endpoints, and delivery of outbox events to them with every attempt kept.
 */
export class AddAlertsAndWebhooks1795784400000 implements MigrationInterface {
  name = 'AddAlertsAndWebhooks1795784400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        url text NOT NULL,
        description text,
        events text[] NOT NULL,
        format text NOT NULL DEFAULT 'standard',
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        secret text NOT NULL,
        previous_secret text,
        previous_secret_until timestamptz,
        consecutive_failures integer NOT NULL DEFAULT 0,
        failing_since timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhooks_format_check CHECK (format IN ('standard', 'slack'))
      )`);

    // Who receives an event: NULL = every enabled endpoint subscribed to its type;
    // a list (a budget's webhook_ids) = those endpoints only. fanned_out_at marks
    // events whose deliveries exist; older events are not sent to endpoints made later.
    await q.query(`ALTER TABLE outbox_events ADD COLUMN audience uuid[]`);
    await q.query(`ALTER TABLE outbox_events ADD COLUMN fanned_out_at timestamptz`);
    await q.query(`UPDATE outbox_events SET fanned_out_at = now()`);
    await q.query(`CREATE INDEX outbox_events_unsent_idx ON outbox_events (created_at) WHERE fanned_out_at IS NULL`);

    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES outbox_events (id),
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        last_status_code integer,
        last_error text,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
        CONSTRAINT webhook_deliveries_once UNIQUE (webhook_id, event_id)
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending')`,
    );
    await q.query(`CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC)`);
    await q.query(`CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id)`);

    await q.query(`
      CREATE TABLE webhook_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms integer NOT NULL,
        status_code integer,
        error text,
        response_excerpt text
      )`);
    await q.query(`CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id)`);

    // budget_id has no foreign key: the history of alerts outlives a deleted budget.
    await q.query(`
      CREATE TABLE alerts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type text NOT NULL,
        dedupe_key text NOT NULL,
        budget_id uuid,
        summary text NOT NULL,
        data jsonb NOT NULL,
        -- Deferred: the alert and its outbox event are written by one statement.
        event_id uuid NOT NULL REFERENCES outbox_events (id) DEFERRABLE INITIALLY DEFERRED,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT alerts_once UNIQUE (dedupe_key)
      )`);
    await q.query(`CREATE INDEX alerts_created_idx ON alerts (created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE alerts`);
    await q.query(`DROP TABLE webhook_attempts`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP INDEX outbox_events_unsent_idx`);
    await q.query(`ALTER TABLE outbox_events DROP COLUMN fanned_out_at`);
    await q.query(`ALTER TABLE outbox_events DROP COLUMN audience`);
    await q.query(`DROP TABLE webhooks`);
  }
}
