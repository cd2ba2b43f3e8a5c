import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelSettingsStore, type ChannelSettings } from '../../src/bot/settings/channel-settings.ts';
import { openStoreBackend } from '../../src/bot/settings/stores.ts';

// .ci/run installs redis-server; on a machine without it this file reports as skipped, not passed.
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

describe.skipIf(!hasRedis)('Redis store (IMAGINE_STORE_URL=redis://…)', () => {
  let redis: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      redis.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      redis.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
  });
  afterAll(() => {
    redis?.kill();
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
});
