import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Viewer keys limited to chosen projects (docs/access.md). The scope is a
 * column of the key, not rows of another table: it is written with the key in
 * one statement, so a scoped key can never be found without its scope (and
 * read as "every project"). A project is never deleted, so its id stays valid;
 * each id is checked to be a project when the key is made.
 *
 * NULL: every project (admin keys, unscoped viewer keys, ingest keys, whose
 * one project stays in project_id). Otherwise a viewer key, 1 to 100 ids, none
 * NULL. Keys made before this migration are unchanged: NULL.
 */
export class AddKeyProjectScope1795798800000 implements MigrationInterface {
  name = 'AddKeyProjectScope1795798800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN project_ids uuid[]`);
    await q.query(`
      ALTER TABLE api_keys ADD CONSTRAINT api_keys_project_ids_check CHECK (
        project_ids IS NULL
        OR (role = 'viewer' AND cardinality(project_ids) BETWEEN 1 AND 100 AND array_position(project_ids, NULL) IS NULL)
      )`);
  }

  /** Back to keys without scopes: a scoped key would read every project, so scoped keys are revoked first. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE api_keys SET revoked_at = now() WHERE project_ids IS NOT NULL AND revoked_at IS NULL`);
    await q.query(`ALTER TABLE api_keys DROP CONSTRAINT api_keys_project_ids_check`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN project_ids`);
  }
}
