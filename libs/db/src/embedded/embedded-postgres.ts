import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { lockDataDir } from './data-dir-lock';

export interface EmbeddedPostgres {
  host: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite (real PostgreSQL compiled to WASM) in a worker thread, with its
 * files under `dir`, and a loopback socket server in front of it.
 */
export async function startEmbeddedPostgres(dir: string): Promise<EmbeddedPostgres> {
  const absolute = path.resolve(dir);
  fs.mkdirSync(absolute, { recursive: true });
  const unlock = lockDataDir(absolute);
  const worker = new Worker(path.join(__dirname, 'pglite-worker.js'), {
    workerData: { dir: path.join(absolute, 'pgdata') },
  });
  try {
    const { host, port } = await new Promise<{ host: string; port: number }>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited with code ${code} while starting`)));
      worker.once('message', (message: { type: string; host: string; port: number; message?: string }) => {
        if (message.type === 'ready') resolve(message);
        else reject(new Error(`embedded PostgreSQL failed to start: ${message.message}`));
      });
    });
    worker.removeAllListeners('exit');
    worker.removeAllListeners('error');
    let stopped: Promise<void> | null = null;
    return {
      host,
      port,
      dir: absolute,
      stop: () =>
        (stopped ??= (async () => {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 10_000);
            worker.once('message', () => {
              clearTimeout(timer);
              resolve();
            });
            worker.postMessage({ type: 'stop' });
          });
          await worker.terminate();
          unlock();
        })()),
    };
  } catch (error) {
    await worker.terminate();
    unlock();
    throw error;
  }
}
