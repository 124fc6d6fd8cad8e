import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '@tokentally/db';
import { Role } from './roles';

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

/** A row of `projects`. */
export interface ProjectRow {
  id: string;
  name: string;
  created_at: Date;
}

/** A key as it is listed (never its hash). */
export interface KeyRow {
  id: string;
  name: string;
  role: Role;
  project_id: string | null;
  project_ids: string[] | null;
  key_prefix: string;
  created_at: Date;
  revoked_at?: Date | null;
}

/** What authenticating a key needs. */
export interface KeyAuthRow {
  id: string;
  role: Role;
  project_id: string | null;
  project_ids: string[] | null;
  key_hash: Buffer;
}

/** A key to store: its hash and display prefix, never the key. */
export interface NewKey {
  name: string;
  role: Role;
  projectId: string | null;
  keyHash: Buffer;
  keyPrefix: string;
  projectIds?: string[] | null;
}

/** Projects: the statements above on `projects`, with typed rows. */
@Injectable()
export class ProjectsRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Fails with a unique violation (23505) when the name is taken. */
  async insert(name: string): Promise<ProjectRow> {
    const [row] = await queryRows<ProjectRow>(this.db, SQL.insertProject, [name]);
    return row;
  }

  list(): Promise<ProjectRow[]> {
    return queryRows<ProjectRow>(this.db, SQL.listProjects);
  }

  byIds(ids: string[]): Promise<ProjectRow[]> {
    return queryRows<ProjectRow>(this.db, SQL.projectsByIds, [ids]);
  }

  async exists(id: string): Promise<boolean> {
    return (await queryRows(this.db, SQL.projectExists, [id])).length > 0;
  }

  /** Which of these ids (lower case) are projects. */
  async existing(ids: string[]): Promise<Set<string>> {
    return new Set((await queryRows<{ id: string }>(this.db, SQL.existingProjects, [ids])).map((r) => r.id));
  }
}

/** API keys: the statements above on `api_keys`, with typed rows. */
@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async insert(key: NewKey): Promise<KeyRow> {
    const [row] = await queryRows<KeyRow>(this.db, SQL.insertKey, [
      key.name,
      key.role,
      key.projectId,
      key.keyHash,
      key.keyPrefix,
      key.projectIds ?? null,
    ]);
    return row;
  }

  /** Stores a key unless one with the same hash exists (ADMIN_API_KEY at every start). */
  async insertIfAbsent(key: NewKey): Promise<void> {
    await this.db.query(SQL.insertKeyIfAbsent, [key.name, key.role, key.projectId, key.keyHash, key.keyPrefix]);
  }

  list(): Promise<KeyRow[]> {
    return queryRows<KeyRow>(this.db, SQL.listKeys);
  }

  async view(id: string): Promise<KeyRow | undefined> {
    const [row] = await queryRows<KeyRow>(this.db, SQL.keyView, [id]);
    return row;
  }

  async byId(id: string): Promise<{ id: string; role: Role; revoked_at: Date | null } | undefined> {
    const [row] = await queryRows<{ id: string; role: Role; revoked_at: Date | null }>(this.db, SQL.keyById, [id]);
    return row;
  }

  /** An active key by its hash. */
  async byHash(hash: Buffer): Promise<KeyAuthRow | undefined> {
    const [row] = await queryRows<KeyAuthRow>(this.db, SQL.keyByHash, [hash]);
    return row;
  }

  /** Revokes a key unless it is the last active admin key; the hash of the key revoked, if one was. */
  async revoke(id: string): Promise<Buffer | null> {
    const [row] = await queryRows<{ id: string; key_hash: Buffer }>(this.db, SQL.revokeKey, [id]);
    return row ? row.key_hash : null;
  }

  async count(): Promise<number> {
    const [{ n }] = await queryRows<{ n: number }>(this.db, SQL.keyCount);
    return n;
  }
}
