/** Every statement on projects and api_keys, in one place. */
export const SQL = {
  insertProject: `INSERT INTO projects (name) VALUES ($1) RETURNING id, name, created_at`,
  listProjects: `SELECT id, name, created_at FROM projects ORDER BY created_at, name`,
  projectExists: `SELECT 1 FROM projects WHERE id = $1`,
  /** Which of these ids are projects (to name each one that is not). */
  existingProjects: `SELECT id::text AS id FROM projects WHERE id = ANY ($1::uuid[])`,
  projectsByIds: `SELECT id, name, created_at FROM projects WHERE id = ANY ($1::uuid[]) ORDER BY created_at, name`,
  // The scope is a column of the key, written with it in one statement: a key is never, even for an
  // instant, without the scope it was made with (a scope kept in another table could be missing and read as "every
  // project").
  insertKey: `
    INSERT INTO api_keys (name, role, project_id, key_hash, key_prefix, project_ids)
    VALUES ($1, $2, $3, $4, $5, $6::uuid[])
    RETURNING id, name, role, project_id, project_ids::text[] AS project_ids, key_prefix, created_at`,
  insertKeyIfAbsent: `
    INSERT INTO api_keys (name, role, project_id, key_hash, key_prefix)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (key_hash) DO NOTHING
    RETURNING id`,
  listKeys: `
    SELECT id, name, role, project_id, project_ids::text[] AS project_ids, key_prefix, created_at, revoked_at
    FROM api_keys ORDER BY created_at, id`,
  keyByHash: `SELECT id, role, project_id, project_ids::text[] AS project_ids, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
  keyView: `
    SELECT id, name, role, project_id, project_ids::text[] AS project_ids, key_prefix, created_at, revoked_at
    FROM api_keys WHERE id = $1`,
  // The last active admin key is kept: without it nobody could manage the service.
  revokeKey: `
    UPDATE api_keys SET revoked_at = now()
    WHERE id = $1 AND revoked_at IS NULL
      AND (role <> 'admin' OR (SELECT count(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL) > 1)
    RETURNING id, key_hash`,
  keyById: `SELECT id, role, revoked_at FROM api_keys WHERE id = $1`,
  keyCount: `SELECT count(*)::int AS n FROM api_keys`,
} as const;
