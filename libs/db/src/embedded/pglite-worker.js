// Runs the embedded PostgreSQL (PGlite) off the main thread so that its
// statements never stall HTTP, and serves it on a loopback port so the app
// reaches it through the same `pg` driver as a real PostgreSQL.
// Plain JavaScript: worker threads load it as is, from source or from dist.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');

async function main() {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(workerData.dir);
  // One connection only: every socket connection shares PGlite's one session.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const [host, port] = server.getServerConn().split(':');
  parentPort.on('message', async (message) => {
    if (message && message.type === 'stop') {
      try {
        await server.stop();
        await db.close();
      } finally {
        parentPort.postMessage({ type: 'stopped' });
      }
    }
  });
  parentPort.postMessage({ type: 'ready', host, port: Number(port) });
}

main().catch((error) => {
  parentPort.postMessage({ type: 'error', message: error && error.stack ? error.stack : String(error) });
});
