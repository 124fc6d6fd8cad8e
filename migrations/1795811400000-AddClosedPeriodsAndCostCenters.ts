import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finance (issue 16): closed months, late events booked as adjustments, and
 * cost centers for chargeback.
 *
 * - `closed_periods`: one row per closed UTC month, with the month's totals
 *   as they were locked. Reopening deletes the row. Ingest and re-pricing
 *   read this table in the statement that writes, and closing a month locks
 *   it exclusively, so a month's figures cannot move between the lock and
 *   the close being committed (docs/finance.md).
 * - `period_log`: every close and reopen, who and why. Never updated.
 * - `usage_events.booked_at`: null for an event counted at its own time; for
 *   an event that arrived for a month already closed, the time it is counted
 *   at instead (noon UTC on the first day of the first open month after its
 *   own). Its rollup share is bucketed there; `occurred_at` keeps its date.
 * - `cost_centers` and their dated `cost_center_assignments` of a project,
 *   a team, or a team within a project.
 */
export class AddClosedPeriodsAndCostCenters1795811400000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE closed_periods (
        month date PRIMARY KEY CHECK (extract(day FROM month) = 1),
        closed_at timestamptz NOT NULL DEFAULT now(),
        closed_by text NOT NULL,
        closed_by_key_id uuid,
        reason text NOT NULL,
        locked jsonb NOT NULL
      )`);
    await q.query(`
      CREATE TABLE period_log (
        id bigserial PRIMARY KEY,
        month date NOT NULL,
        action text NOT NULL CHECK (action IN ('close', 'reopen')),
        actor text NOT NULL,
        actor_key_id uuid,
        reason text NOT NULL,
        totals jsonb,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX period_log_month_idx ON period_log (month, at)`);
    await q.query(`ALTER TABLE usage_events ADD COLUMN booked_at timestamptz`);
    await q.query(`CREATE INDEX usage_events_booked_at_idx ON usage_events (booked_at) WHERE booked_at IS NOT NULL`);
    await q.query(`
      CREATE TABLE cost_centers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        code text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE cost_center_assignments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        cost_center_id uuid NOT NULL REFERENCES cost_centers (id) ON DELETE CASCADE,
        project_id uuid REFERENCES projects (id),
        team text,
        valid_from date NOT NULL,
        valid_to date,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (project_id IS NOT NULL OR team IS NOT NULL),
        CHECK (valid_to IS NULL OR valid_to > valid_from)
      )`);
    await q.query(`CREATE INDEX cost_center_assignments_center_idx ON cost_center_assignments (cost_center_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cost_center_assignments`);
    await q.query(`DROP TABLE cost_centers`);
    await q.query(`DROP INDEX usage_events_booked_at_idx`);
    await q.query(`ALTER TABLE usage_events DROP COLUMN booked_at`);
    await q.query(`DROP TABLE period_log`);
    await q.query(`DROP TABLE closed_periods`);
  }
}
