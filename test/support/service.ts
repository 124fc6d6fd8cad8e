import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/**
 * The real api as a separate process (`node apps/api/src/main.ts` through a
 * transpile-only require hook, so no build is needed), for tests that kill it
 * or break its database under it.
 */
export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code or signal when it exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startService(
  env: Record<string, string | undefined>,
  { timeoutMs = 45_000 } = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawned = spawnApp('apps/api/src/main.ts', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  await spawned.until('service', timeoutMs, async () => {
    try {
      return (await fetch(`${url}/health`)).ok;
    } catch {
      return false; // not listening yet
    }
  });
  return { url, ...spawned.process };
}

/**
 * The real worker (`apps/worker/src/main.ts`, the jobs alone, no HTTP port) as
 * a separate process, the same way. It is ready when it says it started, or
 * when `ready` says so (for example: its LISTEN session is on).
 */
export async function startWorker(
  env: Record<string, string | undefined>,
  { timeoutMs = 45_000, ready }: { timeoutMs?: number; ready?: () => Promise<boolean> } = {},
): Promise<Omit<ServiceProcess, 'url'>> {
  const spawned = spawnApp('apps/worker/src/main.ts', env);
  await spawned.until(
    'worker',
    timeoutMs,
    async () => spawned.process.output().includes('TokenTally worker started') && (!ready || (await ready())),
  );
  return spawned.process;
}

/** Starts `entry` through the transpile-only hook with `env` over this process's (DATABASE_URL only when given). */
function spawnApp(entry: string, env: Record<string, string | undefined>) {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  const child = spawn(
    process.execPath,
    ['-r', path.join(root, 'test/support/ts-register.js'), path.join(root, entry)],
    {
      cwd: root,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    }),
  );
  const process_: Omit<ServiceProcess, 'url'> = {
    child,
    output: () => output,
    exited,
    alive: () => running,
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (!running) return;
      child.kill(signal);
      await exited;
    },
  };
  /** Polls `isReady` until it answers true; fails when the process exits or the time is up. */
  const until = async (what: string, timeoutMs: number, isReady: () => Promise<boolean>) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!running) throw new Error(`${what} exited while starting:\n${output}`);
      if (await isReady()) return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${what} was not ready within ${timeoutMs} ms:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { process: process_, until };
}
