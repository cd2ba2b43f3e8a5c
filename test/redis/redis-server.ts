import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A private redis-server for one test file: a free loopback port, a temp folder, AOF on with an
 * fsync per write (so even `kill -9` loses nothing). Throws, never skips, when the binary is missing:
 * a test that needs Redis must fail in an environment without it.
 */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Running right now. */
  readonly up: boolean;
  /** Ends the server with SIGKILL (no shutdown save): what survives is only what the AOF already holds. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder, from its AOF. */
  start(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
}

export function requireRedisServer(): void {
  const probe = spawnSync('redis-server', ['--version']);
  if (probe.error || probe.status !== 0) {
    throw new Error('redis-server is not installed: these tests need it (Debian: apt-get install redis-server; CI installs it in .ci/run)');
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
  });
}

export async function startRedis(): Promise<TestRedis> {
  requireRedisServer();
  const dir = await mkdtemp(path.join(tmpdir(), 'imagine-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port, dir);

  const kill = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.kill('SIGKILL');
    await exited;
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get up() {
      return child !== undefined;
    },
    kill,
    async start() {
      if (child) return;
      child = await launch(port, dir);
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
