import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import Keyv from 'keyv';
import { KeyvFile } from 'keyv-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelSettingsStore, type ChannelSettings } from '../../src/bot/settings/channel-settings.ts';
import { openStoreBackend, StoreError } from '../../src/bot/settings/stores.ts';

describe('SQLite store (data/imagine.db)', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'imagine-sqlite-'));
  });
  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('moves a damaged database aside, keeps its bytes, and refuses to open', () => {
    const damaged = Buffer.from('this is not an SQLite database, but it was once a moderator setting '.repeat(100));
    writeFileSync(path.join(folder, 'imagine.db'), damaged);

    let thrown: unknown;
    try {
      openStoreBackend(folder);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    const message = (thrown as Error).message;
    expect(message).not.toContain('\n');
    const aside = readdirSync(folder).filter((name) => name.startsWith('imagine.db.damaged-'));
    expect(aside).toHaveLength(1);
    expect(message).toContain(aside[0]);
    expect(readFileSync(path.join(folder, aside[0]!))).toEqual(damaged);
    expect(existsSync(path.join(folder, 'imagine.db'))).toBe(false);
  });

  it('says clearly when the data folder cannot be written', () => {
    // A file where the folder should be: refused even for root, unlike a chmod.
    const blocked = path.join(folder, 'not-a-folder');
    writeFileSync(blocked, '');
    expect(() => openStoreBackend(path.join(blocked, 'data'))).toThrow(/^the data folder .*not-a-folder\/data is not writable \(ENOTDIR\); set IMAGINE_STORE_URL/);
  });

  it('settings reads fail closed: an unreadable table rejects, never answers the defaults', async () => {
    const backend = openStoreBackend(folder);
    const settings = new ChannelSettingsStore(backend.open<ChannelSettings>('settings'));
    await settings.update('c1', { enabled: false, bannedWords: [] });
    expect((await settings.get('c1')).enabled).toBe(false);

    const other = new Database(path.join(folder, 'imagine.db'));
    other.exec('DROP TABLE kv');
    other.close();

    await expect(settings.get('c1')).rejects.toBeInstanceOf(StoreError);
    await expect(settings.update('c1', { enabled: true })).rejects.toBeInstanceOf(StoreError);
    await backend.close();
  });

  it('expired entries read as absent', async () => {
    let now = 1_000_000;
    const { openSqliteBackend } = await import('../../src/bot/settings/sqlite-store.ts');
    const backend = openSqliteBackend(folder, () => now);
    const store = backend.open<string>('results');
    await store.set('m1', 'kept', 1000);
    await store.set('m2', 'forever');
    now += 1001;
    expect(await store.get('m1')).toBeUndefined();
    expect(await store.get('m2')).toBe('forever');
    await backend.close();
  });

  it('imports settings and results from an earlier version’s keyv-file JSON once, and keeps the files', async () => {
    for (const namespace of ['settings', 'results']) {
      const keyv = new Keyv({ store: new KeyvFile({ filename: path.join(folder, `${namespace}.json`), writeDelay: 0 }), namespace });
      await keyv.set('k1', { enabled: false, bannedWords: ['gore'], namespace });
      await keyv.set('old', { gone: true }, 1);
      await keyv.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the 1 ms entry expire (keyv-file stores the instant)
    // keyv-file writes lazily; its last write is on disk once the files hold both keys.
    for (const namespace of ['settings', 'results']) {
      expect(readFileSync(path.join(folder, `${namespace}.json`), 'utf8')).toContain(`${namespace}:k1`);
    }

    const backend = openStoreBackend(folder);
    expect(await backend.open('settings').get('k1')).toEqual({ enabled: false, bannedWords: ['gore'], namespace: 'settings' });
    expect(await backend.open('results').get('k1')).toEqual({ enabled: false, bannedWords: ['gore'], namespace: 'results' });
    expect(await backend.open('settings').get('old')).toBeUndefined();
    await backend.close();
    expect(existsSync(path.join(folder, 'settings.json'))).toBe(false);
    expect(existsSync(path.join(folder, 'settings.json.imported'))).toBe(true);
  });

  it('refuses to start over a legacy file it cannot read, rather than drop it', () => {
    writeFileSync(path.join(folder, 'settings.json'), '{"cache": [[ truncated');
    expect(() => openStoreBackend(folder)).toThrow(StoreError);
    expect(readFileSync(path.join(folder, 'settings.json'), 'utf8')).toBe('{"cache": [[ truncated');
  });
});
