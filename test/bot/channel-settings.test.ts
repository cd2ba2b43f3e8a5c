import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelSettingsStore, type ChannelSettings } from '../../src/bot/settings/channel-settings.ts';
import { ResultStore, type ResultRecord } from '../../src/bot/results/result-store.ts';
import { openStoreBackend, storeFolder } from '../../src/bot/settings/stores.ts';

describe('file-backed stores', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'imagine-store-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('channel settings survive closing and re-opening the store', async () => {
    const first = openStoreBackend(folder);
    const settings = new ChannelSettingsStore(first.open<ChannelSettings>('settings'));
    await settings.update('c1', { steps: 12, bannedWords: ['gore'], enabled: false });
    await settings.update('c2', { maxCount: 2 });
    await settings.reset('c2', 'maxCount');
    await first.close();

    const second = openStoreBackend(`file://${folder}`);
    const reopened = new ChannelSettingsStore(second.open<ChannelSettings>('settings'));
    expect(await reopened.get('c1')).toEqual({ enabled: false, steps: 12, bannedWords: ['gore'] });
    expect(await reopened.get('c2')).toEqual({ enabled: true, bannedWords: [] });
    expect(await reopened.get('unknown')).toEqual({ enabled: true, bannedWords: [] });
    await second.close();
  });

  it('flush waits for writes that were not awaited', async () => {
    const backend = openStoreBackend(folder);
    const results = new ResultStore(backend.open<ResultRecord>('results'));
    const record: ResultRecord = {
      jobId: 'j1',
      ownerId: 'u1',
      guildId: 'g1',
      channelId: 'c1',
      messageId: 'm1',
      request: { prompt: 'p', negativePrompt: '', seed: 1, steps: 2, guidance: 3, scheduler: 'ddim', width: 64, height: 64, count: 1 },
      model: 'tiny',
      createdAt: 0,
    };
    void results.save(record);
    await backend.flush();
    const reopened = openStoreBackend(folder);
    expect(await new ResultStore(reopened.open<ResultRecord>('results')).get('m1')).toEqual(record);
    await Promise.all([backend.close(), reopened.close()]);
  });

  it('tolerates stored data from an older version', async () => {
    const backend = openStoreBackend(folder);
    const raw = backend.open<Record<string, unknown>>('settings');
    await raw.set('c1', { enabled: 'yes', steps: 'many', scheduler: 'gone', bannedWords: ['x'] });
    const settings = new ChannelSettingsStore(backend.open<ChannelSettings>('settings'));
    expect(await settings.get('c1')).toEqual({ enabled: true, bannedWords: ['x'] });
    await backend.close();
  });

  it('understands file URLs and plain folders', () => {
    expect(storeFolder('file:///var/lib/imagine')).toBe('/var/lib/imagine');
    expect(storeFolder('file:data')).toBe('data');
    expect(storeFolder('data/store')).toBe('data/store');
  });
});
