import { MigrationInterface, QueryRunner } from 'typeorm';

/** Secrets of the service itself (the key that signs shareable chart links), shared by every replica. */
export class AddServerSecrets1795788000000 implements MigrationInterface {
  name = 'AddServerSecrets1795788000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE server_secrets (
        name text PRIMARY KEY,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE server_secrets`);
  }
}
