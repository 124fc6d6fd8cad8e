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
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' }))
    if (v !== undefined) childEnv[k] = v;
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  const child = spawn(
    process.execPath,
    ['-r', path.join(root, 'test/support/ts-register.js'), path.join(root, 'apps/api/src/main.ts')],
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
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running) throw new Error(`service exited while starting:\n${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not answer /health within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
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
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  const child = spawn(
    process.execPath,
    ['-r', path.join(root, 'test/support/ts-register.js'), path.join(root, 'apps/worker/src/main.ts')],
    { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running) throw new Error(`worker exited while starting:\n${output}`);
    if (output.includes('TokenTally worker started') && (!ready || (await ready()))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker was not ready within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
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
}
