/** Every attempt of delivery `d`, oldest first, as a JSON array. */
const ATTEMPT_LOG = `
  COALESCE((SELECT json_agg(json_build_object(
              'attempt', a.attempt, 'started_at', a.started_at, 'duration_ms', a.duration_ms,
              'status_code', a.status_code, 'error', a.error, 'response_excerpt', a.response_excerpt) ORDER BY a.id)
            FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS attempt_log`;

/** Every statement of the webhooks feature. */
export const SQL = {
  insert: `
    INSERT INTO webhooks (url, description, events, format, enabled, secret)
    VALUES ($1, $2, $3::text[], $4, $5, $6) RETURNING *`,
  list: `SELECT * FROM webhooks ORDER BY created_at, id`,
  byId: `SELECT * FROM webhooks WHERE id = $1`,
  update: `
    UPDATE webhooks SET
      url = COALESCE($2, url),
      description = CASE WHEN $3::boolean THEN $4 ELSE description END,
      events = COALESCE($5::text[], events),
      format = COALESCE($6, format),
      enabled = COALESCE($7, enabled),
      -- Turning an endpoint on again forgets its failures.
      disabled_reason = CASE WHEN $7 IS TRUE THEN NULL ELSE disabled_reason END,
      consecutive_failures = CASE WHEN $7 IS TRUE THEN 0 ELSE consecutive_failures END,
      failing_since = CASE WHEN $7 IS TRUE THEN NULL ELSE failing_since END,
      updated_at = now()
    WHERE id = $1 RETURNING *`,
  remove: `DELETE FROM webhooks WHERE id = $1 RETURNING id`,
  rotateSecret: `
    UPDATE webhooks SET previous_secret = secret, previous_secret_until = now() + make_interval(secs => $3), secret = $2, updated_at = now()
    WHERE id = $1 RETURNING *`,

  deliveries: `
    SELECT d.*, e.type AS event_type, e.created_at AS event_created_at,
           ${ATTEMPT_LOG}
    FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
    WHERE d.webhook_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::timestamptz IS NULL OR d.created_at < $3)
    ORDER BY d.created_at DESC, d.id DESC LIMIT $4`,
  deliveryById: `
    SELECT d.*, e.type AS event_type, e.created_at AS event_created_at, w.enabled AS webhook_enabled,
           ${ATTEMPT_LOG}
    FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.id = $1`,
  // A resend starts a fresh round of the retry schedule; the attempts log keeps the earlier rounds.
  resend: `
    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL
    WHERE id = $1 AND status <> 'sending' RETURNING id`,
  insertTestEvent: `
    INSERT INTO outbox_events (type, payload, audience, fanned_out_at) VALUES ('webhook.test', $1::jsonb, ARRAY[$2::uuid], now()) RETURNING id`,
  insertDelivery: `INSERT INTO webhook_deliveries (webhook_id, event_id) VALUES ($1, $2) RETURNING id`,

  /**
   * Turns new outbox events into one delivery per receiving endpoint. Rows
   * are claimed with SKIP LOCKED, so replicas share the work and never fan an
   * event out twice (the unique (webhook, event) pair backs that up).
   */
  fanOut: `
    WITH due AS (
      SELECT id, type, audience FROM outbox_events WHERE fanned_out_at IS NULL
      ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED
    ), created AS (
      INSERT INTO webhook_deliveries (webhook_id, event_id)
      SELECT w.id, due.id FROM due JOIN webhooks w
        ON w.enabled AND due.type = ANY (w.events) AND (due.audience IS NULL OR w.id = ANY (due.audience))
      ON CONFLICT ON CONSTRAINT webhook_deliveries_once DO NOTHING
      RETURNING 1
    )
    UPDATE outbox_events e SET fanned_out_at = now() FROM due WHERE e.id = due.id
    RETURNING (SELECT count(*) FROM created)::int AS deliveries`,

  /**
   * Claims due deliveries (or ones whose sender died: lease expired) for one
   * send each. SKIP LOCKED lets replicas claim side by side without waiting;
   * the lease, not a held transaction, keeps others off while we send, so a
   * slow receiver never holds a database connection.
   */
  claim: `
    WITH claimable AS (
      SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE w.enabled AND ($3::uuid IS NULL OR d.id = $3)
        AND ((d.status = 'pending' AND d.next_attempt_at <= now()) OR (d.status = 'sending' AND d.lease_until < now()))
      ORDER BY d.next_attempt_at LIMIT $1
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + make_interval(secs => $2)
    FROM claimable c, webhooks w, outbox_events e
    WHERE d.id = c.id AND w.id = d.webhook_id AND e.id = d.event_id
    RETURNING d.id, d.attempts, w.id AS webhook_id, w.url, w.format, w.secret,
              CASE WHEN w.previous_secret_until > now() THEN w.previous_secret END AS previous_secret,
              e.id AS event_id, e.type, e.payload, e.created_at`,
  insertAttempt: `
    INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt)
    VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  // Each outcome applies only if this sender still holds the claim (same attempt number, still sending).
  markDelivered: `
    UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_status_code = $3, last_error = NULL
    WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
  markRetry: `
    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() + make_interval(secs => $5), lease_until = NULL, last_status_code = $3, last_error = $4
    WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
  markFailed: `
    UPDATE webhook_deliveries SET status = 'failed', lease_until = NULL, last_status_code = $3, last_error = $4
    WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
  endpointSucceeded: `
    UPDATE webhooks SET consecutive_failures = 0, failing_since = NULL WHERE id = $1 AND consecutive_failures > 0`,
  // Disabled after $2 failed attempts in a row that span at least $3 seconds.
  endpointFailed: `
    UPDATE webhooks SET
      consecutive_failures = consecutive_failures + 1,
      failing_since = COALESCE(failing_since, now()),
      enabled = enabled AND NOT (consecutive_failures + 1 >= $2 AND COALESCE(failing_since, now()) <= now() - make_interval(secs => $3)),
      disabled_reason = CASE
        WHEN enabled AND consecutive_failures + 1 >= $2 AND COALESCE(failing_since, now()) <= now() - make_interval(secs => $3)
        THEN (consecutive_failures + 1) || ' failed attempts in a row since ' || to_char(COALESCE(failing_since, now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        ELSE disabled_reason END,
      updated_at = now()
    WHERE id = $1`,
  endpointGone: `
    UPDATE webhooks SET enabled = false, disabled_reason = 'the endpoint answered 410 Gone', updated_at = now() WHERE id = $1`,
} as const;
