import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startTestApp } from '../support/app';
import { createEmbeddedTestDatabase } from '../support/database';
import { projectWithIngestKey, usageEvent } from '../support/factories';

/** The embedded PostgreSQL (PGlite) runs whatever DATABASE_URL says for the other tests. */
describe('embedded PostgreSQL under DATA_DIR', () => {
  const database = createEmbeddedTestDatabase();
  const dir = database.env.DATA_DIR!;
  afterAll(() => database.drop());

  it('keeps events across a restart', async () => {
    const first = await startTestApp({}, database);
    expect((await first.http.get('/health')).body).toMatchObject({ status: 'ok', database: 'embedded' });
    const project = await projectWithIngestKey(first.http);
    const event = usageEvent();
    expect((await project.client.post('/v1/events', event)).body.accepted).toBe(1);
    await first.close();
    expect(fs.existsSync(path.join(dir, 'tokentally.lock'))).toBe(false);

    const second = await startTestApp({}, database);
    try {
      const listed = await second.http.get(`/v1/events?project=${project.projectId}`);
      expect(listed.body.data.map((e: { event_id: string }) => e.event_id)).toEqual([event.event_id]);
      expect((await second.http.as(project.key).post('/v1/events', event)).body.duplicates).toBe(1);
    } finally {
      await second.close();
    }
  });

  describe('a folder another process holds', () => {
    let holder: ChildProcess;
    beforeAll(() => {
      holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      fs.writeFileSync(path.join(dir, 'tokentally.lock'), String(holder.pid));
    });
    afterAll(() => {
      holder.kill();
      fs.rmSync(path.join(dir, 'tokentally.lock'), { force: true });
    });

    it('is refused with a message that says so', async () => {
      await expect(startTestApp({}, database)).rejects.toThrow(
        new RegExp(`folder .* is in use by another TokenTally process \\(pid ${holder.pid}\\)`),
      );
      expect(fs.readFileSync(path.join(dir, 'tokentally.lock'), 'utf8')).toBe(String(holder.pid));
    });
  });

  it('takes over a lock left by a process that is gone', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    fs.writeFileSync(path.join(dir, 'tokentally.lock'), String(gone.pid));
    const t = await startTestApp({}, database);
    try {
      expect(fs.readFileSync(path.join(dir, 'tokentally.lock'), 'utf8')).toBe(String(process.pid));
    } finally {
      await t.close();
    }
  });
});
