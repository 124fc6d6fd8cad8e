import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DataDirInUseError,
  LOCK_FILE,
  LOCK_OWNER_FILE,
  LOCK_STALE_AFTER_MS,
  lockDataDir,
  LockOwner,
  processStartTime,
  processState,
} from './data-dir-lock';

describe('the embedded data-folder lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tt-lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function plant(owner: Partial<LockOwner> & { pid: number }) {
    fs.writeFileSync(path.join(dir, LOCK_FILE), String(owner.pid));
    fs.writeFileSync(
      path.join(dir, LOCK_OWNER_FILE),
      JSON.stringify({
        start_time: processStartTime(owner.pid),
        token: 'someone-else',
        hostname: os.hostname(),
        heartbeat_at: new Date().toISOString(),
        ...owner,
      }),
    );
  }
  const ownerOnDisk = () => JSON.parse(fs.readFileSync(path.join(dir, LOCK_OWNER_FILE), 'utf8')) as LockOwner;

  it('takes over a lock that claims our own pid with another token (pid reused after kill -9, pid 1 in a container)', () => {
    plant({ pid: process.pid, token: 'a-previous-process' });
    const unlock = lockDataDir(dir);
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe(String(process.pid));
    expect(ownerOnDisk().token).not.toBe('a-previous-process');
    unlock();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    expect(fs.existsSync(path.join(dir, LOCK_OWNER_FILE))).toBe(false);
  });

  it('takes over a bare-pid lock naming our own pid (left by an older version of a previous process)', () => {
    fs.writeFileSync(path.join(dir, LOCK_FILE), String(process.pid));
    lockDataDir(dir)();
  });

  it('refuses a second lock of the same folder by the same process', () => {
    const unlock = lockDataDir(dir);
    try {
      expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    } finally {
      unlock();
    }
  });

  it('takes over a lock held by a process killed with -9 and not yet reaped (a zombie)', async () => {
    // `sleep 0` exits at once; its parent execs `sleep 5`, which never reaps it: a zombie for 5 s.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(
        (await new Promise<Buffer>((resolve) => parent.stdout!.once('data', resolve))).toString().trim(),
      );
      for (let i = 0; i < 50 && processState(zombie) !== 'Z'; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(processState(zombie)).toBe('Z');
      plant({ pid: zombie });
      lockDataDir(dir)();
    } finally {
      parent.kill();
    }
  });

  describe('with another live process', () => {
    let other: ChildProcess;
    beforeAll(async () => {
      other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      await new Promise((resolve) => other.once('spawn', resolve));
    });
    afterAll(() => other.kill());

    it('refuses a lock held by a live other process', () => {
      plant({ pid: other.pid! });
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by another TokenTally process \\(pid ${other.pid}\\)`));
      expect(ownerOnDisk().token).toBe('someone-else');
    });

    it('refuses a bare-pid lock of a live other process', () => {
      fs.writeFileSync(path.join(dir, LOCK_FILE), String(other.pid));
      expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    });

    it('takes over when the live process with that pid started at another time (the pid went to another program)', () => {
      if (processStartTime(process.pid) === null) return; // no /proc here
      plant({ pid: other.pid!, start_time: '1' });
      lockDataDir(dir)();
    });
  });

  it('takes over a lock whose process is gone', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    plant({ pid: gone.pid!, start_time: '12345' });
    lockDataDir(dir)();
  });

  it('judges a lock from another host by its heartbeat', () => {
    plant({ pid: 4242, hostname: 'elsewhere', heartbeat_at: new Date().toISOString() });
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    plant({
      pid: 4242,
      hostname: 'elsewhere',
      heartbeat_at: new Date(Date.now() - LOCK_STALE_AFTER_MS - 1000).toISOString(),
    });
    lockDataDir(dir)();
  });
});
