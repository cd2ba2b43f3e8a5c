import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelSettingsStore, type ChannelSettings } from '../../src/bot/settings/channel-settings.ts';
import { openStoreBackend, StoreError } from '../../src/bot/settings/stores.ts';

// .ci/run installs redis-server. Without it these tests fail (a missing service is not a pass).
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function startRedis(port: number): Promise<ChildProcess> {
  if (!hasRedis) throw new Error('redis-server is not installed: these tests need it (apt-get install redis-server)');
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    redis.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve(redis);
    });
    redis.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
  });
}

function stopRedis(redis: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (redis.exitCode !== null || redis.signalCode !== null) return resolve();
    redis.once('exit', () => resolve());
    redis.kill('SIGKILL');
  });
}

describe('Redis store (IMAGINE_STORE_URL=redis://…)', () => {
  let redis: ChildProcess;
  let port: number;
  let url: string;
  beforeAll(async () => {
    port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = await startRedis(port);
  });
  afterAll(async () => {
    if (redis) await stopRedis(redis);
  });

  it('channel settings survive closing and re-opening the store', async () => {
    const first = openStoreBackend(url);
    expect(first.description).toBe('redis');
    const settings = new ChannelSettingsStore(first.open<ChannelSettings>('settings'));
    await settings.update('c1', { steps: 12, bannedWords: ['gore'], enabled: false });
    await first.close();

    const second = openStoreBackend(url);
    const reopened = new ChannelSettingsStore(second.open<ChannelSettings>('settings'));
    expect(await reopened.get('c1')).toEqual({ enabled: false, steps: 12, bannedWords: ['gore'] });
    expect(await reopened.get('unknown')).toEqual({ enabled: true, bannedWords: [] });
    await second.close();
  });

  it('fails closed while Redis is away (reads reject at once, the process lives) and works again when it is back', async () => {
    const connectionErrors: unknown[] = [];
    const backend = openStoreBackend(url, { onConnectionError: (error) => connectionErrors.push(error) });
    const settings = new ChannelSettingsStore(backend.open<ChannelSettings>('settings'));
    await settings.update('c2', { enabled: false, bannedWords: [] });

    await stopRedis(redis);
    await expect(settings.get('c2')).rejects.toBeInstanceOf(StoreError);
    await expect(settings.update('c2', { enabled: true })).rejects.toThrow();
    expect(connectionErrors.length).toBeGreaterThan(0);

    redis = await startRedis(port);
    // The client reconnects by itself (back-off up to 5 s); the data was not persisted, so the
    // channel reads as new, which is what this Redis now holds.
    let settled: ChannelSettings | undefined;
    for (let tries = 0; settled === undefined && tries < 100; tries++) {
      settled = await settings.get('c2').catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return undefined;
      });
    }
    expect(settled).toEqual({ enabled: true, bannedWords: [] });
    await settings.update('c2', { enabled: false });
    expect((await settings.get('c2')).enabled).toBe(false);
    await backend.close();
  });
});
