import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export class DataDirInUseError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `The embedded database folder ${dir} is in use by another TokenTally process (pid ${pid}). ` +
        `Stop that process, or set DATA_DIR to another folder, or DATABASE_URL to a PostgreSQL server.`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** The lock itself: created exclusively, holds the owner's pid (readable by people and old versions). */
export const LOCK_FILE = 'tokentally.lock';
/** Who the owner is, beyond a pid that the OS may give to someone else: see LockOwner. */
export const LOCK_OWNER_FILE = 'tokentally.lock.json';
/** The owner rewrites its owner file this often... */
export const LOCK_HEARTBEAT_MS = 5_000;
/** ...so a lock whose owner cannot be checked (another host) is stale after this long without one. */
export const LOCK_STALE_AFTER_MS = 30_000;

export interface LockOwner {
  pid: number;
  /** Start time of `pid` (field 22 of /proc/<pid>/stat, clock ticks since boot); null where there is no /proc. */
  start_time: string | null;
  /** Random, per lock: tells this process's own live lock from one a previous process with the same pid left. */
  token: string;
  hostname: string;
  heartbeat_at: string;
}

/** Locks this process holds now, by token (so the same process never opens a folder twice). */
const heldTokens = new Set<string>();

/** Start time of a process, or null when it cannot be read (no such process, or no /proc). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall; fields[0] is field 3
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A process killed with -9 stays a zombie (state Z, or X) until its parent reaps it: it holds nothing.
  return !['Z', 'X'].includes(processState(pid) ?? '');
}

/** The state letter of a process (field 3 of /proc/<pid>/stat: R, S, D, Z...), or null without /proc. */
export function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

function readOwner(dir: string, pid: number): LockOwner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(path.join(dir, LOCK_OWNER_FILE), 'utf8')) as LockOwner;
    return owner && owner.pid === pid && typeof owner.token === 'string' ? owner : null;
  } catch {
    return null;
  }
}

/**
 * Why a lock found on disk still stands (a live owner), or null when it is
 * stale and may be taken over. A pid alone is not an identity: after a
 * `kill -9`, the next process may get the same pid (node is pid 1 in a
 * container), or another program may have it.
 */
export function liveOwnerOf(dir: string, pid: number, now = Date.now()): LockOwner | { pid: number } | null {
  if (!Number.isInteger(pid) || pid <= 0) return null; // unreadable: left half-written by a crash
  const owner = readOwner(dir, pid);
  if (owner && owner.hostname !== os.hostname()) {
    // Another machine (a shared volume): its processes cannot be checked, its heartbeat can.
    return now - Date.parse(owner.heartbeat_at) < LOCK_STALE_AFTER_MS ? owner : null;
  }
  if (pid === process.pid) {
    // Our pid: it is ours only if this process took it and still holds it.
    return owner && heldTokens.has(owner.token) ? owner : null;
  }
  if (!isAlive(pid)) return null;
  if (owner?.start_time) {
    const startTime = processStartTime(pid);
    if (startTime !== null && startTime !== owner.start_time) return null; // the pid went to another process
  }
  if (!owner) {
    // No owner file: written by an older version, or by a process that is between creating
    // the lock and describing itself. A live pid keeps it.
    return { pid };
  }
  // no /proc: heartbeat
  if (owner.start_time === null && now - Date.parse(owner.heartbeat_at) >= LOCK_STALE_AFTER_MS) return null;
  return owner;
}

function writeOwner(dir: string, owner: LockOwner): void {
  const temporary = path.join(dir, `${LOCK_OWNER_FILE}.${owner.token}.tmp`);
  fs.writeFileSync(temporary, JSON.stringify(owner));
  fs.renameSync(temporary, path.join(dir, LOCK_OWNER_FILE));
}

/**
 * An exclusive lock on the data folder: PGlite itself would let two processes
 * open the same files and corrupt them. The lock file is created exclusively;
 * beside it the owner records its pid, its start time, a random token, the
 * host name and a heartbeat. A lock whose owner is gone, whose pid now belongs
 * to another process, or that names this very process without being held by it
 * is taken over. Returns the function that releases it.
 */
export function lockDataDir(dir: string): () => void {
  const lockPath = path.join(dir, LOCK_FILE);
  const token = randomBytes(12).toString('hex');
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      try {
        fs.writeSync(fd, String(process.pid));
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let content: string;
      try {
        content = fs.readFileSync(lockPath, 'utf8');
      } catch (readError) {
        if ((readError as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw readError;
      }
      const pid = Number(content.trim());
      const owner = liveOwnerOf(dir, pid);
      if (owner) throw new DataDirInUseError(dir, owner.pid);
      takeOverStale(dir, lockPath, content, token);
      continue;
    }
    const owner: LockOwner = {
      pid: process.pid,
      start_time: processStartTime(process.pid),
      token,
      hostname: os.hostname(),
      heartbeat_at: new Date().toISOString(),
    };
    heldTokens.add(token);
    writeOwner(dir, owner);
    const heartbeat = setInterval(() => {
      try {
        writeOwner(dir, { ...owner, heartbeat_at: new Date().toISOString() });
      } catch {
        // the folder went away: nothing left to protect
      }
    }, LOCK_HEARTBEAT_MS);
    heartbeat.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      heldTokens.delete(token);
      fs.rmSync(path.join(dir, LOCK_OWNER_FILE), { force: true });
      fs.rmSync(lockPath, { force: true });
    };
  }
  throw new Error(`could not lock ${lockPath}`);
}

/**
 * Removes a stale lock without removing a fresh one that another process took
 * in the meantime: the lock is moved aside (atomic), and put back if what was
 * moved is not the lock that was judged stale.
 */
function takeOverStale(dir: string, lockPath: string, staleContent: string, token: string): void {
  const aside = path.join(dir, `${LOCK_FILE}.${token}.stale`);
  try {
    fs.renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = fs.readFileSync(aside, 'utf8');
  if (moved !== staleContent) {
    try {
      fs.linkSync(aside, lockPath); // fails if yet another lock exists: then that one stands
    } catch {
      // leave it
    }
  } else {
    fs.rmSync(path.join(dir, LOCK_OWNER_FILE), { force: true });
  }
  fs.rmSync(aside, { force: true });
}
