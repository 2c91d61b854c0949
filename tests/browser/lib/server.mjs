// Starts the real wahub binary on a free loopback port with a throwaway database.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { binaryPath, outDir } from './paths.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(base, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wahub exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`wahub did not answer /healthz with 200 within ${timeoutMs} ms (${last})`);
}

/**
 * @param {{ env?: Record<string,string>, name?: string }} [opts]
 * @returns {Promise<{ base: string, port: number, dir: string, stop: () => Promise<void> }>}
 */
export async function startServer(opts = {}) {
  if (process.env.E2E_BASE_URL) {
    // Development only: drive a server that is already running.
    const base = process.env.E2E_BASE_URL.replace(/\/+$/, '');
    return { base, port: Number(new URL(base).port), dir: '', logPath: '', stop: async () => {} };
  }
  if (!existsSync(binaryPath)) {
    throw new Error(`${binaryPath} not found: run \`cargo build -p wahub\` first (or set WAHUB_BIN)`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wahub-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // The server refuses unknown WAHUB_* settings, so none are inherited.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WAHUB_')));
  Object.assign(env, {
    WAHUB_BIND: `127.0.0.1:${port}`,
    WAHUB_DATABASE_URL: `sqlite://${dir}/e2e.db?mode=rwc`,
    WAHUB_DATA_DIR: dir,
    WAHUB_SIM_PAIR_DELAY_MS: '200',
    // Webhook receivers in these tests listen on 127.0.0.1.
    WAHUB_ALLOW_PRIVATE_TARGETS: 'true',
    ...(opts.env ?? {}),
  });
  mkdirSync(outDir, { recursive: true });
  const logPath = path.join(outDir, `server-${opts.name ?? port}.log`);
  const log = createWriteStream(logPath);
  let child = null;

  const launch = async () => {
    child = spawn(binaryPath, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    try {
      await waitHealthy(base, child, 30_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${err.message}; server log: ${logPath}`);
    }
  };

  const halt = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    base,
    port,
    dir,
    logPath,
    /** Stops the process but keeps its database. */
    halt,
    /** Starts it again on the same port with the same database. */
    resume: launch,
    stop: async () => {
      await halt();
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
